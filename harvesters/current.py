"""Ideal current source into the storage (through an ideal diode): for tests and quick looks.

An optional ``schedule`` of ``(time_s, current_A)`` pairs turns it into a piecewise-constant source
(e.g. light on during office hours). Delivered energy is booked as harvested: ``I·∫V dt``.
"""
from __future__ import annotations

from sysim.engine.component import Component
from sysim.engine.draws import source_draw
from sysim.engine.schedule import ConstantSchedule, PiecewiseSchedule, Schedule


class CurrentHarvester(Component):
    kind = "source"

    def __init__(self, name: str, current_A: float, steps: list[tuple[float, float]] | None = None):
        if current_A < 0:
            raise ValueError("current must not be negative")
        self.name = name
        self.current_A = current_A
        if steps:
            times = tuple(float(t) for t, _ in steps)
            self._schedule: Schedule = PiecewiseSchedule(times, tuple((source_draw(name, i),) for _, i in steps))
        else:
            self._schedule = ConstantSchedule((source_draw(name, current_A),))

    def schedule(self, sim) -> Schedule:
        return self._schedule
