"""Stretches with frozen power draws: how long the internal voltage stays within tolerance.

Constant-power and voltage-dependent draws make the network nonlinear. Over a stretch the engine
replaces them by constant currents solved at the midpoint internal voltage (predictor–corrector,
models-and-numerics.md §5.5 last bullet): a predictor pass with currents at the start voltage
``E0`` gives the voltage ``E1`` at the stretch end; the currents are then solved at ``(E0 + E1)/2``.
The stretch is as long as possible while ``|E1 - E0| ≤ POWER_TOLERANCE_REL·E0``: whole duty cycles
when a cycle moves the voltage less than that (found on the exact per-cycle map), otherwise one
segment shortened by bisection on its closed form. The corrected currents must move the voltage
about as the predictor did (within ``CONSISTENCY_REL`` of the predicted change): a source whose
current vanishes inside the tolerance band (a PV cell charging towards its open-circuit voltage
through a diode, a TENG near saturation) would otherwise be frozen at the wrong side of its
equilibrium; the stretch is halved until the two agree.
"""
from __future__ import annotations

import math

from .cyclemap import powers
from .fastforward import phase_start_maps
from .freeze import POWER_TOLERANCE_REL
from .regime import Regime
from .schedule import NS_PER_S, PhaseTable, to_ns
from .segment import Coeffs


def after_cycles(z, big_p, big_g, k: int) -> list[float]:
    """State after ``k`` cycles of the per-mode map ``z ← P·z + G``."""
    out = []
    for zi, p, g in zip(z, big_p, big_g):
        a, s = powers(p, k)
        out.append(a * zi + g * s)
    return out


def _open(system, z) -> float:
    o = system.outputs[0]
    return math.fsum(c * v for c, v in zip(o.c, z)) + o.f


#: largest disagreement between the predictor's and the corrector's voltage change, relative
CONSISTENCY_REL = 0.25
_MAX_HALVINGS = 60


def _consistent(e0: float, e1_pred: float, e1_corr: float) -> bool:
    return abs(e1_corr - e1_pred) <= CONSISTENCY_REL * abs(e1_pred - e0) + 1e-12 * max(abs(e0), 1.0)


def _cycle_end(system, z, regime: Regime, k: int) -> float:
    maps_a, maps_b = phase_start_maps(regime.p, regime.g)
    return _open(system, after_cycles(z, maps_a[-1].tolist(), maps_b[-1].tolist(), k))


def plan(stepper, table: PhaseTable, stop: float) -> tuple[Regime, float]:
    """The regime with frozen currents for the next stretch, and where the stretch ends."""
    system, z = stepper.system, stepper.z
    e0 = _open(system, z)
    tol = POWER_TOLERANCE_REL * max(abs(e0), 1e-3)
    if table.cycle_s is not None:
        predictor = stepper.regime_for(table, e_open=e0)
        k_max = int((stop - stepper.t) // table.cycle_s) if math.isfinite(stop) else 10 ** 12
        maps_a, maps_b = phase_start_maps(predictor.p, predictor.g)
        big_p, big_g = maps_a[-1].tolist(), maps_b[-1].tolist()
        k = _largest_k(lambda kk: abs(_open(system, after_cycles(z, big_p, big_g, kk)) - e0) <= tol, k_max)
        while k >= 1:
            e1 = _open(system, after_cycles(z, big_p, big_g, k))
            corrected = stepper.regime_for(table, e_open=0.5 * (e0 + e1))
            if _consistent(e0, e1, _cycle_end(system, z, corrected, k)):
                return corrected, stepper.t + k * table.cycle_s
            k //= 2
        # A single cycle moves the voltage too much: take the longest run of whole phases from the
        # start of the cycle that stays within tolerance, else one (shortened) phase.
        m, e1, span = _phase_prefix(system, z, predictor, e0, tol, stop - stepper.t)
        if m >= 2:
            prefix = PhaseTable(table.h_ns[:m], table.channels, table.member[:, :m], None, math.inf)
            corrected = stepper.regime_for(prefix, e_open=0.5 * (e0 + e1))
            if _consistent(e0, e1, _cycle_end(system, z, corrected, 1)):
                return corrected, stepper.t + span
        first = PhaseTable(table.h_ns[:1] * 0, table.channels, table.member[:, :1], None, table.end_s, endless=True)
        return _one_segment(stepper, first, min(stop, stepper.t + int(table.h_ns[0]) / NS_PER_S), e0, tol)
    return _one_segment(stepper, table, stop, e0, tol)


def _one_segment(stepper, single: PhaseTable, stop, e0, tol):
    system, z = stepper.system, stepper.z
    h_full = stop - stepper.t
    pred_current = float(stepper.regime_for(single, e_open=e0).current[0])

    def moved(h):
        co = Coeffs(system, h, pred_current)
        return abs(_open(system, [co.p[i] * z[i] + co.g[i] for i in range(len(z))]) - e0)

    h = h_full
    if moved(h) > tol:
        lo, hi = 0.0, h_full
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if moved(mid) <= tol:
                lo = mid
            else:
                hi = mid
        h = max(to_ns(lo) / NS_PER_S, 1e-9)
    for _ in range(_MAX_HALVINGS):
        co = Coeffs(system, h, pred_current)
        e1 = _open(system, [co.p[i] * z[i] + co.g[i] for i in range(len(z))])
        regime = stepper.regime_for(single, e_open=0.5 * (e0 + e1))
        cc = Coeffs(system, h, float(regime.current[0]))
        if _consistent(e0, e1, _open(system, [cc.p[i] * z[i] + cc.g[i] for i in range(len(z))])):
            break
        h = max(to_ns(0.5 * h) / NS_PER_S, 1e-9)
    return regime, min(stop, stepper.t + h)


def _phase_prefix(system, z, regime: Regime, e0: float, tol: float, room: float):
    """How many whole phases from the start keep the internal voltage within ``tol`` of ``e0``
    (and end by ``room`` seconds): count, voltage at their end, their duration."""
    zz, elapsed_ns, m, e_end = list(z), 0, 0, e0
    room_ns = to_ns(room) if math.isfinite(room) else None
    for j in range(regime.count):
        h_ns = int(regime.h_ns[j])
        if room_ns is not None and elapsed_ns + h_ns >= room_ns:
            break
        p, g = regime.p[j], regime.g[j]
        zz = [p[i] * zz[i] + g[i] for i in range(len(zz))]
        e = _open(system, zz)
        if abs(e - e0) > tol:
            break
        m, e_end, elapsed_ns = m + 1, e, elapsed_ns + h_ns
    return m, e_end, elapsed_ns / NS_PER_S


def _largest_k(ok, k_max: int) -> int:
    """Largest k in [0, k_max] with ok(k), assuming ok holds on a prefix of the integers."""
    if k_max < 1 or not ok(1):
        return 0
    lo, hi = 1, 2
    while hi <= k_max and ok(hi):
        lo, hi = hi, hi * 2
    hi = min(hi, k_max + 1)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo
