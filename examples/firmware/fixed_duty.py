# Fixed duty cycle: every 10 s power the sensor for 8 ms, then send the reading with a 4 ms radio
# burst, and sleep. It does not look at the storage at all, so it browns out when the light goes.
import machine
import time

SENSOR = machine.Pin(4, machine.Pin.OUT)
RADIO = machine.Pin(5, machine.Pin.OUT)
INTERVAL_MS = 10_000

print("boot, reset cause", machine.reset_cause())
while True:
    SENSOR.on()
    time.sleep_ms(8)          # conversion time (busy wait at the MCU's active current)
    SENSOR.off()
    RADIO.on()
    time.sleep_ms(4)          # one short uplink
    RADIO.off()
    machine.lightsleep(INTERVAL_MS)
