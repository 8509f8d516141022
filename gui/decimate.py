"""Peak-preserving decimation of long series for display (min/max per pixel column).

A year of one-minute samples is 525 600 points per curve; no screen shows more than a few thousand
columns. :func:`envelope` keeps, for each block of consecutive samples in the visible time window,
its minimum (at the block's first time) and maximum (at its last time), so every spike (a brown-out
dip, a pulse) stays visible at any zoom, and the curve is exact (every sample) once few enough
samples are in view. Cost: O(samples in view) numpy work, about a millisecond for a year.
"""
from __future__ import annotations

import numpy as np


def visible_slice(x: np.ndarray, x0: float, x1: float) -> slice:
    """Indices of the samples in [x0, x1] of an increasing ``x``, plus one on each side so the
    line runs to the edges of the view."""
    lo = max(int(np.searchsorted(x, x0, side="left")) - 1, 0)
    hi = min(int(np.searchsorted(x, x1, side="right")) + 1, len(x))
    return slice(lo, hi)


def envelope(x: np.ndarray, y: np.ndarray, x0: float, x1: float, max_points: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """The samples of ``y(x)`` to draw for the window [x0, x1]: all of them when at most
    ``max_points`` are in view, else min and max of equal blocks (2 points per block)."""
    part = visible_slice(x, x0, x1)
    xs, ys = x[part], y[part]
    n = len(xs)
    if n <= max_points:
        return xs, ys
    block = -(-n // (max_points // 2))     # ceil: samples per block
    full = (n // block) * block
    xb = xs[:full].reshape(-1, block)
    yb = ys[:full].reshape(-1, block)
    out_x = np.repeat(xb[:, 0], 2)
    out_x[1::2] = xb[:, -1]
    out_y = np.empty(len(out_x))
    out_y[0::2] = yb.min(axis=1)   # NaN in a block (an interval of zero length) propagates: a gap
    out_y[1::2] = yb.max(axis=1)
    if full < n:  # the tail that does not fill a block is drawn as it is
        out_x = np.concatenate([out_x, xs[full:]])
        out_y = np.concatenate([out_y, ys[full:]])
    return out_x, out_y
