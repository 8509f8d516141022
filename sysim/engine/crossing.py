"""Exact threshold crossings and extremes of an output inside one segment.

Inside a segment with constant input every mode relaxes monotonically,
``z_i(τ) = z0_i·e^(λ_i·τ) + w_i·φ(λ_i, τ)``, so an output ``y(τ) = K + Σ c_i·z_i(τ)`` is a sum of
monotone terms (models-and-numerics.md §5.2). That gives a rigorous, cheap bound on any interval
``[a, b]``: ``y ≥ K + Σ min(c_i·z_i(a), c_i·z_i(b))``. Its derivative
``y'(τ) = Σ c_i·e^(λ_i τ)·(λ_i·z0_i + w_i)`` is a sum of monotone terms as well, so the same bound
tells where y is monotone (y' cannot change sign) and where y' itself is monotone (then it has at
most one root, found by Brent's method). Intervals that are neither are split in halves (branch and
bound), left half first, so the *first* crossing is the one returned and an interior extremum is
located by one root solve instead of bisection.
"""
from __future__ import annotations

import math

from scipy.optimize import brentq

from .expint import phi

_MAX_DEPTH = 60


class SegmentView:
    """One output over one segment: ``y(τ) = K + Σ c_i·(z0_i·e^(λ_i τ) + w_i·φ(λ_i, τ))``."""

    __slots__ = ("rates", "z0", "w", "c", "k", "h")

    def __init__(self, rates, z0, w, c, k, h):
        self.rates, self.z0, self.w, self.c, self.k, self.h = rates, z0, w, c, k, h

    def terms(self, tau: float) -> list[float]:
        return [ci * (zi * math.exp(lam * tau) + wi * phi(lam, tau))
                for ci, zi, wi, lam in zip(self.c, self.z0, self.w, self.rates)]

    def value(self, tau: float) -> float:
        return self.k + math.fsum(self.terms(tau))

    def slope_terms(self, tau: float) -> list[float]:
        return [ci * math.exp(lam * tau) * (lam * zi + wi)
                for ci, zi, wi, lam in zip(self.c, self.z0, self.w, self.rates)]

    def slope(self, tau: float) -> float:
        return math.fsum(self.slope_terms(tau))

    def _slope_sign(self, a: float, b: float) -> int:
        """+1 / -1 when y' keeps that sign on [a, b] (y monotone there), 0 when it may vanish."""
        lo, hi = terms_bounds((1.0,) * len(self.c), self.slope_terms(a), self.slope_terms(b))
        return 1 if lo >= 0.0 else (-1 if hi <= 0.0 else 0)

    def first_crossing(self, level: float, direction: str) -> float | None:
        """First τ in [0, h] with y(τ) < level (``falling``) or y(τ) > level (``rising``);
        τ = 0 if the output is already past the level at the start."""
        sign = 1.0 if direction == "falling" else -1.0
        return self._first(sign, level, 0.0, self.h, self.terms(0.0), self.terms(self.h), 0)

    def _first(self, sign, level, a, b, ta, tb, depth):
        k = self.k
        lo, hi = terms_bounds((1.0,) * len(ta), ta, tb)
        if (k + lo >= level) if sign > 0 else (k + hi <= level):
            return None  # the output cannot reach the level anywhere in [a, b]
        ya = k + sum(ta)
        if (ya < level) if sign > 0 else (ya > level):
            return a
        yb = k + sum(tb)
        monotone = all(y - x >= 0 for x, y in zip(ta, tb)) or all(y - x <= 0 for x, y in zip(ta, tb)) \
            or self._slope_sign(a, b) != 0
        if monotone:
            if (yb < level) if sign > 0 else (yb > level):
                # decide on the same (fsum) evaluation Brent uses: an output sitting on the level
                # can round to either side of it
                fa, fb = self.value(a) - level, self.value(b) - level
                if (fa < 0) if sign > 0 else (fa > 0):
                    return a
                if (fb < 0) if sign > 0 else (fb > 0):
                    return brentq(lambda t: self.value(t) - level, a, b, xtol=1e-16, rtol=1e-15, maxiter=200)
            return None
        if depth >= _MAX_DEPTH:
            return a
        m = 0.5 * (a + b)
        tm = self.terms(m)
        left = self._first(sign, level, a, m, ta, tm, depth + 1)
        if left is not None:
            return left
        return self._first(sign, level, m, b, tm, tb, depth + 1)

    def extreme(self, kind: str, known: float, tol: float = 1e-12) -> tuple[float, float] | None:
        """(τ, y) of the minimum (``kind="min"``) or maximum of y over [0, h] if it goes beyond
        ``known`` by more than ``tol``; else None. Branch and bound, pruned against ``known``."""
        sign = 1.0 if kind == "min" else -1.0
        best_y = known - sign * tol
        best = None

        def consider(tau, y):
            nonlocal best_y, best
            if sign * y < sign * best_y:
                best_y, best = y, (tau, y)

        stack = [(0.0, self.h, self.terms(0.0), self.terms(self.h), 0)]
        while stack:
            a, b, ta, tb, depth = stack.pop()
            lo, hi = terms_bounds((1.0,) * len(ta), ta, tb)
            if sign * (self.k + (lo if sign > 0 else hi)) >= sign * best_y:
                continue
            consider(a, self.k + sum(ta))
            consider(b, self.k + sum(tb))
            if self._slope_sign(a, b) != 0 or depth >= _MAX_DEPTH:
                continue  # monotone here: the ends hold the extremes
            sa, sb = self.slope_terms(a), self.slope_terms(b)
            if all(y - x >= 0 for x, y in zip(sa, sb)) or all(y - x <= 0 for x, y in zip(sa, sb)):
                # y' is monotone on [a, b]: at most one stationary point
                ya_s, yb_s = sum(sa), sum(sb)
                if ya_s * yb_s < 0:
                    root = brentq(self.slope, a, b, xtol=1e-16, rtol=1e-15, maxiter=200)
                    consider(root, self.value(root))
                continue
            m = 0.5 * (a + b)
            tm = self.terms(m)
            stack.append((m, b, tm, tb, depth + 1))
            stack.append((a, m, ta, tm, depth + 1))
        return best


def terms_bounds(c, za, zb) -> tuple[float, float]:
    """(Σ min, Σ max) of ``c_i·z_i`` between two states: a bound on ``Σ c_i·z_i`` in between."""
    lo = hi = 0.0
    for ci, x, y in zip(c, za, zb):
        a, b = ci * x, ci * y
        if a < b:
            lo += a
            hi += b
        else:
            lo += b
            hi += a
    return lo, hi
