"""The load component: a :class:`~loads.states.Timeline` of rail states, drawn through a rail.

:class:`RailLoad` turns its timeline into engine schedules: a ``ConstantSchedule`` or an exact
integer-nanosecond ``PeriodicSchedule`` (merged across loads by the engine). The rail converts each
state into storage-side draws; when the rail changes mode (an LDO falling into dropout) the load
hands the engine the schedule for the new mode. Schedules are built once per rail mode and kept,
so the engine's merge cache, keyed by schedule identity, stays valid.

Minimum rail voltage: a load with ``v_min`` watches the storage terminal at the voltage where its
rail falls below ``v_min`` (:func:`storage_threshold`); below it the load draws nothing and its
``<name>_on`` trace column is 0. It comes back ``restart_delay`` later (its power-on reset), once
the terminal is ``v_min_hysteresis`` above that cut-off level, like a brown-out detector with
hysteresis. (The hysteresis is taken on the storage side, so it also works for a load whose
``v_min`` equals its regulated rail voltage.)
"""
from __future__ import annotations

import math
from typing import Callable

from scipy.optimize import brentq

from sysim.engine.component import Component, ComponentWatch
from sysim.engine.draws import Draw
from sysim.engine.rail import DIRECT, Rail
from sysim.engine.schedule import NS_PER_S, ConstantSchedule, PeriodicSchedule, PiecewiseSchedule, Schedule, to_ns

from .states import RailState, Timeline

_OFF = ConstantSchedule(())
#: highest storage voltage (V) searched when inverting a rail's voltage function
_V_SEARCH_MAX = 1000.0


def voltage_dependent_draw(rail: Rail, owner: str, current_of_voltage: Callable[[float], float]) -> Draw:
    """Storage-side draw of a load whose rail current depends on the rail voltage (an LED)."""
    if type(rail) is Rail:  # the storage terminal itself
        return Draw(owner, current_of_voltage=current_of_voltage, accounts=((f"to_loads/{owner}", 1.0, 0.0),))
    draw_function = getattr(rail, "draw_function", None)
    if draw_function is None:
        raise ValueError(f"rail {rail.name!r} cannot supply a voltage-dependent load; connect it to the "
                         f"storage or to a [regulator.<name>] rail")
    return draw_function(owner, current_of_voltage)


def rail_draws(rail: Rail, owner: str, states: tuple[RailState, ...]) -> tuple[Draw, ...]:
    """The storage-side draws of ``states`` (which add up) taken from ``rail``."""
    current = math.fsum(s.current_A for s in states)
    power = math.fsum(s.power_W for s in states)
    out = []
    if current:
        out.append(rail.draw(owner, current_A=current))
    if power:
        out.append(rail.draw(owner, power_W=power))
    out.extend(voltage_dependent_draw(rail, owner, s.current_of_voltage) for s in states
               if s.current_of_voltage is not None)
    return tuple(d for d in out if not d.is_zero)


def storage_threshold(rail: Rail, v_rail: float) -> float | None:
    """Lowest storage terminal voltage (V) at which ``rail`` supplies at least ``v_rail``.

    ``None`` when the rail supplies ``v_rail`` at any storage voltage (a regulated output gated by
    its own power-good), ``inf`` when it never does. Rails may give the inverse directly
    (``storage_voltage_for``); otherwise ``rail.voltage`` is inverted (it rises with the storage voltage).
    """
    direct = getattr(rail, "storage_voltage_for", None)
    if direct is not None:
        return direct(v_rail)
    if rail.voltage(0.0) >= v_rail:
        return None
    if rail.voltage(_V_SEARCH_MAX) < v_rail:
        return math.inf
    return brentq(lambda v: rail.voltage(v) - v_rail, 0.0, _V_SEARCH_MAX, xtol=1e-12, rtol=1e-14)


def periodic_schedule(segments: list[tuple[float, tuple[Draw, ...]]], period_s: float, origin_s: float) -> PeriodicSchedule:
    """Segments ``(duration_s, draws)`` covering one period, in integer nanoseconds: each start is
    rounded once from the exact cumulative time, so rounding never accumulates."""
    period_ns = to_ns(period_s)
    starts, draws = [], []
    t = 0.0
    for duration, phase_draws in segments:
        start = to_ns(t)
        t += duration
        if start >= period_ns or to_ns(t) <= start:
            continue
        if draws and draws[-1] == phase_draws:
            continue  # the same draws go on: one phase
        starts.append(start)
        draws.append(phase_draws)
    if not starts:
        return PeriodicSchedule(period_ns, (0,), ((),), to_ns(origin_s))
    if starts[0] != 0:
        starts.insert(0, 0)
        draws.insert(0, ())
    return PeriodicSchedule(period_ns, tuple(starts), tuple(draws), to_ns(origin_s) % period_ns)


class RailLoad(Component):
    """A load that follows a :class:`Timeline` on a rail, with an optional minimum rail voltage."""

    kind = "load"

    def __init__(self, name: str, timeline: Timeline, rail: Rail = DIRECT, v_min: float | None = None,
                 v_min_hysteresis: float = 0.05, restart_delay: float = 1e-3,
                 temperature_factor: Callable[[float], float] | None = None):
        self.name, self.timeline, self.rail = name, timeline, rail
        #: kelvin -> multiplier of the timeline's thermal (sleep) currents
        self.temperature_factor = temperature_factor
        self.v_min, self.v_min_hysteresis, self.restart_delay = v_min, v_min_hysteresis, restart_delay
        self.on = True
        self._armed = False
        self.dropouts = 0
        self._sim = None
        self._schedules: dict = {}
        self.v_off = self.v_on = None
        if v_min is not None:
            self.v_off = storage_threshold(rail, v_min)
            if self.v_off is not None and math.isinf(self.v_off):
                raise ValueError(f"the rail {rail.name!r} never reaches v_min ({v_min:g} V)")
            self.v_on = self.v_off + v_min_hysteresis if self.v_off is not None else None
        self._schedule_for(getattr(rail, "mode", None), 1.0)  # build now: bad states fail at build time

    # --- schedules ----------------------------------------------------------------------------
    def _schedule_for(self, mode, factor: float) -> Schedule:
        schedule = self._schedules.get((mode, factor))
        if schedule is None:
            tl = self.timeline

            def draws(states):
                return rail_draws(self.rail, self.name, tuple(s.scaled(factor) for s in states))

            if tl.once:
                times, t = [], tl.origin_s
                for duration, _ in tl.segments:
                    times.append(t)
                    t += duration
                schedule = PiecewiseSchedule(tuple(times), tuple(draws(states) for _, states in tl.segments))
            elif tl.period_s is None:
                schedule = ConstantSchedule(draws(tl.segments[0][1]))
            else:
                schedule = periodic_schedule([(d, draws(states)) for d, states in tl.segments], tl.period_s, tl.origin_s)
            self._schedules[(mode, factor)] = schedule
        return schedule

    def _factor(self, sim) -> float:
        kelvin = getattr(sim, "temperature", None)
        if self.temperature_factor is None or kelvin is None:
            return 1.0
        return self.temperature_factor(kelvin)

    def schedule(self, sim) -> Schedule:
        if not self.on or not self.rail.is_on(sim):
            return _OFF
        return self._schedule_for(getattr(self.rail, "mode", None), self._factor(sim))

    # --- minimum rail voltage -----------------------------------------------------------------
    def start(self, sim) -> None:
        self._sim = sim

    def watches(self, sim) -> list[ComponentWatch]:
        if self.v_min is None:
            return []
        if self.on:
            return [ComponentWatch("terminal", self.v_off, "falling", "off")] if self.v_off is not None else []
        if self._armed:
            return [ComponentWatch("terminal", self.v_on or 0.0, "rising", "on")]
        return []

    def on_watch(self, sim, key) -> None:
        if key == "off" and self.on:
            self.on, self._armed = False, False
            self.dropouts += 1
            sim.log(self.name, f"rail below v_min = {self.v_min:g} V: load off")
            sim.env.process(self._rearm(sim.env))
        elif key == "on" and not self.on:
            self.on = True
            sim.log(self.name, "rail back above v_min + hysteresis: load on")

    def _rearm(self, env):
        yield env.timeout(self.restart_delay)
        self._armed = True

    # --- trace --------------------------------------------------------------------------------
    def state_columns(self) -> list[str]:
        return [f"{self.name}_on"]

    def state_values(self) -> list[float]:
        rail_on = self._sim is None or self.rail.is_on(self._sim)
        return [1.0 if self.on and rail_on and getattr(self, "enabled", True) else 0.0]

    def summary(self) -> dict:
        return {f"{self.name}_dropouts": self.dropouts} if self.v_min is not None else {}

    def average_current(self, rail_voltage: float | None = None) -> float:
        """Average rail current (A) of the timeline (always on)."""
        return self.timeline.average_current(rail_voltage)


def ns_duration(seconds: float) -> float:
    """``seconds`` rounded to the engine's nanosecond grid (s)."""
    return to_ns(seconds) / NS_PER_S
