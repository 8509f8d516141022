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

from .freeze import POWER_TOLERANCE_REL
from .schedule import NS_PER_S, PhaseTable, to_ns
from .segment import Coeffs, Phase


def cycle_map(phases: list[Phase], n: int) -> tuple[list[float], list[float]]:
    """Per-mode affine map over one full cycle: ``z ← P·z + G``."""
    big_p, big_g = [1.0] * n, [0.0] * n
    for ph in phases:
        p, g = ph.co.p, ph.co.g
        for i in range(n):
            big_g[i] = p[i] * big_g[i] + g[i]
            big_p[i] *= p[i]
    return big_p, big_g


def after_cycles(z, big_p, big_g, k: int) -> list[float]:
    """State after ``k`` cycles of the map (exact geometric sum; ``P = 1`` modes grow linearly)."""
    out = []
    for zi, p, g in zip(z, big_p, big_g):
        if p == 1.0:
            out.append(zi + k * g)
        else:
            pk = p ** k
            out.append(pk * zi + g * (1.0 - pk) / (1.0 - p))
    return out


def _open(system, z) -> float:
    o = system.outputs[0]
    return math.fsum(c * v for c, v in zip(o.c, z)) + o.f


#: largest disagreement between the predictor's and the corrector's voltage change, relative
CONSISTENCY_REL = 0.25
_MAX_HALVINGS = 60


def _consistent(e0: float, e1_pred: float, e1_corr: float) -> bool:
    return abs(e1_corr - e1_pred) <= CONSISTENCY_REL * abs(e1_pred - e0) + 1e-12 * max(abs(e0), 1.0)


def plan(stepper, table: PhaseTable, stop: float) -> tuple[list[Phase], bool, float]:
    """Phases with frozen currents for the next stretch, whether they cycle, and where it ends."""
    system, z = stepper.system, stepper.z
    e0 = _open(system, z)
    tol = POWER_TOLERANCE_REL * max(abs(e0), 1e-3)
    cyclic = table.cycle_s is not None
    predictor = stepper.phases_for(table, stop, e_open=e0)
    if cyclic:
        cycle = table.cycle_s
        k_max = int((stop - stepper.t) // cycle) if math.isfinite(stop) else 10 ** 12
        big_p, big_g = cycle_map(predictor, len(z))
        k = _largest_k(lambda kk: abs(_open(system, after_cycles(z, big_p, big_g, kk)) - e0) <= tol, k_max)
        while k >= 1:
            e1 = _open(system, after_cycles(z, big_p, big_g, k))
            corrected = stepper.phases_for(table, stop, e_open=0.5 * (e0 + e1))
            big_pc, big_gc = cycle_map(corrected, len(z))
            if _consistent(e0, e1, _open(system, after_cycles(z, big_pc, big_gc, k))):
                return corrected, True, stepper.t + k * cycle
            k //= 2
        # A single cycle moves the voltage too much: take the longest run of whole phases from the
        # start of the cycle that stays within tolerance, else one (shortened) phase.
        m, e1, span = _phase_prefix(system, z, predictor, e0, tol, stop - stepper.t)
        if m >= 2:
            prefix = PhaseTable(table.phases[:m], None, math.inf)
            corrected = stepper.phases_for(prefix, stop, e_open=0.5 * (e0 + e1))
            zc = list(z)
            for ph in corrected:
                zc = [ph.co.p[i] * zc[i] + ph.co.g[i] for i in range(len(zc))]
            if _consistent(e0, e1, _open(system, zc)):
                return corrected, False, stepper.t + span
        first = table.phases[0]
        return _one_segment(stepper, first, min(stop, stepper.t + first[0]), e0, tol)
    return _one_segment(stepper, table.phases[0], stop, e0, tol)


def _one_segment(stepper, phase_spec, stop, e0, tol):
    system, z = stepper.system, stepper.z
    h_full = stop - stepper.t
    single = PhaseTable([(math.inf, phase_spec[1])], None, math.inf)
    pred = stepper.phases_for(single, stop, e_open=e0)[0]

    def moved(h):
        co = Coeffs(system, h, pred.current)
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
        h = max(lo, 1e-9 * max(h_full, 1.0), 1e-9)
        h = to_ns(h) / NS_PER_S or 1e-9
    for _ in range(_MAX_HALVINGS):
        co = Coeffs(system, h, pred.current)
        e1 = _open(system, [co.p[i] * z[i] + co.g[i] for i in range(len(z))])
        phases = stepper.phases_for(single, stop, e_open=0.5 * (e0 + e1))
        cc = Coeffs(system, h, phases[0].current)
        if _consistent(e0, e1, _open(system, [cc.p[i] * z[i] + cc.g[i] for i in range(len(z))])):
            break
        h = to_ns(0.5 * h) / NS_PER_S or 1e-9
    return phases, False, min(stop, stepper.t + h)


def _phase_prefix(system, z, phases: list[Phase], e0: float, tol: float, room: float):
    """How many whole phases from the start keep the internal voltage within ``tol`` of ``e0``
    (and end by ``room`` seconds): count, voltage at their end, their duration."""
    zz, elapsed_ns, m, e_end = list(z), 0, 0, e0
    room_ns = to_ns(room) if math.isfinite(room) else None
    for ph in phases:
        if ph.co is None or (room_ns is not None and elapsed_ns + ph.h_ns >= room_ns):
            break
        zz = [ph.co.p[i] * zz[i] + ph.co.g[i] for i in range(len(zz))]
        e = _open(system, zz)
        if abs(e - e0) > tol:
            break
        m, e_end, elapsed_ns = m + 1, e, elapsed_ns + ph.h_ns
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
