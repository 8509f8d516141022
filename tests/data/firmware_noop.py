import machine
machine.lightsleep(1000)
