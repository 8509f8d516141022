"""Real-cell mode of the serial runner (``runner = "serial:PORT"``, ``board_mode = "real-cell"``).

The board runs the firmware against its real ``machine`` and ``time``: its ADC reads the real
cell, its pins drive the real loads, it sleeps in real time. The agent (``agent/realcell_api.py``)
reports every pin switch, ADC reading and sleep with the board's clock, and this component replays
them on the simulated node in step with the board: the simulated loads switch when the real ones
do, the MCU load follows the real sleeps, and each real ADC reading is set beside the simulated
voltage at the same moment. The run then answers "does the model of my cell predict what the
real cell did under the same firmware decisions?" (summary ``real_vs_sim_rms_V`` and
``real_vs_sim_max_abs_V``; trace columns ``real_<adc>_V``: the real reading referred back through
the divider).
"""
from __future__ import annotations

import math
import re
import weakref

from sysim.engine.component import Component
from sysim.engine.simulation import StopRun

from .channels import ChannelError, ChannelTimeout
from .mcu import McuLoad
from .protocol import PROTOCOL, ProtocolError, config_line, shown, unescape
from .runner import firmware_traceback

_LINE = re.compile(r"(?P<k>[PRUSDBE])(?: (?P<rest>.*))? (?P<t>[0-9]{1,15})\Z")
_STATES = {"b": "active", "l": "sleep", "i": "sleep"}
_US = 1_000_000
#: the longest sleep a board may announce (ms): ten years
_MAX_MS = 10 * 365 * 86400 * 1000


def _bounded(text: str, low: int, high: int) -> int:
    """``text`` as an integer within [low, high]; ValueError otherwise (no huge ints reach float())."""
    if not re.fullmatch(r"-?[0-9]{1,20}", text):
        raise ValueError(f"not an integer: {text[:40]!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return value


class RealCellRunner(Component):
    kind = "load"

    def __init__(self, name: str, channel, mcu: McuLoad, adcs: list, pins: dict, wall_timeout_s: float,
                 runner_name: str):
        self.name, self.channel, self.mcu, self.adcs, self.pins = name, channel, mcu, list(adcs), dict(pins)
        self.adc_by_name = {a.name: a for a in self.adcs}
        self.wall_timeout_s, self.runner_name = wall_timeout_s, runner_name
        self.levels = dict.fromkeys(self.pins, 0)
        self.real = {a.name: math.nan for a in self.adcs}
        self.readings: list[tuple[float, str, float, float]] = []  # t, adc, real cell V, simulated V
        self.timeline: list = []
        self.boots = self.wakes = self.exceptions = 0
        self.error = None
        self.sim = None
        self._closed = False
        self._allowance = wall_timeout_s
        weakref.finalize(self, channel.close)

    def start(self, sim) -> None:
        self.sim = sim
        for load in self.pins.values():
            load.enabled = False
        self.channel.open()
        try:
            hello = self.channel.receive(self.wall_timeout_s + 10.0)
        except ChannelTimeout:
            raise ChannelError(f"the board at {self.channel.port} did not start the agent") from None
        if not hello.startswith(f"H sysim-agent {PROTOCOL} realcell-"):
            raise ProtocolError(f"expected the real-cell agent's hello, got {shown(hello)}")
        adcs = [(a.name, a.bits, int(round(a.full_scale_V * 1e6))) for a in self.adcs]
        c = self.mcu.mcu
        self.channel.send(config_line(0, int(c.freq_hz), (int(c.freq_min_hz), int(c.freq_max_hz)), b"\0",
                                      adcs, list(self.pins)))
        sim.env.process(self._follow())

    def state_columns(self) -> list[str]:
        return [f"pin_{p}" for p in self.pins] + [f"real_{a.name}_V" for a in self.adcs]

    def state_values(self) -> list[float]:
        return [float(self.levels[p]) for p in self.pins] + [self.real[a.name] for a in self.adcs]

    def summary(self) -> dict:
        self.close()
        diffs = [r - s for _, _, r, s in self.readings]
        times = self.mcu.close_books(self.sim.now if self.sim else 0.0)
        return {"firmware_runner": f"{self.runner_name} (real cell)", "firmware_boots": self.boots,
                "firmware_wakes": self.wakes, "firmware_exceptions": self.exceptions, "firmware_error": self.error,
                "real_cell_readings": len(diffs),
                "real_vs_sim_rms_V": math.sqrt(math.fsum(d * d for d in diffs) / len(diffs)) if diffs else None,
                "real_vs_sim_max_abs_V": max(abs(d) for d in diffs) if diffs else None,
                **{f"mcu_{s}_s": v for s, v in times.items()}}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.channel.close()

    # --- following the board ----------------------------------------------------------------------
    def _record(self, kind, detail=None):
        self.timeline.append((self.sim.now, kind, detail))

    def _fail(self, reason: str):
        self.error = f"firmware stopped at t = {self.sim.now:.9g} s: {reason}"
        self.sim.log(self.name, self.error)
        self.close()
        raise StopRun(self.error)

    def _next(self):
        try:
            line = self.channel.receive(self._allowance)
        except ChannelTimeout:
            self._fail(f"the board sent nothing for {self._allowance:g} s")
        except (ChannelError, ProtocolError) as exc:
            self._fail(str(exc))
        try:
            if line.startswith("O "):
                return "O", unescape(line[2:]), None
            if line.startswith("X "):
                return "X", firmware_traceback(unescape(line[2:])), None
        except ProtocolError as exc:  # a bad escape ("O \\xZZ") is the board's mistake, said plainly
            self._fail(f"protocol error: {exc}")
        m = _LINE.match(line)
        if m is None:
            self._fail(f"protocol error: not a real-cell message: {shown(line)}")
        return m["k"], m["rest"].split(" ") if m["rest"] else [], int(m["t"]) / _US

    def _follow(self):
        env = self.sim.env
        while True:
            kind, args, t = self._next()
            self._allowance = self.wall_timeout_s
            if t is not None and t > env.now:
                yield env.timeout(t - env.now)
            self._apply(kind, args)
            if kind in ("E", "X"):
                self.mcu.set_state(self.sim.now, "sleep")
                yield env.event()  # the script has stopped on the board; the node idles

    def _apply(self, kind, args):
        try:
            if kind == "P" and len(args) == 2 and args[0] in self.pins and args[1] in ("0", "1"):
                level = int(args[1])
                self.levels[args[0]] = level
                self.pins[args[0]].enabled = bool(level)
                self.mcu.set_state(self.sim.now, "active")
                self._record("pin", (args[0], level))
            elif kind in ("R", "U") and len(args) == 2 and args[0] in self.adc_by_name:
                # R: a 16-bit reading (read_u16); U: microvolts (read_uv), at most the 100 V no board has
                self._reading(self.adc_by_name[args[0]], kind, _bounded(args[1], 0, 65535 if kind == "R" else 10**8))
            elif kind == "S" and len(args) == 2 and args[0] in _STATES:
                ms = _bounded(args[1], -1, _MAX_MS)
                self.mcu.set_state(self.sim.now, _STATES[args[0]])
                self._allowance = self.wall_timeout_s + max(ms, 0) / 1000.0
                self.wakes += 1
                self._record("sleep", (args[0], ms))
            elif kind == "D" and len(args) == 1:
                ms = _bounded(args[0], -1, _MAX_MS)
                self.mcu.set_state(self.sim.now, "deepsleep")
                self._allowance = self.wall_timeout_s + max(ms, 0) / 1000.0
                self._record("deepsleep", ms)
            elif kind == "B" and len(args) == 1:
                cause = _bounded(args[0], 0, 255)
                self.boots += 1
                self.mcu.set_state(self.sim.now, "active")
                self._record("boot", cause)
            elif kind == "O":
                self._record("print", args)
                self.sim.log(self.name, args)
            elif kind == "X":
                self.exceptions += 1
                self._record("exception", args)
                self.sim.log(self.name, f"uncaught exception on the board at t = {self.sim.now:.9g} s:\n{args}")
            elif kind == "E":
                self._record("end")
            else:
                raise ValueError("bad fields")
        except ValueError:
            self._fail(f"protocol error: bad {kind!r} message {args!r}")

    def _reading(self, adc, kind, value):
        pin_v = value / 1e6 if kind == "U" else value / 65535.0 * adc.full_scale_V
        real = pin_v / adc.divider
        sim = self.sim
        if adc.rail is not None:
            simulated = adc.rail.voltage(sim.voltage()) if adc.rail.is_on(sim) else 0.0
        else:
            simulated = sim.voltage(adc.output)
        self.real[adc.name] = real
        self.readings.append((sim.now, adc.name, real, simulated))
        self._record("adc", (adc.name, real, simulated))
