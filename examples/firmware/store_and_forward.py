# Store and forward: a reading every 60 s; when energy is plentiful it is sent at once, when it is
# scarce readings are kept and sent together in one longer burst (the radio's start-up cost is
# paid once per batch), and when the store is very low nothing is sent until it recovers or the
# buffer is full. A watchdog guards the loop.
import machine
import time

V_PLENTY_UV = 2_500_000
V_LOW_UV = 2_150_000
BATCH = 8                     # readings per batch when energy is scarce
BUFFER_MAX = 32               # oldest readings are dropped beyond this
RADIO_STARTUP_MS = 3
RADIO_MS_PER_READING = 1

adc = machine.ADC(0)
sensor = machine.Pin(4, machine.Pin.OUT)
radio = machine.Pin(5, machine.Pin.OUT)
wdt = machine.WDT(timeout=120_000)
buffer = []


def send(readings):
    radio.on()
    time.sleep_ms(RADIO_STARTUP_MS + RADIO_MS_PER_READING * len(readings))
    radio.off()
    print("sent", len(readings), "at", time.ticks_ms())


while True:
    wdt.feed()
    sensor.on()
    time.sleep_ms(8)
    reading = adc.read_u16()
    sensor.off()
    buffer.append(reading)
    if len(buffer) > BUFFER_MAX:
        buffer.pop(0)
    v = adc.read_uv() * 2
    if v >= V_PLENTY_UV or (v >= V_LOW_UV and len(buffer) >= BATCH) or len(buffer) >= BUFFER_MAX:
        send(buffer)
        buffer = []
    machine.lightsleep(60_000)
