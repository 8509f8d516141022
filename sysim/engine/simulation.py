"""The run: a SimPy environment whose integrator process steps the storage exactly.

SimPy is the clock that coordinates the asynchronous parts of a node (firmware wake-ups, restart
delays, anything a component starts with ``env.process``) with the exact stepper. One process, the
integrator, owns physical time: it looks at the next event any other process has scheduled
(``env.peek()``), steps the storage exactly up to it through the deterministic schedules (duty
cycles, harvest segments, recording), and stops early at the first threshold crossing, where it
hands control to whoever watches that threshold. So the state is exact at every moment another
process runs, and the cost is proportional to the number of events, never to simulated time.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import simpy

from device_models.base import StorageModel

from .collector import collector_relaxed
from .component import Component
from .ledger import Ledger
from .hold import HOLD_BAND_V
from .interrupt import DeferredInterrupt
from .protection import Protection, ProtectionSettings
from .recorder import Recorder
from .regime import _currents
from .schedule import PhaseMerger, PhaseTable, build_phases
from .stepper import Stepper
from .temperature import TemperatureSchedule
from .throttle import Throttles
from .walk import Crossing, Watch
from . import cycleplan, leanjump, stretch

MAX_EVENT_LOG = 100_000
_CHATTER_LIMIT = 50


class SimulationError(RuntimeError):
    """The run cannot continue (a comparator that chatters at one instant, a model fault)."""


class StopRun(Exception):
    """Raise from a callback to end the run early; the result keeps what finished."""


@dataclass
class RunOptions:
    duration: float                     # s
    record_every: float                 # s
    stream_trace_to: str | None = None  # write trace.csv while running instead of keeping it
    progress: object = None             # callable(t_sim, t_end, wall_s), a few times a second
    #: ambient temperature (K): a constant, or [(t_s, kelvin), ...] holding from each time on
    temperature: float | list | None = None
    #: advance at most this much simulated time per integrator step (live displays), s
    chunk_s: float | None = None
    #: callable(sim) after every integrator step (pause, pacing); may raise StopRun
    on_step: object = None
    #: largest relative change of the internal voltage over a stretch with frozen power draws
    #: (None: sysim.engine.freeze.POWER_TOLERANCE_REL)
    power_tolerance: float | None = None


@dataclass
class EventRecord:
    t: float
    source: str
    message: str


@dataclass
class RawResult:
    """What a run produced; :class:`sysim.result.Result` turns it into files and tables."""

    columns: list[str]
    rows: object
    summary: dict
    events: list[EventRecord] = field(default_factory=list)
    ledger: dict = field(default_factory=dict)
    trace_file: str | None = None


class Simulation:
    def __init__(self, model: StorageModel, components: list[Component], protection: ProtectionSettings,
                 options: RunOptions):
        if not options.duration > 0:
            raise ValueError("duration must be positive")
        self.model = model
        self.components = list(components)
        self.options = options
        self.t_end = float(options.duration)
        self.env = simpy.Environment()
        self.ledger = Ledger(model.stored_energy(model.initial_state()))
        system = model.modal()
        self.protection = Protection(protection, system.cell_outputs)
        self.kinds = {c.name: c.kind for c in self.components}
        state_cols = ["loads_on", "charging"] + [col for c in self.components for col in c.state_columns()]
        self.recorder = Recorder(options.record_every, self.t_end, model, [c.name for c in self.components],
                                 state_cols, self._state_values, len(system.cell_outputs) if len(system.cell_outputs) > 1 else 0,
                                 stream_to=options.stream_trace_to)
        self.stepper = Stepper(model, self.ledger, self.recorder)
        self.stepper.power_tolerance = options.power_tolerance
        self.merger = PhaseMerger()
        self.events: list[EventRecord] = []
        self.crossings = 0
        self.interrupted = False
        self._sigint = DeferredInterrupt()
        self.recorder.interrupt = self._sigint
        self.method = "auto"
        self._temperatures = TemperatureSchedule(options.temperature)
        self._applied_temperature = None
        self._throttles = Throttles(self.kinds)
        self.temperature = self._temperatures.initial
        self._last_crossing: tuple | None = None
        self._chatter = 0
        self._row_time: float | None = None
        self._changing = [c for c in self.components if type(c).next_change is not Component.next_change]
        self._regime_watchers = [c for c in self.components if type(c).on_regime_end is not Component.on_regime_end]

    # --- what components may call ------------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated time (s); while a sample row is written, the sample's time."""
        return self.stepper.t if self._row_time is None else self._row_time

    def voltage(self, output: str = "terminal") -> float:
        """Present value of a storage output (V) with the current that flows now."""
        system = self.stepper.system
        idx = system.output_index[output]
        current = self._current_now()
        return self.stepper.output(idx, current)

    def log(self, source: str, message: str) -> None:
        if len(self.events) < MAX_EVENT_LOG:
            self.events.append(EventRecord(self.now, source, message))

    # --- regime construction ------------------------------------------------------------------
    def _active_schedules(self):
        loads_on = self.protection.loads_on
        return [c.schedule(self) for c in self.components
                if (loads_on or c.kind != "load") and getattr(c, "enabled", True)]

    def _table(self, t: float, again: bool = True) -> PhaseTable:
        table = build_phases(t, self._active_schedules(), self.merger)
        t_next = min([self._temperatures.next_change(t)] + [c.next_change(t) for c in self._changing])
        if t_next < table.end_s:
            table = table.with_end(t_next)
        holders, level = self._holders()
        if holders:
            held = self._throttles.held(self, table, holders, level, may_rebuild=again)
            if held is None:  # a holder gave a schedule that does not fit the throttle: once more
                return self._table(t, again=False)
            table = held
        return table

    def _holders(self) -> tuple[frozenset, float]:
        """Components whose harvest is held at a level now, and the level (open-circuit V)."""
        holders, levels = set(), []
        for c in self.components:
            if getattr(c, "hold_storage", False):
                holders.add(c.name)
                levels.append(getattr(c, "hold_level", math.inf))
        if not self.protection.charging and self.protection.s.v_max is not None:
            holders |= {c.name for c in self.components if c.kind == "source"}
            levels.append(self.protection.s.v_max * self.model.series)
        return frozenset(holders), min(levels, default=math.inf)

    def _watches(self) -> list[Watch]:
        system = self.stepper.system
        watches = [Watch(w.output, w.level, w.direction, ("protection", w.key), w.with_current)
                   for w in self.protection.watches()]
        for c in self.components:
            for w in c.watches(self):
                watches.append(Watch(system.output_index[w.output], w.level, w.direction,
                                     ("component", c.name, w.key), w.with_current))
        holders, level = self._holders()
        if holders and math.isfinite(level):
            # a band above the held level, or above the present voltage when a store with nothing to
            # pull it down already sits higher (so the watch is never past at once)
            band = max(level, self.stepper.open_circuit()) + HOLD_BAND_V
            watches.append(Watch(0, band, "rising", ("hold",), with_current=False))
        for bp in self.model.breakpoints(self.stepper.z):
            watches.append(Watch(system.output_index[bp.output], bp.level, bp.direction, ("model", bp)))
        return watches

    def _current_now(self) -> float:
        table = self._table(self.now)
        return float(_currents(table.channels, table.member[:, :1], self.stepper.open_circuit(),
                               self.stepper.system.series_resistance).sum())

    # --- the integrator process --------------------------------------------------------------
    def _integrator(self):
        env, st = self.env, self.stepper
        wall0 = last_report = time.perf_counter()
        # a step callback (the dashboard) sees every stretch; a nonlinear model re-linearises
        repeat_ok = self.options.on_step is None and not self.model.nonlinear
        while st.t < self.t_end:
            if self._sigint.pending:
                raise KeyboardInterrupt  # Ctrl-C, taken here between steps (engine/interrupt.py)
            horizon = min(self.t_end, env.peek())
            if horizon <= st.t:
                yield env.timeout(0)  # another process is due now: let it run first
                continue
            self._apply_temperature(st.t)
            if self.model.nonlinear:
                st.set_model_state(self.model.relinearize(st.z))
            if self.options.chunk_s:
                horizon = min(horizon, st.t + self.options.chunk_s)
            table = self._table(st.t)
            stop = min(horizon, table.end_s)
            if self.model.nonlinear:
                peak = float(np.max(np.abs(st.regime_for(table).current), initial=0.0))
                stop = min(stop, st.t + max(self.model.linear_horizon(st.z, peak), 1e-9))
            watches = self._watches()
            fast_forward = self._fast_forward()
            t_start = st.t
            crossing, jumped = self._stretch(table, stop, watches, fast_forward)
            if jumped and repeat_ok and not any(w.key == ("hold",) for w in watches):
                # a charging ramp: its next stretches have the same table (whole cycles on, the
                # same rotation) and the same watches (nothing happened, no other process is due
                # before the stop, and no band follows a held voltage), so they are planned and
                # jumped without building either
                while jumped and st.t < stop and not self._sigint.pending:
                    crossing, jumped = self._stretch(table, stop, watches, fast_forward)
            for c in self._regime_watchers:
                c.on_regime_end(self, t_start, st.t)
            yield env.timeout(max(st.t - env.now, 0.0))
            if crossing is not None:
                self._on_crossing(crossing)
            if self.options.progress is not None:
                wall = time.perf_counter()
                if wall - last_report > 0.1:
                    last_report = wall
                    self.options.progress(st.t, self.t_end, wall - wall0)
            if self.options.on_step is not None:
                self.options.on_step(self)

    def _stretch(self, table: PhaseTable, stop: float, watches: list[Watch], fast_forward: bool):
        """Plan and take one stretch of ``table`` from now to at most ``stop`` (s): the crossing
        that ended it (or None), and whether it was whole cycles jumped on the lean path."""
        st = self.stepper
        if table.all_linear:
            return st.advance(st.regime_for(table), stop, watches, fast_forward=fast_forward), False
        # a charging ramp's stretch is planned on the table's per-mix forms and, when nothing
        # can happen in it, jumped without a regime (engine/cycleplan, leanjump)
        cycles = cycleplan.plan_cycles(st, table, stop, watches)
        if cycles is None:
            regime, stop = stretch.plan(st, table, stop, watches)
        elif fast_forward and leanjump.jump(st, cycles, watches):
            return None, cycles.phases is None
        else:
            regime, stop = cycles.regime(st), cycles.t_stop
        return st.advance(regime, stop, watches, fast_forward=fast_forward), False

    def _on_crossing(self, crossing: Crossing) -> None:
        self.crossings += 1
        key = crossing.watch.key
        marker = (key, crossing.t)
        if self._last_crossing == marker:
            self._chatter += 1
            if self._chatter > _CHATTER_LIMIT:
                raise SimulationError(f"threshold {key!r} keeps firing at t = {crossing.t:.9g} s without time "
                                      f"advancing; check its hysteresis")
        else:
            self._chatter = 0
        self._last_crossing = marker
        kind = key[0]
        self._throttles.clear()  # any threshold may start, end or correct a hold
        if kind == "hold":
            return
        if kind == "protection":
            system = self.stepper.system
            result = self.protection.handle(key[1], crossing.t, lambda k: self.stepper.output(k, self._current_now()))
            name = key[1][0]
            if result == "brownout":
                self.log("storage", f"brown-out: cell voltage below {self.protection.s.v_min:g} V, loads cut")
                self._notify("brownout")
                self.env.process(self._arm_restore(self.protection.s.restart_delay))
            elif name == "restore" and self.protection.loads_on:
                self.log("storage", "loads restored")
                self._notify("restore")
            elif name == "overvoltage":
                self.log("storage", f"over-voltage at {self.protection.s.v_max:g} V per cell: charging throttled")
            elif name == "ov_release":
                self.log("storage", "charging resumed")
        elif kind == "component":
            component = next(c for c in self.components if c.name == key[1])
            component.on_watch(self, key[2])
        elif kind == "model":
            z = self.model.cross_breakpoint(self.stepper.z, key[1])
            self.stepper.set_model_state(z)

    def _apply_temperature(self, t: float) -> None:
        kelvin = self._temperatures.at(t)
        if kelvin is not None and kelvin != self._applied_temperature:
            self._applied_temperature = kelvin
            self.temperature = kelvin
            self.stepper.set_model_state(self.model.set_temperature(kelvin, self.stepper.z))

    def _fast_forward(self) -> bool:
        """Fast-forward unless forced off, or a component (firmware in the loop) needs every event."""
        if self.method == "event":
            return False
        return not any(getattr(c, "requires_event_path", False) for c in self.components)

    def _arm_restore(self, delay: float):
        yield self.env.timeout(delay)
        self.protection.arm_restore()

    def _notify(self, event: str) -> None:
        for c in self.components:
            handler = getattr(c, "on_node_event", None)
            if handler is not None:
                handler(self, event)

    def _state_values(self, t: float | None = None) -> list[float]:
        """The components' state columns at time ``t`` (a sample's time; default now)."""
        values = [1.0 if self.protection.loads_on else 0.0, 1.0 if self.protection.charging else 0.0]
        self._row_time = t
        try:
            for c in self.components:
                values += c.state_values()
        finally:
            self._row_time = None
        return values

    # --- running ------------------------------------------------------------------------------
    def run(self) -> RawResult:
        for c in self.components:
            c.start(self)
        self.env.process(self._integrator())
        wall0 = time.perf_counter()
        try:
            with self._sigint, collector_relaxed():
                self.env.run(until=self.t_end * (1 + 1e-12) + 1e-9)
        except (KeyboardInterrupt, StopRun):
            self.interrupted = True
        except BaseException:
            self.recorder.discard()  # a failed run leaves no trace.csv.partial behind
            raise
        if self._sigint.pending:
            self.interrupted = True  # the last step reached the end, but sampling stopped at Ctrl-C
        wall = time.perf_counter() - wall0
        return self._finish(wall)

    def _finish(self, wall: float) -> RawResult:
        st = self.stepper
        t_final = st.t
        phase = st.regime_for(self._table(t_final)).phase(0)
        final_v = st.output(0, phase.current)
        if self.recorder.last_time is None or self.recorder.last_time < t_final:
            # the trace ends at the end
            self.recorder.write_row(t_final, st, st.z, phase.draws, phase.currents, phase.current)
        self.recorder.next_time = math.inf
        st.v_min, st.v_max = min(st.v_min, final_v), max(st.v_max, final_v)
        trace_file = self.recorder.finish()
        stored = self.model.stored_energy(st.z)
        totals = self.ledger.totals()
        balance = self.ledger.balance_error(stored)
        throughput = self.ledger.throughput(stored)
        summary = {
            "duration_s": t_final,
            "final_voltage_V": final_v,
            "min_voltage_V": st.v_min,
            "max_voltage_V": st.v_max,
            "time_of_min_voltage_s": st.t_v_min,
            "energy_harvested_J": totals["harvested"],
            "energy_to_loads_J": totals["to_loads"],
            "energy_lost_J": totals["lost"],
            "energy_stored_start_J": self.ledger.initial_stored_J,
            "energy_stored_end_J": stored,
            "energy_balance_error_J": balance,
            "energy_balance_relative": balance / throughput if throughput > 0 else 0.0,
            "brownouts": self.protection.brownouts,
            "first_brownout_s": self.protection.first_brownout,
            "uptime_fraction": self.protection.uptime(t_final) if t_final > 0 else 1.0,
            "overvoltage_events": self.protection.ov_events,
            "events": st.segments + self.crossings,
            "events_stepped": st.stepped + self.crossings,
            "threshold_crossings": self.crossings,
            "final_soc": self.model.state_of_charge(st.z),
            "wall_time_s": wall,
            "interrupted": self.interrupted,
        }
        for c in self.components:
            summary.update(c.summary())
        return RawResult(self.recorder.columns, self.recorder.array(), summary, self.events,
                         self.ledger.breakdown(), trace_file)
