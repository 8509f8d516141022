"""The host side of the agent's line protocol (the grammar is in ``agent/kernel.py``).

Every line that comes from an agent (a thread, a MicroPython process, a board) is validated here
before the simulator uses it: one message per line, ASCII fields separated by single spaces,
integers in range, pins and frequencies the scenario declared. Anything else is a
:class:`ProtocolError` naming the offending line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PROTOCOL = 1
#: the longest line an agent may send (a traceback of a deep recursion stays well below it)
MAX_LINE_CHARS = 64 * 1024
#: RTC memory as hex (2 KiB)
MAX_MEMORY_HEX = 4096
_INT = re.compile(r"-?[0-9]{1,20}\Z")
_HEX = re.compile(r"(?:[0-9a-f]{2})+\Z")
_IDENT = re.compile(r"[A-Za-z0-9_.]{1,32}\Z")
_SLEEP_KINDS = {"b": "busy", "l": "lightsleep", "i": "idle"}


class ProtocolError(Exception):
    """An agent sent something that is not a valid message."""


@dataclass(frozen=True)
class Message:
    kind: str        # one letter, see agent/kernel.py
    args: tuple = ()


def _int(text: str, line: str, low: int | None = None, high: int | None = None) -> int:
    if not _INT.match(text):
        raise ProtocolError(f"expected an integer, got {text[:40]!r} in {shown(line)}")
    value = int(text)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ProtocolError(f"value {value} out of range in {shown(line)}")
    return value


def shown(line: str) -> str:
    return repr(line if len(line) <= 80 else line[:77] + "...")


def unescape(text: str) -> str:
    """Inverse of the agent's ``escape``: ``\\\\`` and ``\\xNN``."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if text[i + 1:i + 2] == "\\":
                out.append("\\")
                i += 2
                continue
            code = text[i + 2:i + 4]
            if text[i + 1:i + 2] == "x" and len(code) == 2 and all(c in "0123456789abcdef" for c in code):
                out.append(chr(int(code, 16)))
                i += 4
                continue
            raise ProtocolError(f"bad escape in {shown(text)}")
        out.append(ch)
        i += 1
    return "".join(out)


class Parser:
    """Validates agent lines against what the scenario declared."""

    def __init__(self, pins: set[str], freq_range: tuple[int, int]):
        self.pins = pins
        self.freq_min, self.freq_max = freq_range

    def parse(self, line: str) -> Message:
        if len(line) > MAX_LINE_CHARS:
            raise ProtocolError(f"line longer than {MAX_LINE_CHARS} characters")
        if not line:
            raise ProtocolError("empty line")
        kind, _, rest = line.partition(" ")
        f = rest.split(" ") if rest else []
        if kind == "S" and len(f) == 3 and f[0] in _SLEEP_KINDS:
            return Message("S", (f[0], _int(f[1], line, -1), _int(f[2], line, -1)))
        if kind == "P" and len(f) == 2 and f[1] in ("0", "1"):
            if f[0] not in self.pins:
                raise ProtocolError(f"pin {f[0]!r} is not declared in [firmware] pins: {shown(line)}")
            return Message("P", (f[0], int(f[1])))
        if kind == "O":
            return Message("O", (unescape(rest),))
        if kind == "A" and not f:
            return Message("A")
        if kind == "D" and len(f) == 1:
            return Message("D", (_int(f[0], line, -1),))
        if kind == "E" and len(f) == 1:
            return Message("E", (_int(f[0], line, -1),))
        if kind == "X":
            return Message("X", (unescape(rest),))
        if kind == "Z" and f in (["hard"], ["soft"]):
            return Message("Z", (f[0],))
        if kind == "T" and len(f) == 1:
            return Message("T", (_int(f[0], line),))
        if kind == "M" and len(f) == 1 and (f[0] == "-" or (_HEX.match(f[0]) and len(f[0]) <= MAX_MEMORY_HEX)):
            return Message("M", (b"" if f[0] == "-" else bytes.fromhex(f[0]),))
        if kind == "F" and len(f) == 1:
            return Message("F", (_int(f[0], line, self.freq_min, self.freq_max),))
        if kind == "H" and len(f) == 3 and f[0] == "sysim-agent":
            if _int(f[1], line) != PROTOCOL:
                raise ProtocolError(f"agent speaks protocol {f[1]}, the host speaks {PROTOCOL}")
            return Message("H", (f[2],))
        raise ProtocolError(f"not a protocol message: {shown(line)}")


def ident_ok(name: str) -> bool:
    return bool(_IDENT.match(name))


def config_line(active_ns: int, freq_hz: int, freq_range: tuple[int, int], uid: bytes,
                adcs: list[tuple[str, int, int]], pins: list[str]) -> str:
    adc = ",".join(f"{n}:{bits}:{fs}" for n, bits, fs in adcs) or "-"
    return (f"C {PROTOCOL} {active_ns} {freq_hz} {freq_range[0]} {freq_range[1]} {uid.hex()} {adc} "
            f"{','.join(pins) or '-'}")


def readings(values: list[int]) -> str:
    return ",".join(str(v) for v in values) or "-"


def boot_line(cause: int, t_ns: int, rtc_offset_ns: int, memory: bytes, values: list[int]) -> str:
    return f"B {cause} {t_ns} {rtc_offset_ns} {memory.hex() or '-'} {readings(values)}"


def wake_line(t_ns: int, values: list[int]) -> str:
    return f"W {t_ns} {readings(values)}"
