"""Picks the channel for the ``[firmware] runner`` key."""
from __future__ import annotations

from . import inprocess
from .channels import MicroPythonChannel


def make_channel(table, mcu_class):
    runner = table.runner
    if runner == "cpython":
        if inprocess.greenlet is None:
            return inprocess.ThreadChannel(table.script)
        return inprocess.InProcessChannel(table.script)
    if runner == "micropython":
        return MicroPythonChannel(table.script)
    from .serial_board import SerialChannel

    return SerialChannel(runner.removeprefix("serial:"), table.script, table.baudrate, table.board_mode)
