"""The storage temperature over a run: a constant, or steps from t = 0."""
from __future__ import annotations

import bisect
import math


class TemperatureSchedule:
    """``spec``: None (the model's own temperature), a temperature (K), or ``[(t_s, K), ...]``
    steps, the first at t = 0."""

    def __init__(self, spec):
        if spec is None:
            steps = []
        elif isinstance(spec, (int, float)):
            steps = [(0.0, float(spec))]
        else:
            steps = sorted((float(t), float(k)) for t, k in spec)
            if not steps or steps[0][0] > 0.0:
                raise ValueError("a temperature schedule must start at t = 0")
        self._times = [t for t, _ in steps]
        self._kelvin = [k for _, k in steps]

    @property
    def initial(self) -> float | None:
        """Temperature (K) at t = 0; None without a schedule."""
        return self._kelvin[0] if self._kelvin else None

    def at(self, t: float) -> float | None:
        """Temperature (K) at ``t`` (s); None without a schedule."""
        if not self._kelvin:
            return None
        return self._kelvin[max(bisect.bisect_right(self._times, t) - 1, 0)]

    def next_change(self, t: float) -> float:
        """The first step after ``t`` (s); inf when there is none."""
        i = bisect.bisect_right(self._times, t)
        return self._times[i] if i < len(self._times) else math.inf
