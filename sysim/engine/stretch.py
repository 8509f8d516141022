"""Stretches with frozen power draws: how long a linearisation of the draws stays within tolerance.

Constant-power and voltage-dependent draws make the network nonlinear. Over a stretch the engine
replaces them by constant currents solved at the midpoint internal voltage (predictor–corrector,
models-and-numerics.md §5.5 last bullet): a predictor pass with currents at the start voltage
``E0`` gives the voltage ``E1`` at the stretch end; the currents are then solved at ``(E0 + E1)/2``.

What the frozen current is depends on the draw. A constant-power draw is frozen at its midpoint
value ``P/V(E_mid)``: on a capacitor the voltage is then linear in time and ``I·∫V dt = P·h``
exactly, so the energy it books is its power times the time. Inside the stretch the exact voltage
bulges off that straight line by up to ΔE²/(8·E) (0.34 mV for 3 % of 3 V): samples there are
taken on the curve instead (sysim.engine.curve). A voltage-dependent draw (PV wired straight to
the store, an LED, a TENG) has no such invariant and is frozen for the trajectory instead: the
constant current that takes a capacitor from E0 to E1 in the same time is the harmonic mean of
I(E) over [E0, E1], and Simpson's rule on 1/I gives it to fourth order,
``I* = 6/(1/I(E0) + 4/I(E_mid) + 1/I(E1))`` (applied to the voltage-dependent draws' subtotal
whenever the three values share a sign).

A stretch is accepted when (a) constant-power draws are present and the internal voltage moves by
at most ``POWER_TOLERANCE_REL`` of its value (their current is P/V), (b) the phases' currents at
``E1`` differ from those at ``E0`` by at most ``CURRENT_TOLERANCE_REL`` and their curvature over the
stretch, ``|I(E_mid) - (I(E0) + I(E1))/2|``, the midpoint rule's own error term, is within
``CURVATURE_TOLERANCE_REL`` (steep or kinked sources: a PV cell at its knee, an LED), both as
charges over one pass of the phases (each phase weighted by its length) relative to the charge the
draws move, and (c) the corrected currents move the voltage about as the
predictor did (within ``CONSISTENCY_REL`` of the predicted change; otherwise a source whose current
vanishes inside the band would be frozen on the wrong side of its equilibrium). The midpoint rule's
error then scales with the square of those tolerances. Stretches are whole duty cycles when a
cycle moves little (searched on the exact per-cycle map), else the longest run of whole phases,
else one segment shortened by bisection. The common case, whole cycles or a run of phases of a
table of constant-current and constant-power draws, is planned first without building regimes
(sysim.engine.cycleplan, with the same rules); this module plans what that leaves.
"""
from __future__ import annotations

import math

import numpy as np

from .cyclemap import after_cycles
from .freeze import POWER_TOLERANCE_REL, harmonic_scale
from .levels import watched_levels
from .regime import Regime, _currents
from .schedule import NS_PER_S, PhaseTable, to_ns
from .segment import step_state

#: largest change of the draws' charge over one pass of the phases across a stretch, relative to it
CURRENT_TOLERANCE_REL = 0.05
#: largest curvature of the currents over a stretch, |I(E_mid) - (I(E0) + I(E1))/2|, as a charge
#: over one pass of the phases relative to the draws' charge: the midpoint rule's own error term,
#: so it bounds the charge error
CURVATURE_TOLERANCE_REL = 1e-4
#: currents below this count as this much when judging (a) and (b): near an equilibrium (a PV cell
#: at its open-circuit voltage) relative tests would shrink stretches without end, while the charge
#: error they guard against is at most tolerance × floor × duration (nC over hours)
CURRENT_FLOOR_A = 1e-9
#: a stretch whose voltage band holds a watched level is cut to this relative size: a crossing ends
#: a stretch early, and the part walked until then carries the whole stretch's frozen current,
#: an error first order in the stretch's size
NEAR_LEVEL_TOLERANCE_REL = 0.001
#: largest disagreement between the predictor's and the corrector's voltage change, relative
CONSISTENCY_REL = 0.25
_MAX_HALVINGS = 60


def _open(system, z) -> float:
    o = system.outputs[0]
    return math.fsum(c * v for c, v in zip(o.c, z)) + o.f


def _open_after(system, z, h: float, current: float) -> float:
    """Internal voltage after ``h`` s at constant ``current`` (the state part of the exact step)."""
    return _open(system, step_state(system, z, h, current))


class _Acceptance:
    """Tolerances (a) and (b) of the module docstring for one table starting at ``e0``."""

    def __init__(self, table: PhaseTable, e0: float, r_series: float, levels=(), power_tolerance=None):
        self.table, self.e0, self.r = table, e0, r_series
        has_power = table.draws_power
        tol_rel = POWER_TOLERANCE_REL if power_tolerance is None else power_tolerance
        self.tol_v = tol_rel * max(abs(e0), 1e-3) if has_power else math.inf
        self.near_v = NEAR_LEVEL_TOLERANCE_REL * max(abs(e0), 1e-3)
        self.levels = levels  # (level, margin) pairs in internal-voltage terms
        self.functional = table.draws_functional
        if self.functional:
            self.i0 = _currents(table.channels, table.member, e0, r_series).sum(axis=0)
            h_s = np.asarray(table.h_ns, dtype=float) / NS_PER_S
            self.weights = h_s if np.isfinite(h_s).all() and h_s.sum() > 0.0 else np.ones(len(h_s))
            self.span = float(self.weights.sum())

    def ok_array(self, e1: np.ndarray) -> np.ndarray:
        """:meth:`ok` for an array of end voltages, for tables without voltage-dependent draws."""
        moved = np.abs(e1 - self.e0)
        good = moved <= self.tol_v
        if self.levels:
            near = moved > self.near_v
            lo, hi = np.minimum(e1, self.e0), np.maximum(e1, self.e0)
            for level, margin in self.levels:
                good &= ~(near & (lo - margin <= level) & (level <= hi + margin))
        return good

    def ok(self, e1: float) -> bool:
        moved = abs(e1 - self.e0)
        if moved > self.tol_v:
            return False
        if moved > self.near_v:
            lo, hi = min(self.e0, e1), max(self.e0, e1)
            if any(lo - margin <= level <= hi + margin for level, margin in self.levels):
                return False
        if not self.functional:
            return True
        # charges over one pass of the phases (A·s): what the frozen currents get wrong moves
        # the voltage, so the changes are weighed by each phase's length against the charge the
        # draws move, not against the largest current (a logger's 8 mA pulse let a PV cell's
        # current swing by 0.3 mA unseen, and the store drifted 14 mV below its balance)
        w = self.weights
        i1 = _currents(self.table.channels, self.table.member, e1, self.r).sum(axis=0)
        scale = max(float(w @ np.maximum(np.abs(self.i0), np.abs(i1))), CURRENT_FLOOR_A * self.span)
        if float(w @ np.abs(i1 - self.i0)) > CURRENT_TOLERANCE_REL * scale:
            return False
        i_mid = _currents(self.table.channels, self.table.member, 0.5 * (self.e0 + e1), self.r).sum(axis=0)
        return float(w @ np.abs(i_mid - 0.5 * (self.i0 + i1))) <= CURVATURE_TOLERANCE_REL * scale


def frozen(stepper, table: PhaseTable, e0: float, e1: float, base: Regime | None = None) -> Regime:
    """The regime with the nonlinear draws frozen for a stretch from E0 to E1 (module docstring);
    ``base``: a regime of the same table whose coefficients can be shared."""
    r = stepper.system.series_resistance
    e_mid = 0.5 * (e0 + e1)
    mid = _currents(table.channels, table.member, e_mid, r)
    if table.draws_functional:
        functional = np.array([d.current_of_voltage is not None for d in table.channels], dtype=bool)
        sub0 = _currents(table.channels, table.member, e0, r)[functional].sum(axis=0)
        sub1 = _currents(table.channels, table.member, e1, r)[functional].sum(axis=0)
        sub_m = mid[functional].sum(axis=0)
        mid = mid.copy()
        mid[functional] *= harmonic_scale(sub0, sub_m, sub1)
    if base is not None and base.table is table and base.system is stepper.system:
        shared = base.with_currents(mid)
        if shared is not None:
            return shared
    return stepper.regime_for(table, e_open=e_mid, currents=mid)


def _consistent(e0: float, e1_pred: float, e1_corr: float) -> bool:
    return abs(e1_corr - e1_pred) <= CONSISTENCY_REL * abs(e1_pred - e0) + 1e-12 * max(abs(e0), 1.0)


def _solve(stepper, table: PhaseTable, e0: float, e1: float, end_voltage, base=None) -> Regime | None:
    """Freeze at (E0, E1), step, and freeze again at the E1 that gives: the harmonic-mean current
    is exact only at the true end voltage, and each pass gains an order. None when the passes do
    not agree (the stretch must be shortened)."""
    first = frozen(stepper, table, e0, e1, base)
    e1a = end_voltage(first)
    if not _consistent(e0, e1, e1a):
        return None
    second = frozen(stepper, table, e0, e1a, base)
    e1b = end_voltage(second)
    if not _consistent(e0, e1a, e1b):
        return None
    return second


def plan(stepper, table: PhaseTable, stop: float, watches=()) -> tuple[Regime, float]:
    """The regime with frozen currents for the next stretch, and where the stretch ends."""
    system, z = stepper.system, stepper.z
    e0 = _open(system, z)
    predictor = stepper.regime_for(table, e_open=e0)
    levels = watched_levels(stepper, table, watches, e0, predictor.currents)
    accept = _Acceptance(table, e0, system.series_resistance, levels, stepper.power_tolerance)
    if table.cycle_s is not None and _still_short(stepper, table):
        return _one_segment(stepper, table.first_phase(), min(stop, stepper.t + int(table.h_ns[0]) / NS_PER_S), e0, levels)
    if table.cycle_s is not None:
        k_max = int((stop - stepper.t) // table.cycle_s) if math.isfinite(stop) else 10 ** 12
        maps_a, maps_b = predictor.start_maps()
        big_p, big_g = maps_a[-1].tolist(), maps_b[-1].tolist()
        ends: dict[int, float] = {}

        def end_after(kk: int) -> float:
            e = ends.get(kk)
            if e is None:
                e = ends[kk] = _open(system, after_cycles(z, big_p, big_g, kk))
            return e

        k = _largest_k(lambda kk: accept.ok(end_after(kk)), k_max,
                       moved=lambda kk: abs(end_after(kk) - e0), limit=accept.tol_v)
        if k == k_max and math.isfinite(stop):
            # Whole cycles reach up to the stop: take the part of a cycle before it too, so that
            # a light segment that is not a whole number of cycles (one minute of a 16 s MPPT
            # cycle) is one stretch, not three (cycles, a run of phases, one cut phase).
            cycle_ns = int(table.h_ns.sum())
            rem_ns = to_ns(stop - stepper.t) - k * cycle_ns
            if 0 < rem_ns < cycle_ns:  # (k from the float span may be one short: then not here)
                e1 = _open_at(system, z, predictor, k, rem_ns)
                if accept.ok(e1):
                    corrected = _solve(stepper, table, e0, e1, lambda r: _open_at(system, z, r, k, rem_ns), predictor)
                    if corrected is not None:
                        return corrected, stop
        while k >= 1:
            e1 = _open(system, after_cycles(z, big_p, big_g, k))
            corrected = _solve(stepper, table, e0, e1, lambda r, k=k: _after_regime(system, z, r, k), predictor)
            if corrected is not None:
                return corrected, stepper.t + k * table.cycle_s
            k //= 2
        # A single cycle moves too much: take the longest run of whole phases that stays within
        # tolerance, else one (shortened) phase.
        m, e1, span = _phase_prefix(system, z, predictor, accept, stop - stepper.t)
        if m >= 2:
            prefix = table.prefix(m)
            corrected = _solve(stepper, prefix, e0, e1, lambda r: _after_regime(system, z, r, 1))
            if corrected is not None:
                return corrected, stepper.t + span
        return _one_segment(stepper, table.first_phase(), min(stop, stepper.t + int(table.h_ns[0]) / NS_PER_S), e0, levels)
    return _one_segment(stepper, table, stop, e0, levels)


def _still_short(stepper, table: PhaseTable) -> bool:
    """Whether the last stretch was one segment cut to under a quarter of this table's cycle by
    the tolerances of voltage-dependent draws: a PV cell wired to the store relaxes towards its
    operating point with a time constant of seconds, and every stretch of a sunny hour is then
    such a segment; whole cycles and runs of phases (a few closed-form passes each) are not tried
    again until one segment passes a whole phase."""
    short = stepper.short_segment_s
    return short is not None and table.draws_functional and 4.0 * short < table.cycle_s


def _one_segment(stepper, single: PhaseTable, stop, e0, levels=()):
    system, z = stepper.system, stepper.z
    accept = _Acceptance(single, e0, system.series_resistance, levels, stepper.power_tolerance)
    h_full = stop - stepper.t
    pred_current = float(stepper.regime_for(single, e_open=e0).current[0])
    h = h_full

    def ok(length: float) -> bool:
        return accept.ok(_open_after(system, z, length, pred_current))

    if not ok(h):
        # bisection on log h: the accepted length is found to 1 % in a few dozen closed forms,
        # in about eight from the last short stretch's length (a bracket of a factor 2 around it)
        lo, hi = max(h_full * 1e-12, 1e-9), h_full
        lo_ok = False
        guess = stepper.short_segment_s
        if guess is not None and lo < guess < hi:
            if ok(guess):
                lo, lo_ok = guess, True
                if 2.0 * guess < hi:
                    if ok(2.0 * guess):
                        lo = 2.0 * guess
                    else:
                        hi = 2.0 * guess
            else:
                hi = guess
                if 0.5 * guess > lo and ok(0.5 * guess):
                    lo, lo_ok = 0.5 * guess, True
        if lo_ok or ok(lo):
            while hi / lo > 1.01:
                mid = math.sqrt(lo * hi)
                if ok(mid):
                    lo = mid
                else:
                    hi = mid
        h = max(to_ns(lo) / NS_PER_S, 1e-9)
        stepper.short_segment_s = h
    else:
        stepper.short_segment_s = None
    for _ in range(_MAX_HALVINGS):
        e1 = _open_after(system, z, h, pred_current)
        regime = _solve(stepper, single, e0, e1, lambda r, h=h: _open_after(system, z, h, float(r.current[0])))
        if regime is not None or h <= 1e-9:
            break
        h = max(to_ns(0.5 * h) / NS_PER_S, 1e-9)
    if regime is None:
        regime = frozen(stepper, single, e0, e1)
    return regime, min(stop, stepper.t + h)


def _open_at(system, z, regime: Regime, cycles: int, rem_ns: int) -> float:
    """Internal voltage ``cycles`` whole cycles of a cyclic regime and ``rem_ns`` ns (less than a
    cycle) after the state ``z``."""
    return _open(system, _state_at(system, z, regime, cycles, rem_ns))


def _state_at(system, z, regime: Regime, cycles: int, rem_ns: int) -> list[float]:
    """State ``cycles`` whole cycles and ``rem_ns`` ns (less than a cycle) after the state ``z``
    at the start of ``regime``'s phases: the cycle map, the map to the start of the phase holding
    the point, and the exact step of that phase's part."""
    a, b = regime.start_maps()
    zk = after_cycles(z, a[-1].tolist(), b[-1].tolist(), cycles) if cycles else list(z)
    offsets = regime.table.ends_ns
    m = int(np.searchsorted(offsets, rem_ns, side="right"))
    start = int(offsets[m - 1]) if m > 0 else 0
    zm = [ai * zi + bi for ai, zi, bi in zip(a[m].tolist(), zk, b[m].tolist())]
    return step_state(system, zm, (rem_ns - start) / NS_PER_S, float(regime.current[m]))


def _after_regime(system, z, regime: Regime, cycles: int) -> float:
    a, b = regime.start_maps()
    return _open(system, after_cycles(z, a[-1].tolist(), b[-1].tolist(), cycles))


def _phase_prefix(system, z, regime: Regime, accept: _Acceptance, room: float):
    """How many whole phases from the start stay within tolerance (and end by ``room`` seconds):
    count, internal voltage at their end, their duration."""
    if not accept.functional:
        # all phase ends at once from the start maps (z_j = A_j·z + B_j)
        a, b = regime.start_maps()
        out = system.outputs[0]
        e = (a[1:] * np.array(z) + b[1:]) @ np.array(out.c) + out.f
        ends_ns = regime.table.ends_ns
        good = accept.ok_array(e)
        if math.isfinite(room):
            good &= ends_ns < to_ns(room)
        m = int(np.argmin(good)) if not good.all() else len(good)
        if m == 0:
            return 0, accept.e0, 0.0
        return m, float(e[m - 1]), int(ends_ns[m - 1]) / NS_PER_S
    zz, elapsed_ns, m, e_end = list(z), 0, 0, accept.e0
    room_ns = to_ns(room) if math.isfinite(room) else None
    for j in range(regime.count):
        h_ns = int(regime.h_ns[j])
        if room_ns is not None and elapsed_ns + h_ns >= room_ns:
            break
        p, g = regime.p[j], regime.g[j]
        zz = [p[i] * zz[i] + g[i] for i in range(len(zz))]
        e = _open(system, zz)
        if not accept.ok(e):
            break
        m, e_end, elapsed_ns = m + 1, e, elapsed_ns + h_ns
    return m, e_end, elapsed_ns / NS_PER_S


def _largest_k(ok, k_max: int, moved=None, limit: float = math.inf) -> int:
    """Largest k in [0, k_max] with ok(k), assuming ok holds on a prefix of the integers.
    ``moved(k)``, if given, is how far k cycles move the voltage and ``limit`` how far ok allows:
    the search then starts where the secant through the known points reaches the limit (the
    voltage of a charging ramp moves almost linearly with k), which mostly needs two tests."""
    if k_max < 1 or not ok(1):
        return 0
    if k_max == 1 or ok(k_max):
        return k_max  # the common case: the whole span up to the stop moves little
    lo, hi = 1, k_max  # ok(lo), not ok(hi)
    if moved is not None and math.isfinite(limit):
        m_lo, m_hi = moved(lo), moved(hi)
        for _ in range(4):
            if hi - lo <= 1 or not m_lo < limit < m_hi:
                break
            k = lo + int((limit - m_lo) / (m_hi - m_lo) * (hi - lo))
            k = min(max(k, lo + 1), hi - 1)
            if ok(k):
                lo, m_lo = k, moved(k)
                if k + 1 == hi or not ok(k + 1):
                    return k
                lo, m_lo = k + 1, moved(k + 1)
            else:
                hi, m_hi = k, moved(k)
        return _bisect(ok, lo, hi)
    lo, hi = 1, 2
    while hi <= k_max and ok(hi):
        lo, hi = hi, hi * 2
    return _bisect(ok, lo, min(hi, k_max + 1))


def _bisect(ok, lo: int, hi: int) -> int:
    """Largest k in [lo, hi) with ok(k), given ok(lo) and not ok(hi)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo
