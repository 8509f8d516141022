"""Closed-form integrals of one relaxation mode under a constant input, evaluated stably.

A mode obeys ``dz/dt = λ·z + w`` (λ ≤ 0, w constant over the segment). Its exact solution is
``z(t) = z0·e^(λt) + w·φ(λ, t)`` with ``φ(λ, t) = (e^(λt) - 1)/λ`` (``= t`` for λ = 0); this is the
zero-order-hold step of models-and-numerics.md §5.1 written per eigenmode. The energy ledger needs
``∫z dt`` and ``∫z² dt`` over the segment, which expand into the four kernels below:

* ``φ(λ,h)   = ∫_0^h e^(λt) dt``
* ``ψ(λ,h)   = ∫_0^h φ(λ,t) dt``
* ``χ(λ,h)   = ∫_0^h e^(λt)·φ(λ,t) dt``
* ``ω(λ,h)   = ∫_0^h φ(λ,t)² dt``

so that ``∫z = z0·φ + w·ψ`` and ``∫z² = z0²·φ(2λ) + 2·z0·w·χ + w²·ω``.

The textbook forms cancel catastrophically for small |λh| (long time constants over short
segments, the common case), so for |λh| ≤ 0.5 the Taylor series are summed instead; beyond that the
direct forms lose at most a digit.
"""
from __future__ import annotations

import math

_SERIES_LIMIT = 0.5
_TERMS = 30
_FACT = [math.factorial(k) for k in range(_TERMS + 3)]
# Series coefficients, precomputed: psi = h^2 Σ x^(k-1)/((k+1)k!), chi = h^2 Σ (2^k-1) x^(k-1)/((k+1)k!),
# omega = h^3 Σ_{k≥2} (2^k-2) x^(k-2)/((k+1)k!)
_PSI = [1.0 / ((k + 1) * _FACT[k]) for k in range(1, _TERMS)]
_CHI = [(2.0 ** k - 1.0) / ((k + 1) * _FACT[k]) for k in range(1, _TERMS)]
_OMEGA = [(2.0 ** k - 2.0) / ((k + 1) * _FACT[k]) for k in range(2, _TERMS + 1)]


def _poly(coeffs: list[float], x: float) -> float:
    total = 0.0
    for c in reversed(coeffs):
        total = total * x + c
    return total


def phi(lam: float, h: float) -> float:
    """∫_0^h e^(λt) dt (s); equals h for λ = 0."""
    x = lam * h
    if x == 0.0:
        return h
    return math.expm1(x) / lam


def psi(lam: float, h: float) -> float:
    """∫_0^h φ(λ,t) dt (s²)."""
    x = lam * h
    if abs(x) <= _SERIES_LIMIT:
        return h * h * _poly(_PSI, x)
    return (phi(lam, h) - h) / lam


def chi(lam: float, h: float) -> float:
    """∫_0^h e^(λt)·φ(λ,t) dt (s²)."""
    x = lam * h
    if abs(x) <= _SERIES_LIMIT:
        return h * h * _poly(_CHI, x)
    return (phi(2.0 * lam, h) - phi(lam, h)) / lam


def omega(lam: float, h: float) -> float:
    """∫_0^h φ(λ,t)² dt (s³)."""
    x = lam * h
    if abs(x) <= _SERIES_LIMIT:
        return h * h * h * _poly(_OMEGA, x)
    return (phi(2.0 * lam, h) - 2.0 * phi(lam, h) + h) / (lam * lam)
