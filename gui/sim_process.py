"""The simulation side of a dashboard run, in its own process (no Qt here).

The run is :func:`sysim.api.prepare` driven through its ``on_step`` hook, which is called after
every integrator step. It

* paces the run to the speed factor (simulated seconds per wall second) by sleeping, in slices of
  at most 20 ms so that pause, stop and speed changes act at once;
* blocks while paused, and raises :class:`sysim.engine.simulation.StopRun` on stop (the summary
  then covers what finished);
* in an unpaced run it looks at the knobs and the clock only every 5 ms of wall time (a step costs
  a few microseconds, so this keeps the hook's overhead negligible);
* every ``emit_interval_s`` of wall time sends the trace rows recorded since the last batch
  (``Recorder.rows_since``: a copy of the new rows only), the new event-log entries, the watched
  threshold levels and the progress through a pipe to the dashboard.

It runs in a separate process rather than a thread of the GUI process because the engine is pure
Python: in a thread it would hold the interpreter lock most of the time and the window would stutter
(hundreds of milliseconds per repaint, measured). While paced, each integrator step is limited to
20 ms of wall time worth of simulated time (``chunk_s``) so the plots move smoothly; unpaced runs use
``duration / 200``. The levels each component asks the engine to watch (PMIC thresholds, firmware
comparators) are collected by wrapping ``Component.watches`` so the voltage plot can draw them.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

PACE_SLICE_S = 0.02
POLL_S = 0.005   # how often (wall) an unpaced run looks at the knobs and the clock


@dataclass
class SharedControl:
    """The knobs the dashboard turns, shared with the run's process as raw shared memory (reads
    cost a fraction of a microsecond; the run looks at them at most every ``POLL_S``)."""

    paused: object      # Value('i'): 1 while paused
    stop: object        # Value('i'): 1 once the user stopped the run
    speed: object       # Value('d'): simulated s per wall s; <= 0 means as fast as possible
    revision: object    # Value('i'): bumped on every change so the run re-anchors its pacing


def run_in_child(conn, data: dict, source: str, base_dir: str, control: SharedControl,
                 emit_interval_s: float) -> None:
    """Process entry point: validate ``data`` exactly as the panel did, run it, stream results."""
    try:
        import os

        if hasattr(os, "nice"):
            os.nice(5)  # the window's thread is scheduled first when both want a core
    except OSError:
        pass
    try:
        from sysim.errors import ScenarioError
        from sysim.scenario.loader import from_dict

        try:
            scenario = from_dict(data, source=source, base_dir=base_dir)
            _Run(conn, scenario, control, emit_interval_s).run()
        except ScenarioError as exc:
            conn.send(("failed", ("scenario", exc.file, exc.key, exc.reason)))
    except Exception as exc:  # reported in the window; the traceback goes with it
        conn.send(("failed", ("error", f"{type(exc).__name__}: {exc}", traceback.format_exc())))
    finally:
        conn.close()


class _Run:
    def __init__(self, conn, scenario, control: SharedControl, emit_interval_s: float):
        self.conn, self.scenario, self.control = conn, scenario, control
        self.emit_interval_s = emit_interval_s
        self._rows_sent = self._events_sent = self._levels_sent = 0
        self._last_emit = 0.0
        self._anchor = (0.0, 0.0, -1)   # (wall, sim, control revision)
        self._levels: dict[str, tuple[str, float]] = {}
        self._wall0 = time.perf_counter()
        self._next_poll = 0.0

    def _speed(self) -> float | None:
        speed = self.control.speed.value
        return speed if speed > 0 else None

    def _chunk(self, duration: float) -> float:
        speed = self._speed()
        return min(duration / 200.0, speed * PACE_SLICE_S) if speed else duration / 200.0

    def run(self) -> None:
        from sysim.api import prepare

        sim = prepare(self.scenario, chunk_s=self._chunk(self.scenario.simulation.duration), on_step=self._on_step)
        self._watch_levels(sim)
        self.conn.send(("started", {"columns": list(sim.recorder.columns), "kinds": dict(sim.kinds),
                                    "firmware": [c.name for c in sim.components
                                                 if type(c).__module__.startswith("firmware_bridge")]}))
        self._wall0 = time.perf_counter()
        raw = sim.run()
        self._flush(sim, final=raw)
        self.conn.send(("finished", {"summary": raw.summary, "ledger": raw.ledger, "rows": len(raw.rows)}))

    def _on_step(self, sim) -> None:
        now = time.perf_counter()
        if now < self._next_poll:
            return  # the common case in a fast run: nothing to do for a few milliseconds
        self._next_poll = now + POLL_S
        from sysim.engine.simulation import StopRun

        control = self.control
        if control.stop.value:
            raise StopRun()
        if now - self._last_emit >= self.emit_interval_s:
            self._flush(sim)
        if control.paused.value:
            self._flush(sim)
            while control.paused.value and not control.stop.value:
                time.sleep(PACE_SLICE_S)
            if control.stop.value:
                raise StopRun()
        revision = control.revision.value
        if revision != self._anchor[2]:
            self._anchor = (time.perf_counter(), sim.now, revision)
            sim.options.chunk_s = self._chunk(sim.t_end)
        speed = self._speed()
        if speed:
            self._next_poll = 0.0  # paced: look at the clock after every step
            wall0, sim0, _ = self._anchor
            while True:
                ahead = wall0 + (sim.now - sim0) / speed - time.perf_counter()
                if ahead <= 0 or control.stop.value or control.revision.value != revision:
                    break
                time.sleep(min(ahead, PACE_SLICE_S))
                if time.perf_counter() - self._last_emit >= self.emit_interval_s:
                    self._flush(sim)

    def _flush(self, sim, final=None) -> None:
        self._last_emit = time.perf_counter()
        if final is not None:
            rows, events = final.rows[self._rows_sent:], final.events[self._events_sent:]
        else:
            rows, events = sim.recorder.rows_since(self._rows_sent), sim.events[self._events_sent:]
        if len(rows):
            self._rows_sent += len(rows)
            self.conn.send(("rows", rows))
        if events:
            self._events_sent += len(events)
            self.conn.send(("events", list(events)))
        if len(self._levels) != self._levels_sent:
            self._levels_sent = len(self._levels)
            self.conn.send(("thresholds", dict(self._levels)))
        self.conn.send(("progress", (sim.now, sim.t_end, time.perf_counter() - self._wall0)))

    def _watch_levels(self, sim) -> None:
        """Record every (output, level) a component asks the engine to watch."""
        levels = self._levels
        for component in sim.components:
            original = component.watches

            def recording(s, _original=original, _name=component.name):
                watches = _original(s)
                for w in watches:
                    label = f"{_name}: {_describe(w.key)}"
                    if label in levels and levels[label] != (w.output, float(w.level)):
                        label += f" at {float(w.level):.4g} V"
                    if label not in levels:
                        levels[label] = (w.output, float(w.level))
                return watches

            component.watches = recording


def _describe(key) -> str:
    return " ".join(str(k) for k in key) if isinstance(key, tuple) else str(key)
