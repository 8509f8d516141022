"""Stretches with frozen power draws: how long the internal voltage stays within tolerance.

Constant-power and voltage-dependent draws make the network nonlinear. Over a stretch the engine
replaces them by constant currents solved at the midpoint internal voltage (predictor–corrector,
models-and-numerics.md §5.5 last bullet): a predictor pass with currents at the start voltage
``E0`` gives the voltage ``E1`` at the stretch end; the currents are then solved at ``(E0 + E1)/2``.
The stretch is as long as possible while ``|E1 - E0| ≤ POWER_TOLERANCE_REL·E0``: whole duty cycles
when a cycle moves the voltage less than that (found on the exact per-cycle map), otherwise as many
whole phases as stay within it, otherwise one segment shortened by bisection on its closed form.
Voltage-dependent draws (an LED: its current can change much faster than the voltage) also keep
their current within the same relative tolerance over a stretch.
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


def plan(stepper, table: PhaseTable, stop: float) -> tuple[list[Phase], bool, float]:
    """Phases with frozen currents for the next stretch, whether they cycle, and where it ends."""
    system, z = stepper.system, stepper.z
    e0 = _open(system, z)
    tol = POWER_TOLERANCE_REL * max(abs(e0), 1e-3)
    steady = _steady_test(table, e0, tol)
    cyclic = table.cycle_s is not None
    if cyclic:
        cycle = table.cycle_s
        k_max = int((stop - stepper.t) // cycle) if math.isfinite(stop) else 10 ** 12
        if k_max >= 1:
            predictor = stepper.phases_for(table, stop, e_open=e0)
            big_p, big_g = cycle_map(predictor, len(z))
            k = _largest_k(lambda kk: steady(_open(system, after_cycles(z, big_p, big_g, kk))), k_max)
            if k >= 1:
                e1 = _open(system, after_cycles(z, big_p, big_g, k))
                return stepper.phases_for(table, stop, e_open=0.5 * (e0 + e1)), True, stepper.t + k * cycle
    # Less than a cycle (or no cycle): as many whole phases as stay within the tolerance.
    n, e1, span = _whole_phases(stepper, table, e0, steady, stop)
    if n >= 1:
        part = PhaseTable(table.phases[:n], None, math.inf)
        return stepper.phases_for(part, stop, e_open=0.5 * (e0 + e1)), False, stepper.t + span
    # The first phase alone moves the voltage too much: shorten it.
    first = table.phases[0]
    return _one_segment(stepper, first, min(stop, stepper.t + first[0]), e0, steady)


def _steady_test(table: PhaseTable, e0: float, tol: float):
    """``steady(e1)``: whether a stretch from internal voltage ``e0`` to ``e1`` is within tolerance,
    for the voltage and for the current of every voltage-dependent draw of ``table``."""
    functions = {id(d.current_of_voltage): d.current_of_voltage
                 for _, draws in table.phases for d in draws if d.current_of_voltage is not None}
    if not functions:
        return lambda e1: abs(e1 - e0) <= tol
    at_e0 = [(f, f(e0)) for f in functions.values()]
    floor = 1e-12 + 1e-3 * max(abs(i) for _, i in at_e0)

    def steady(e1: float) -> bool:
        if abs(e1 - e0) > tol:
            return False
        for f, i0 in at_e0:
            i1 = f(e1)
            if abs(i1 - i0) > POWER_TOLERANCE_REL * max(abs(i0), abs(i1), floor):
                return False
        return True

    return steady


def _whole_phases(stepper, table: PhaseTable, e0: float, steady, stop: float) -> tuple[int, float, float]:
    """How many whole leading phases of ``table`` (with currents at ``e0``) stay steady:
    (count, E at their end, their duration). Phases are solved in growing chunks, so a long
    merged cycle costs only as much as the part of it that is used."""
    system = stepper.system
    span = stop - stepper.t
    zc, t, count, e_end = list(stepper.z), 0.0, 0, e0
    start, chunk = 0, 16
    while start < len(table.phases):
        part = PhaseTable(table.phases[start:start + chunk], None, math.inf)
        for ph in stepper.phases_for(part, stop, e_open=e0):
            if math.isinf(ph.h) or t + ph.h > span * (1 + 1e-12):
                return count, e_end, t
            zc = [ph.co.p[i] * zc[i] + ph.co.g[i] for i in range(len(zc))]
            e = _open(system, zc)
            if not steady(e):
                return count, e_end, t
            t, count, e_end = t + ph.h, count + 1, e
        start, chunk = start + chunk, chunk * 2
    return count, e_end, t


def _one_segment(stepper, phase_spec, stop, e0, steady):
    system, z = stepper.system, stepper.z
    h_full = stop - stepper.t
    single = PhaseTable([(math.inf, phase_spec[1])], None, math.inf)
    pred = stepper.phases_for(single, stop, e_open=e0)[0]

    def ok(h):
        co = Coeffs(system, h, pred.current)
        return steady(_open(system, [co.p[i] * z[i] + co.g[i] for i in range(len(z))]))

    h = h_full
    if not ok(h):
        lo, hi = 0.0, h_full
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if ok(mid):
                lo = mid
            else:
                hi = mid
        h = max(lo, 1e-9 * max(h_full, 1.0), 1e-9)
        h = to_ns(h) / NS_PER_S or 1e-9
    co = Coeffs(system, h, pred.current)
    e1 = _open(system, [co.p[i] * z[i] + co.g[i] for i in range(len(z))])
    phases = stepper.phases_for(single, stop, e_open=0.5 * (e0 + e1))
    return phases, False, min(stop, stepper.t + h)


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
