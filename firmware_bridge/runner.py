"""The firmware runner: a SimPy process that lets a MicroPython script drive the simulated node.

The firmware's code runs in an agent (a thread, a MicroPython process or a board) and its time is
simulated time. Each blocking call (``time.sleep*``, ``machine.lightsleep/deepsleep/idle``) is
one request: the runner charges the code that ran since the last wake ``active_time`` at the MCU's
active current, puts the MCU in the requested state until the requested absolute time (the engine
steps the storage exactly up to it), then answers with the time and fresh ADC readings. Pin writes,
prints and RTC changes arrive between requests and take effect at the time of the segment.

Silicon semantics kept here, not in the agent, so that they hold whatever the agent does:
brown-out stops the firmware and it boots with a power-on reset (RTC and its memory lost) when
the loads are restored; deep sleep ends the script and boots it again with ``DEEPSLEEP_RESET``;
the watchdog resets the node when its deadline passes (also in the REPL after the script
returned); an uncaught exception is logged with its simulated time and traceback and the node
resets as a watchdog would; firmware that neither sleeps nor yields within ``wall_timeout`` of
wall-clock time is reset by its watchdog if it enabled one, otherwise the run stops with a clear
error and keeps what it recorded.
"""
from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import simpy

from sysim.engine.component import Component
from sysim.engine.simulation import StopRun

from .channels import ChannelError, ChannelTimeout
from .mcu import McuLoad
from .protocol import Message, Parser, ProtocolError, boot_line, config_line, wake_line

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5
CAUSE_NAMES = {1: "PWRON_RESET", 2: "HARD_RESET", 3: "WDT_RESET", 4: "DEEPSLEEP_RESET", 5: "SOFT_RESET"}
#: the RTC of a board that lost power restarts at 2000-01-01T00:00:00 (ns since 1970)
RTC_POWER_ON_EPOCH_NS = 946_684_800 * 10**9
#: a firmware that crashes this many times in a row without completing one sleep stops the run
MAX_CRASHES_IN_A_ROW = 10
#: the timeline keeps at most this many entries (wakes, pin switches, boots...)
MAX_TIMELINE = 1_000_000
_NS = 1_000_000_000


@dataclass(frozen=True)
class AdcChannel:
    """ADC ``name`` reads ``divider ×`` a storage output (``output``) or a rail's voltage (``rail``)."""

    name: str
    divider: float
    bits: int
    full_scale_V: float
    output: str = "terminal"
    rail: object = None


def firmware_traceback(text: str) -> str:
    """A traceback without the agent's own frames (kernel, emulation, entry points): the user
    sees the firmware's lines and the error."""
    agent_dir = str(Path(__file__).parent)
    out, skipping = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith('File "'):
            name = stripped[6:].split('"', 1)[0]
            skipping = name in ("<string>", "<stdin>") or name.startswith(agent_dir)
            if skipping:
                continue
        elif skipping and line.startswith("    "):
            continue  # CPython's source line and markers under a skipped frame
        else:
            skipping = False
        out.append(line)
    return "\n".join(out) + "\n"


class FirmwareRunner(Component):
    kind = "load"  # draws nothing itself; the MCU load is a separate component

    def __init__(self, name: str, channel, mcu: McuLoad, adcs: list[AdcChannel], pins: dict[str, Component],
                 active_time_s: float, boot_time_s: float, wall_timeout_s: float, unique_id: bytes,
                 rtc_start_epoch_ns: int, runner_name: str):
        self.name = name
        self.channel = channel
        self.mcu = mcu
        self.adcs = list(adcs)
        self.pins = dict(pins)
        self.active_ns = int(round(active_time_s * _NS))
        self.boot_ns = int(round(boot_time_s * _NS))
        self.wall_timeout_s = wall_timeout_s
        self.unique_id = unique_id
        self.rtc_offset_ns = rtc_start_epoch_ns
        self.runner_name = runner_name
        c = mcu.mcu
        self.freq_range = (int(c.freq_min_hz), int(c.freq_max_hz))
        self.parser = Parser(set(self.pins), self.freq_range)
        self.levels = dict.fromkeys(self.pins, 0)
        self.memory = b""
        self.timeline: list[tuple[float, str, object]] = []
        self.boots = self.wakes = self.exceptions = self.watchdog_resets = 0
        self.crash_streak = 0
        self.error: str | None = None
        self.awaiting = False          # the agent waits for our answer to a sleep request
        self.wdt_deadline_ns = -1
        self.t_ns = 0
        self.sim = None
        self.process = None
        self._restored = None
        self._closed = False
        weakref.finalize(self, channel.close)  # no interpreter outlives a run that was never closed

    # --- engine hooks -------------------------------------------------------------------------
    def start(self, sim) -> None:
        self.sim = sim
        for load in self.pins.values():
            load.enabled = False  # pins are low at reset
        self._open_agent()
        self._never = sim.env.event()
        self.process = sim.env.process(self._life())

    def on_node_event(self, sim, event: str) -> None:
        if event == "brownout" and self.process is not None and self.process.is_alive:
            self.process.interrupt("brownout")
        elif event == "restore" and self._restored is not None and not self._restored.triggered:
            self._restored.succeed()

    def state_columns(self) -> list[str]:
        return [f"pin_{p}" for p in self.pins]

    def state_values(self) -> list[float]:
        return [float(self.levels[p]) for p in self.pins]

    def summary(self) -> dict:
        self.close()
        t = self.sim.now if self.sim is not None else 0.0
        times = self.mcu.close_books(t)
        return {"firmware_runner": self.runner_name, "firmware_boots": self.boots, "firmware_wakes": self.wakes,
                "firmware_exceptions": self.exceptions, "firmware_watchdog_resets": self.watchdog_resets,
                "firmware_error": self.error, **{f"mcu_{s}_s": v for s, v in times.items()}}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.channel.close()

    # --- the agent ------------------------------------------------------------------------------
    def _open_agent(self) -> None:
        try:
            self.channel.open()
            hello = self._receive(self.wall_timeout_s + 10.0)
        except ChannelTimeout:
            raise ChannelError(f"the {self.channel.description} agent did not start within "
                               f"{self.wall_timeout_s + 10.0:g} s{self._diagnostics()}") from None
        if hello.kind != "H":
            raise ProtocolError(f"expected the agent's hello, got a {hello.kind!r} message")
        adcs = [(a.name, a.bits, int(round(a.full_scale_V * 1e6))) for a in self.adcs]
        self.channel.send(config_line(self.active_ns, int(self.mcu.freq_hz), self.freq_range, self.unique_id,
                                      adcs, list(self.pins)))
        self.awaiting = False

    def _receive(self, timeout: float) -> Message:
        return self.parser.parse(self.channel.receive(timeout))

    def _diagnostics(self) -> str:
        text = self.channel.diagnostics()
        return f" (its output: {text})" if text else ""

    def _send(self, line: str) -> None:
        try:
            self.channel.send(line)
        except ChannelError as exc:
            self._fail(str(exc))

    def _next_blocking(self) -> Message:
        """Apply the agent's non-blocking messages until it makes a blocking one."""
        deadline = time.monotonic() + self.wall_timeout_s
        while True:
            try:
                msg = self._receive(max(deadline - time.monotonic(), 0.0))
            except ChannelTimeout:
                return Message("hang")
            except (ChannelError, ProtocolError) as exc:
                self._fail(str(exc) if isinstance(exc, ChannelError) else f"protocol error: {exc}")
            kind = msg.kind
            if kind == "P":
                self._pin(*msg.args)
            elif kind == "A":
                self._send("V " + ",".join(str(v) for v in self._adc_values()) if self.adcs else "V -")
            elif kind == "O":
                self._record("print", msg.args[0])
                self.sim.log(self.name, msg.args[0])
            elif kind == "T":
                self.rtc_offset_ns = msg.args[0]
            elif kind == "M":
                self.memory = msg.args[0]
            elif kind == "F":
                self.mcu.set_freq(msg.args[0])
            elif kind == "H":
                self._fail("protocol error: a second hello from the agent (did it restart?)")
            else:
                return msg

    def _fail(self, reason: str):
        self.error = f"firmware stopped at t = {self.sim.now:.9g} s: {reason}"
        self.sim.log(self.name, self.error)
        self._record("error", reason)
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the run stops for the reason above
            pass
        raise StopRun(self.error)

    # --- node state -----------------------------------------------------------------------------
    def _record(self, kind: str, detail=None) -> None:
        if len(self.timeline) < MAX_TIMELINE:
            self.timeline.append((self.t_ns / _NS, kind, detail))

    def _pin(self, name: str, level: int) -> None:
        if self.levels[name] != level:
            self.levels[name] = level
            self.pins[name].enabled = bool(level)
            self._record("pin", (name, level))

    def _adc_values(self) -> list[int]:
        sim, out = self.sim, []
        for a in self.adcs:
            if a.rail is not None:
                v = a.rail.voltage(sim.voltage()) if a.rail.is_on(sim) else 0.0
            else:
                v = sim.voltage(a.output)
            out.append(max(0, int(round(v * a.divider * 1e6))))
        return out

    def _all_pins_low(self) -> None:
        for name in self.pins:
            self._pin(name, 0)

    # --- time -----------------------------------------------------------------------------------
    def _wait_until(self, t_ns: float):
        """Advance simulated time to ``t_ns`` (inf: until an interrupt)."""
        env = self.sim.env
        if t_ns == math.inf:
            yield self._never
        elif t_ns > self.t_ns:
            yield env.timeout(max(t_ns / _NS - env.now, 0.0))
            self.t_ns = int(t_ns)

    def _state(self, state: str) -> None:
        self.mcu.set_state(self.sim.now, state)

    # --- the life of the node -------------------------------------------------------------------
    def _life(self):
        cause, power_lost = PWRON_RESET, False
        while True:
            try:
                if power_lost:
                    self.memory = b""
                    self.rtc_offset_ns = RTC_POWER_ON_EPOCH_NS - self.t_ns
                    power_lost = False
                cause = yield from self._run_once(cause)
            except simpy.Interrupt:
                self.t_ns = int(round(self.sim.env.now * _NS))
                self._record("brownout")
                if self.awaiting:
                    self._send("K")
                    self.awaiting = False
                self._all_pins_low()
                self._state("off")
                self._restored = self.sim.env.event()
                yield self._restored
                self._restored = None
                self.t_ns = int(round(self.sim.env.now * _NS))
                self._record("restore")
                cause, power_lost = PWRON_RESET, True

    def _run_once(self, cause: int):
        """Boot with ``cause``, run the script until it resets; returns the next reset cause."""
        self._state("active")
        self._all_pins_low()
        yield from self._wait_until(self.t_ns + self.boot_ns)
        self.boots += 1
        self.wdt_deadline_ns = -1
        self._record("boot", CAUSE_NAMES[cause])
        self._send(boot_line(cause, self.t_ns, self.rtc_offset_ns, self.memory, self._adc_values()))
        while True:
            msg = self._next_blocking()
            kind = msg.kind
            if kind == "S":
                letter, until, self.wdt_deadline_ns = msg.args
                self.awaiting = True
                fired = yield from self._sleep(letter, until)
                if fired:
                    return WDT_RESET
                self.awaiting = False
                self.crash_streak = 0
                self.wakes += 1
                self._record("wake")
                self._send(wake_line(self.t_ns, self._adc_values()))
            elif kind == "D":
                yield from self._active()
                self._record("deepsleep", msg.args[0] if msg.args[0] >= 0 else None)
                self._all_pins_low()
                self._state("deepsleep")
                yield from self._wait_until(msg.args[0] if msg.args[0] >= 0 else math.inf)
                return DEEPSLEEP_RESET
            elif kind == "X":
                return (yield from self._crashed(msg.args[0]))
            elif kind == "E":
                self.wdt_deadline_ns = msg.args[0]
                self._record("end")
                self.sim.log(self.name, "the script returned; the MCU idles in the REPL")
                self._state("sleep")
                if self.wdt_deadline_ns < 0:
                    yield from self._wait_until(math.inf)
                yield from self._wait_until(max(self.wdt_deadline_ns, self.t_ns))
                return self._watchdog()
            elif kind == "Z":
                yield from self._active()
                self._record("reset", msg.args[0])
                return SOFT_RESET if msg.args[0] == "hard" else cause
            elif kind == "hang":
                return (yield from self._hung())
            else:
                self._fail(f"protocol error: unexpected {kind!r} message while the firmware runs")

    def _active(self):
        """Charge the code that ran since the last wake at the active current."""
        self._state("active")
        yield from self._wait_until(self.t_ns + self.active_ns)

    def _sleep(self, letter: str, until_ns: int):
        """Returns True when the watchdog fired before the wake."""
        deadline = self.wdt_deadline_ns
        active_end = self.t_ns + self.active_ns
        if 0 <= deadline < active_end:  # the code itself overran the watchdog
            self._state("active")
            yield from self._wait_until(max(deadline, self.t_ns))
            self._watchdog()
            return True
        yield from self._active()
        target = max(until_ns, self.t_ns) if until_ns >= 0 else math.inf
        self._state("active" if letter == "b" else "sleep")
        if 0 <= deadline < target:
            yield from self._wait_until(deadline)
            self._watchdog()
            return True
        yield from self._wait_until(target)
        self._state("active")
        return False

    def _watchdog(self) -> int:
        self.watchdog_resets += 1
        self._record("watchdog")
        self.sim.log(self.name, "watchdog reset: not fed in time")
        if self.awaiting:
            self._send("K")
            self.awaiting = False
        return WDT_RESET

    def _crashed(self, traceback: str):
        traceback = firmware_traceback(traceback)
        self.exceptions += 1
        self.crash_streak += 1
        self._record("exception", traceback)
        last = traceback.strip().splitlines()[-1] if traceback.strip() else "exception"
        self.sim.log(self.name, f"uncaught exception at t = {self.sim.now:.9g} s, resetting: {last}\n{traceback}")
        if self.crash_streak >= MAX_CRASHES_IN_A_ROW:
            self._fail(f"the firmware crashed {self.crash_streak} times in a row without completing a sleep; "
                       f"last exception:\n{traceback.strip()}")
        yield from self._active()
        return WDT_RESET

    def _hung(self):
        wall = self.wall_timeout_s
        if self.wdt_deadline_ns < 0:
            self._fail(f"the firmware ran for {wall:g} s of wall-clock time without sleeping or yielding "
                       f"(no machine.WDT enabled). Simulated time only advances in time.sleep*/"
                       f"machine.lightsleep/deepsleep/idle: a loop that polls must call one of them.")
        self.sim.log(self.name, f"the firmware ran for {wall:g} s of wall-clock time without sleeping; "
                                f"its watchdog resets it")
        self.awaiting = False
        try:
            self.channel.restart()
            self._open_agent()
        except (ChannelError, ProtocolError, ChannelTimeout) as exc:
            self._fail(f"could not restart the agent after a hang: {exc}")
        self._state("active")
        yield from self._wait_until(max(self.wdt_deadline_ns, self.t_ns))
        return self._watchdog()
