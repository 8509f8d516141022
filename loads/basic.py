"""Constant and periodic current loads wired straight to the storage.

Periodic load (scenario contract in DESIGN.md): each period starts with the listed phases in order
(the first at t = 0 + offset); a phase's current is the *total* drawn during it; ``base_current`` is
drawn for the rest of the period. Its average current is ``Σ I_k·t_k/T + I_base·(1 - Σ t_k/T)``.
"""
from __future__ import annotations

from sysim.engine.component import Component
from sysim.engine.rail import DIRECT, Rail
from sysim.engine.schedule import ConstantSchedule, PeriodicSchedule, Schedule

_OFF = ConstantSchedule(())


class ConstantLoad(Component):
    kind = "load"

    def __init__(self, name: str, current_A: float = 0.0, power_W: float = 0.0, rail: Rail = DIRECT):
        if current_A < 0 or power_W < 0:
            raise ValueError("a load draws a positive current or power")
        self.name, self.rail = name, rail
        self._schedule = ConstantSchedule((rail.draw(name, current_A, power_W),))

    def schedule(self, sim) -> Schedule:
        return self._schedule if self.rail.is_on(sim) else _OFF


class PeriodicLoad(Component):
    kind = "load"

    def __init__(self, name: str, period_s: float, base_current_A: float,
                 phases: list[tuple[float, float]], offset_s: float = 0.0, rail: Rail = DIRECT):
        """``phases``: ``(current_A, duration_s)`` pairs from the start of each period."""
        if period_s <= 0:
            raise ValueError("period must be positive")
        self.name, self.rail = name, rail
        self.period_s, self.base_current_A, self.phases = period_s, base_current_A, list(phases)
        self._schedule = PeriodicSchedule.from_durations(
            [(duration, (rail.draw(name, current),)) for current, duration in phases],
            period_s, (rail.draw(name, base_current_A),), offset_s)

    def schedule(self, sim) -> Schedule:
        return self._schedule if self.rail.is_on(sim) else _OFF

    def average_current(self) -> float:
        """Charge per period divided by the period (A)."""
        busy = sum(d for _, d in self.phases)
        return (sum(i * d for i, d in self.phases) + self.base_current_A * (self.period_s - busy)) / self.period_s
