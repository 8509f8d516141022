"""Closed forms for K repetitions of a per-mode affine cycle map ``z ← P·z + G``.

Inside a periodic regime every phase is an exact diagonal step, so one whole duty cycle is a
diagonal affine map too (models-and-numerics.md §5.5; diagonal because the modes are decoupled).
After ``m`` cycles ``z_m = a_m·z_0 + G·s_m`` with ``a_m = P^m`` and ``s_m = Σ_{l<m} P^l``.
The ledger of a jumped range needs the sums over cycles of ``z_m`` and ``z_m²``, which expand into

    t_N = Σ_{m<N} s_m,   u_N = Σ_{m<N} P^m·s_m,   v_N = Σ_{m<N} s_m²,   q_N = Σ_{m<N} P^(2m)

All are sums of non-negative terms for 0 ≤ P ≤ 1, so they are built by binary doubling
(``N → 2N`` and ``N → N+1``) without the cancellation of the textbook ratios when P is within
1e-12 of 1 (long leakage time constants over short cycles).
"""
from __future__ import annotations

import math

import numpy as np


def powers(p: float, m: int) -> tuple[float, float]:
    """``(P^m, Σ_{l<m} P^l)`` with ``P = p`` (computed stably)."""
    if m == 0:
        return 1.0, 0.0
    if p == 1.0:
        return 1.0, float(m)
    if p <= 0.0:
        return 0.0, 1.0
    x = math.log(p)
    return math.exp(m * x), math.expm1(m * x) / math.expm1(x)


def after_cycles(z, big_p, big_g, k: int) -> list[float]:
    """State after ``k`` cycles of the per-mode map ``z ← P·z + G`` from ``z``."""
    out = []
    for zi, p, g in zip(z, big_p, big_g):
        a, s = powers(p, k)
        out.append(a * zi + g * s)
    return out


def state_sums(z, big_p, big_g, count: int) -> tuple[list[float], list[float], list[float]]:
    """Per mode, over ``count`` cycles of ``z ← P·z + G`` from ``z``: the sums of the cycle-start
    states and of their squares (``z·s + G·t`` and ``z²·q + 2·z·G·u + G²·v``, range_sums), and
    the state after them."""
    sum_z, sum_z2, z_end = [], [], []
    for zi, p, g in zip(z, big_p, big_g):
        s, t, u, v, q = range_sums(p, count)
        sum_z.append(zi * s + g * t)
        sum_z2.append(zi * zi * q + 2.0 * zi * g * u + g * g * v)
        a, s_end = powers(p, count)
        z_end.append(a * zi + g * s_end)
    return sum_z, sum_z2, z_end


def cycle_weights(p, phi):
    """``(W, P)`` for a cycle of phases with per-mode decays ``p`` and forcing gains ``phi``
    (phases × modes, numpy): ``W_j = φ_j·Π_{l>j} p_l`` carries phase j's forcing to the cycle's
    end, so ``G = Σ_j W_j·w_j``, and ``P = Π_j p_j``. Products of factors in [0, 1] only."""
    import numpy as np

    after = np.cumprod(p[::-1], axis=0)[::-1]          # Π_{l≥j} p_l
    weights = np.empty_like(phi)
    weights[:-1] = after[1:] * phi[:-1]
    weights[-1] = phi[-1]
    return weights, after[0]


#: range sums already made, per (P, N): consecutive stretches of one duty cycle jump the same
#: few cycle counts with the same P (a morning's charging ramp, the hours of a hold)
_RANGE_SUMS: dict[tuple[float, int], tuple] = {}


def range_sums(p: float, n: int) -> tuple[float, float, float, float, float]:
    """``(s_N, t_N, u_N, v_N, q_N)`` for ``N = n`` cycles (see module docstring)."""
    hit = _RANGE_SUMS.get((p, n))
    if hit is None:
        if len(_RANGE_SUMS) >= 4096:
            _RANGE_SUMS.clear()
        hit = _RANGE_SUMS[(p, n)] = _range_sums(p, n)
    return hit


def _range_sums(p: float, n: int) -> tuple[float, float, float, float, float]:
    count = 0
    a, s, t, u, v, a2, q = 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0
    p2 = p * p
    for bit in (bin(n)[2:] if n > 0 else ""):
        # N -> 2N (every right-hand side uses the values for N)
        a, s, t, u, v, a2, q = (a * a, s + a * s, t + count * s + a * t, u + a * (s * s + a * u),
                                v + count * s * s + 2.0 * s * a * t + a * a * v, a2 * a2, q + a2 * q)
        count *= 2
        if bit == "1":
            # N -> N + 1
            a, s, t, u, v, a2, q = a * p, s + a, t + s, u + a * s, v + s * s, a2 * p2, q + a2
            count += 1
    return s, t, u, v, q
