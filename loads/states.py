"""Load states on a supply rail: what a load draws, piecewise constant in time.

A :class:`RailState` is what a load takes from its rail for ``duration_s``: a constant current, a
constant power, or a current that depends on the rail voltage (an LED). A :class:`LoadEvent` is one
occurrence of a load's activity (a BLE advertising event, a LoRa uplink with its receive windows, a
sensor measurement) plus the ``floor`` the load draws between events. A :class:`Timeline` places
states in time: one state for ever, or a cycle of states of given durations repeating with a period.

All quantities are on the *rail* side; the rail (:mod:`sysim.engine.rail`, :mod:`loads.regulators`)
turns them into storage-side draws. The average rail current of a periodic load is

    I_avg = (Q_event + I_floor·(T - t_event)) / T,       Q_event = Σ_k I_k·t_k

(charge per event times the rate, plus the floor for the rest of the period).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, Optional


@dataclass(frozen=True)
class RailState:
    """What a load draws from its rail for ``duration_s`` (s).

    ``current_A`` and ``power_W`` add up; ``current_of_voltage(V_rail) -> A`` is a voltage-dependent
    part (an LED). ``idle`` marks a wait inside an event (a LoRa node sleeping between its uplink and
    its receive windows): a duty cycle adds no awake MCU current to it. ``thermal`` marks a
    leakage-dominated current (a sleep floor) that a load may scale with temperature.
    """

    duration_s: float = 0.0
    current_A: float = 0.0
    power_W: float = 0.0
    current_of_voltage: Optional[Callable[[float], float]] = None
    idle: bool = False
    label: str = ""
    thermal: bool = False

    def current_at(self, rail_voltage: float | None = None) -> float:
        """Rail current (A) at rail voltage ``rail_voltage`` (V; needed for power and V-dependent parts)."""
        extra = 0.0
        if self.power_W or self.current_of_voltage is not None:
            if rail_voltage is None or rail_voltage <= 0:
                raise ValueError("a rail voltage is needed for a power or voltage-dependent state")
            extra = self.power_W / rail_voltage
            if self.current_of_voltage is not None:
                extra += self.current_of_voltage(rail_voltage)
        return self.current_A + extra

    def charge_C(self, rail_voltage: float | None = None) -> float:
        """Charge (C) drawn from the rail during the state."""
        return self.current_at(rail_voltage) * self.duration_s

    def with_duration(self, duration_s: float) -> "RailState":
        return replace(self, duration_s=duration_s)

    def scaled(self, factor: float) -> "RailState":
        """The state with its current and power times ``factor`` (thermal states only)."""
        if not self.thermal or factor == 1.0:
            return self
        return replace(self, current_A=self.current_A * factor, power_W=self.power_W * factor)


@dataclass(frozen=True)
class LoadEvent:
    """One occurrence of a load's activity (``states`` in order) and its ``floor`` in between."""

    states: tuple[RailState, ...]
    floor: RailState = field(default_factory=RailState)

    @property
    def duration_s(self) -> float:
        return math.fsum(s.duration_s for s in self.states)

    def charge_C(self, rail_voltage: float | None = None) -> float:
        """Total charge (C) drawn from the rail during the event's states."""
        return math.fsum(s.charge_C(rail_voltage) for s in self.states)

    def average_current(self, period_s: float, rail_voltage: float | None = None) -> float:
        """Average rail current (A) when the event repeats every ``period_s`` (s)."""
        rest = period_s - self.duration_s
        if rest < -1e-12 * period_s:
            raise ValueError(f"the event lasts {self.duration_s:g} s, longer than the period {period_s:g} s")
        return (self.charge_C(rail_voltage) + self.floor.current_at(rail_voltage) * max(rest, 0.0)) / period_s


@dataclass(frozen=True)
class Timeline:
    """When a load draws what.

    ``period_s is None``: ``segments[0]`` holds for ever. Otherwise the segments ``(duration_s,
    states)`` cover one period in order (the states of a segment add up) and the cycle repeats
    from ``origin_s`` on. ``once``: the segments run one time from ``origin_s`` (the last one,
    of infinite duration, holds afterwards); nothing is drawn before ``origin_s``.
    """

    segments: tuple[tuple[float, tuple[RailState, ...]], ...]
    period_s: float | None = None
    origin_s: float = 0.0
    once: bool = False

    @classmethod
    def constant(cls, *states: RailState) -> "Timeline":
        return cls(((math.inf, tuple(states)),), None)

    @classmethod
    def periodic(cls, event: LoadEvent, period_s: float, origin_s: float = 0.0) -> "Timeline":
        """``event`` at the start of each period, its floor for the rest."""
        if not period_s > 0:
            raise ValueError("the period must be positive")
        busy = event.duration_s
        if busy > period_s * (1 + 1e-12):
            raise ValueError(f"one event lasts {busy:g} s, longer than the period ({period_s:g} s)")
        segments = [(s.duration_s, (s,)) for s in event.states if s.duration_s > 0]
        if period_s - busy > 0:
            segments.append((period_s - busy, (event.floor,)))
        return cls(tuple(segments), period_s, origin_s)

    def average_current(self, rail_voltage: float | None = None) -> float:
        """Average rail current (A) over one period (or the constant current)."""
        if self.once:
            raise ValueError("a one-time timeline has no average current")
        if self.period_s is None:
            return math.fsum(s.current_at(rail_voltage) for s in self.segments[0][1])
        charge = math.fsum(d * s.current_at(rail_voltage) for d, states in self.segments for s in states)
        return charge / self.period_s
