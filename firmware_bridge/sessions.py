"""Picks the channel for the ``[firmware] runner`` key."""
from __future__ import annotations

from .channels import InProcessChannel, MicroPythonChannel


def make_channel(table, mcu_class):
    runner = table.runner
    if runner == "cpython":
        return InProcessChannel(table.script)
    if runner == "micropython":
        return MicroPythonChannel(table.script)
    from .serial_board import SerialChannel

    return SerialChannel(runner.removeprefix("serial:"), table.script, table.baudrate, table.board_mode)
