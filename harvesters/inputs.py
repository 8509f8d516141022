"""What a harvester offers a PMIC's input: piecewise-constant operating points over time.

A PMIC with fractional-open-circuit-voltage MPPT regulates its input at ``ratio × V_oc``; the
harvester reports, per segment of its light (or trace) data, the open-circuit voltage, the
voltage and power at that operating point, and the power at the true maximum power point (for the
MPPT-tracking figure in the summary). Harvesters that can feed a PMIC implement
``pmic_input(ratio) -> InputSegments``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class InputSegments:
    """Segment ``k`` holds from ``times_s[k]`` until the next start (the last to the run's end)."""

    times_s: np.ndarray
    v_oc: np.ndarray    # V, open-circuit voltage of the source
    v_in: np.ndarray    # V, input voltage at the PMIC's operating point
    p_in: np.ndarray    # W, power the source delivers at that point
    p_mpp: np.ndarray   # W, power at the source's maximum power point

    def __post_init__(self):
        for name in ("times_s", "v_oc", "v_in", "p_in", "p_mpp"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=float))

    def __len__(self) -> int:
        return len(self.times_s)


def combine(parts: list[InputSegments]) -> InputSegments:
    """Several sources on one PMIC input (wired in parallel behind their own diodes): the union of
    the change times, the powers added, the highest voltages taken (the PMIC sees the strongest
    source; an approximation that is exact for a single source)."""
    if len(parts) == 1:
        return parts[0]
    times = np.unique(np.concatenate([p.times_s for p in parts]))
    out = {k: np.zeros(len(times)) for k in ("v_oc", "v_in", "p_in", "p_mpp")}
    for p in parts:
        idx = np.searchsorted(p.times_s, times, side="right") - 1
        ok = idx >= 0
        j = np.where(ok, idx, 0)
        for k in ("p_in", "p_mpp"):
            out[k] += np.where(ok, getattr(p, k)[j], 0.0)
        for k in ("v_oc", "v_in"):
            out[k] = np.maximum(out[k], np.where(ok, getattr(p, k)[j], 0.0))
    return InputSegments(times, out["v_oc"], out["v_in"], out["p_in"], out["p_mpp"])
