"""Firmware in the loop: MicroPython power-management firmware against the simulated node.

The same script runs in three places (DESIGN.md, "Firmware bridge"): in process under CPython with
an emulated ``machine``/``time`` (``runner = "cpython"``), under the real MicroPython unix
interpreter in a subprocess (``"micropython"``), and on a board over a serial port
(``"serial:/dev/ttyACM0"``). All three run the same agent code (``agent/``), which speaks a small
line protocol with :class:`firmware_bridge.runner.FirmwareRunner`, the SimPy process that turns
the firmware's sleeps into simulated time and its pin writes into loads switching.
"""
