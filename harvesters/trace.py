"""A recorded harvest: a CSV of power or current against time.

Columns: ``time_<unit>`` and ``power_<unit>`` (e.g. ``power_uW``) or ``current_<unit>``. Wired
straight to the storage the values are what reaches the storage terminal (a power is a
constant-power draw, a current a constant current). Behind a PMIC they are what the source offers
the PMIC's input, at the input voltage given by the scenario's ``voltage`` key.

Interpolation. The engine is piecewise constant. ``hold`` keeps each value until the next row.
``linear`` stands for the straight line between rows and is represented exactly in charge (or
energy): each interval is cut into ``N`` equal steps whose value is the line's value at the step
midpoint, so every step carries exactly the line's integral over it, and the instantaneous value
differs from the line by at most ``|y_{k+1} - y_k|/(2N)``. ``N`` is the smallest count that keeps
that bound at or below ``tolerance × max|y|`` (default 1 %), capped at 1000 steps per interval.
"""
from __future__ import annotations

import math

import numpy as np

from sysim.engine.component import Component
from sysim.engine.draws import source_draw
from sysim.engine.schedule import ConstantSchedule, PiecewiseSchedule, Schedule

from . import csvdata
from .inputs import InputSegments

MAX_STEPS_PER_INTERVAL = 1000


def read_trace(path: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Times (s), values (W or A) and ``"power"`` or ``"current"``."""
    table = csvdata.read_table(path)
    t = csvdata.times(table)
    index, scale, kind = csvdata.find_column(table, [("power", "power"), ("current", "current")], "power or current")
    values = csvdata.numbers(table, index, scale, kind, non_negative=True)
    return t, values, kind


def linear_steps(t: np.ndarray, y: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Piecewise-constant stand-in for the linear interpolation of ``(t, y)``: step start times,
    step values and the largest instantaneous deviation from the line (see module docstring)."""
    scale = float(np.max(np.abs(y))) if len(y) else 0.0
    if len(t) < 2 or scale == 0.0:
        return t.copy(), y.copy(), 0.0
    allowed = tolerance * scale
    starts, values, worst = [], [], 0.0
    for k in range(len(t) - 1):
        dy = y[k + 1] - y[k]
        n = 1 if dy == 0 else min(MAX_STEPS_PER_INTERVAL, max(1, math.ceil(abs(dy) / (2.0 * allowed))))
        edges = np.linspace(t[k], t[k + 1], n + 1)
        starts.extend(edges[:-1])
        values.extend(y[k] + dy * (np.arange(n) + 0.5) / n)
        worst = max(worst, abs(dy) / (2.0 * n))
    starts.append(t[-1])
    values.append(y[-1])
    return np.asarray(starts), np.asarray(values), worst


class TraceHarvester(Component):
    kind = "source"

    def __init__(self, name: str, times_s: np.ndarray, values: np.ndarray, kind: str,
                 interpolation: str = "hold", tolerance: float = 0.01, voltage_V: float | None = None):
        if interpolation not in ("hold", "linear"):
            raise ValueError("interpolation must be 'hold' or 'linear'")
        self.name, self.kind_of_value, self.voltage_V = name, kind, voltage_V
        self.interpolation_error = 0.0
        if interpolation == "linear":
            times_s, values, self.interpolation_error = linear_steps(times_s, values, tolerance)
        if times_s[0] > 0.0:  # nothing before the first row
            times_s, values = np.concatenate([[0.0], times_s]), np.concatenate([[0.0], values])
        self.times_s, self.values = times_s, values
        draws = tuple((source_draw(name, power_W=v) if kind == "power" else source_draw(name, current_A=v),)
                      if v > 0 else () for v in values)
        self._schedule: Schedule = (ConstantSchedule(draws[0]) if len(draws) == 1
                                    else PiecewiseSchedule(tuple(float(t) for t in times_s), draws))

    def schedule(self, sim) -> Schedule:
        return self._schedule

    def pmic_input(self, ratio: float) -> InputSegments:
        if self.voltage_V is None:
            raise ValueError(f"trace harvester {self.name!r} needs a voltage to feed a PMIC")
        v = np.full(len(self.times_s), self.voltage_V)
        p = self.values if self.kind_of_value == "power" else self.values * self.voltage_V
        return InputSegments(self.times_s, v / ratio, v, p, p)

    def summary(self) -> dict:
        return {f"{self.name}_interpolation_error": self.interpolation_error} if self.interpolation_error else {}
