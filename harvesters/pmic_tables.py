"""Converter efficiency tables of a harvesting PMIC.

* Boost (charger) efficiency against input voltage and input current or power: a 2-D table,
  bilinear in (V_in, log10 level) between the given points, held constant beyond the table's
  edges (datasheets and measurements stop there; extrapolating a steep low-power edge would invent
  numbers).
* Buck (output) efficiency against output current: a 1-D table, linear in log10 current, held at
  the edges; or a constant.

Efficiencies are net, as datasheets measure them: power into the storage over power drawn from
the source (boost), power delivered to the load over power taken from the storage (buck).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np


def _bracket(axis: tuple[float, ...], x: float) -> tuple[int, float]:
    """Index ``i`` and weight ``w`` with ``x ≈ (1-w)·axis[i] + w·axis[i+1]``, clamped."""
    if x <= axis[0] or len(axis) == 1:
        return 0, 0.0
    if x >= axis[-1]:
        return len(axis) - 2, 1.0
    i = bisect.bisect_right(axis, x) - 1
    return i, (x - axis[i]) / (axis[i + 1] - axis[i])


def _bracket_many(axis: tuple[float, ...], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_bracket` for an array of ``x``."""
    if len(axis) == 1:
        return np.zeros(x.shape, dtype=np.int64), np.zeros(x.shape)
    a = np.asarray(axis)
    i = np.clip(np.searchsorted(a, x, side="right") - 1, 0, len(a) - 2)
    w = (x - a[i]) / (a[i + 1] - a[i])
    return np.where(x >= a[-1], len(a) - 2, i), np.where(x <= a[0], 0.0, np.where(x >= a[-1], 1.0, w))


@dataclass(frozen=True)
class BoostEfficiency:
    """``table[i][j]``: efficiency at ``input_voltage[i]`` and level ``levels[j]`` (A or W)."""

    input_voltage: tuple[float, ...]
    levels: tuple[float, ...]
    table: tuple[tuple[float, ...], ...]
    axis: str = "current"  # "current" (A) or "power" (W)

    def __post_init__(self):
        v, lv, tab = self.input_voltage, self.levels, self.table
        if len(v) < 1 or len(lv) < 1:
            raise ValueError("the efficiency table needs at least one voltage and one level")
        if any(b <= a for a, b in zip(v, v[1:])) or any(b <= a for a, b in zip(lv, lv[1:])):
            raise ValueError("efficiency table axes must increase strictly")
        if min(lv) <= 0:
            raise ValueError("efficiency table currents or powers must be positive")
        if len(tab) != len(v) or any(len(row) != len(lv) for row in tab):
            raise ValueError(f"the efficiency table must have {len(v)} rows of {len(lv)} values")
        if any(not 0.0 <= x <= 1.0 for row in tab for x in row):
            raise ValueError("efficiencies must lie between 0 and 1")
        if self.axis not in ("current", "power"):
            raise ValueError("axis must be 'current' or 'power'")
        object.__setattr__(self, "_log_levels", tuple(math.log10(x) for x in lv))

    def __call__(self, v_in: float, p_in: float) -> float:
        """Efficiency at input voltage ``v_in`` (V) and input power ``p_in`` (W)."""
        if p_in <= 0.0 or v_in <= 0.0:
            return 0.0
        level = p_in / v_in if self.axis == "current" else p_in
        i, wi = _bracket(self.input_voltage, v_in)
        j, wj = _bracket(self._log_levels, math.log10(level))
        t = self.table
        i1 = min(i + 1, len(t) - 1)
        j1 = min(j + 1, len(t[0]) - 1)
        low = (1 - wj) * t[i][j] + wj * t[i][j1]
        high = (1 - wj) * t[i1][j] + wj * t[i1][j1]
        return (1 - wi) * low + wi * high

    def many(self, v_in: np.ndarray, p_in: np.ndarray) -> np.ndarray:
        """:meth:`__call__` for arrays of input voltages and powers (a year of light segments)."""
        v_in, p_in = np.asarray(v_in, dtype=float), np.asarray(p_in, dtype=float)
        on = (p_in > 0.0) & (v_in > 0.0)
        v, p = np.where(on, v_in, 1.0), np.where(on, p_in, 1.0)
        i, wi = _bracket_many(self.input_voltage, v)
        j, wj = _bracket_many(self._log_levels, np.log10(p / v if self.axis == "current" else p))
        t = np.asarray(self.table)
        i1, j1 = np.minimum(i + 1, t.shape[0] - 1), np.minimum(j + 1, t.shape[1] - 1)
        low = (1 - wj) * t[i, j] + wj * t[i, j1]
        high = (1 - wj) * t[i1, j] + wj * t[i1, j1]
        return np.where(on, (1 - wi) * low + wi * high, 0.0)

    @classmethod
    def constant(cls, efficiency: float) -> "BoostEfficiency":
        return cls((1.0,), (1.0,), ((efficiency,),), "power")


@dataclass(frozen=True)
class BuckEfficiency:
    """Efficiency ``values[k]`` at output current ``currents[k]`` (A)."""

    currents: tuple[float, ...]
    values: tuple[float, ...]

    def __post_init__(self):
        if len(self.currents) != len(self.values) or not self.currents:
            raise ValueError("buck efficiency needs as many values as currents")
        if any(b <= a for a, b in zip(self.currents, self.currents[1:])) or min(self.currents) <= 0:
            raise ValueError("buck efficiency currents must be positive and increase strictly")
        if any(not 0.0 < x <= 1.0 for x in self.values):
            raise ValueError("buck efficiencies must lie in (0, 1]")

    def __call__(self, current_A: float) -> float:
        if len(self.values) == 1 or current_A <= 0.0:
            return self.values[0]
        x = np.log10(self.currents)
        return float(np.interp(math.log10(current_A), x, self.values))

    @classmethod
    def constant(cls, efficiency: float) -> "BuckEfficiency":
        return cls((1.0,), (efficiency,))
