# Adaptive duty cycling, an energy-neutral controller: the storage voltage (ADC 0 through a 1/2
# divider) is held near a set point by stretching the measurement interval when it falls and
# shortening it when it rises. Below a critical level the node deep-sleeps for long stretches;
# the interval survives deep sleep in RTC memory.
import machine
import time

V_TARGET_UV = 2_600_000       # set point of the storage voltage
V_BAND_UV = 50_000            # dead band around it
V_CRITICAL_UV = 2_300_000     # below this: deep sleep until the harvest brings it back
MIN_MS, MAX_MS = 5_000, 640_000
DIVIDER = 2                   # the ADC sees half the storage voltage

adc = machine.ADC(0)
sensor = machine.Pin(4, machine.Pin.OUT)
radio = machine.Pin(5, machine.Pin.OUT)
rtc = machine.RTC()


def load_interval():
    mem = rtc.memory()
    if machine.reset_cause() == machine.DEEPSLEEP_RESET and len(mem) == 4:
        return int.from_bytes(mem, "little")
    return 20_000


interval = load_interval()
print("boot", machine.reset_cause(), "interval", interval)
while True:
    v = adc.read_uv() * DIVIDER
    if v < V_CRITICAL_UV:
        rtc.memory(MAX_MS.to_bytes(4, "little"))
        print("critical", v)
        machine.deepsleep(1_800_000)
    sensor.on()
    time.sleep_ms(8)
    sensor.off()
    radio.on()
    time.sleep_ms(4)
    radio.off()
    if v < V_TARGET_UV - V_BAND_UV:
        interval = min(interval * 2, MAX_MS)
    elif v > V_TARGET_UV + V_BAND_UV:
        interval = max(interval // 2, MIN_MS)
    rtc.memory(interval.to_bytes(4, "little"))
    machine.lightsleep(interval)
