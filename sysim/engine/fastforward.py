"""Exact fast-forward over whole duty cycles (models-and-numerics.md §5.5).

In a periodic regime one cycle is a diagonal affine map per mode, ``z ← P·z + G``, so the state
after any number of cycles, and the ledger sums over them, are closed forms (:mod:`cyclemap`).
What remains is to know that nothing happens inside a range of cycles ``[k0, k1]``:

* Each mode's value at a given phase boundary is monotone in the cycle index (``a_m = P^m``), so
  over the range the output of phase ``j`` is bounded by the per-mode extremes of the four corner
  states (phase start/end at ``k0`` and ``k1``): a cheap rigorous bound.
* A tight rigorous bound: since ``y(t) = K + Σ c_i·(p_i(t)·z_i + q_i(t)·w_i)`` with ``p_i(t) > 0``,
  the trajectory started from the per-mode worst corner state bounds the phase in every cycle of
  the range; its exact extreme over the phase is found by branch and bound (:mod:`crossing`).
* Running extremes of the terminal voltage (the summary's exact min and max) are updated without
  stepping when the phase is monotone over the range: its extremes are then its boundary values,
  sums of monotone sequences in the cycle index, searched exactly over the integers.

A range whose bounds reach a watched level (brown-out, PMIC thresholds) or a new extreme that is
not monotone is split in halves; a single such cycle is stepped segment by segment on the event
path. A cycle that holds a sample time is jumped like the others when its check passes, the sample
read from the closed-form state at the start of its phase, and so are the whole phases of the part
of a cycle left before the stop. So the result equals event-by-event stepping up to rounding, and
the first crossing is located exactly inside its cycle.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from .crossing import SegmentView
from .cyclemap import after_cycles, powers, state_sums
from .jumpsamples import take_samples
from .schedule import NS_PER_S
from .walk import sample_offset_ns

_TOL = 1e-12  # V: differences below this are not worth stepping for


class FastForward:
    def __init__(self, walk):
        self.walk = walk
        self.st = walk.st
        self.system = walk.system
        regime = self.regime = walk.regime
        self.n = self.system.n
        self.cycle_ns = int(regime.h_ns.sum())
        self.A, self.B = regime.start_maps()  # phase-start state = A_j·z_k + B_j
        self.P, self.G = self.A[-1].tolist(), self.B[-1].tolist()
        self.offsets_ns = regime.table.starts_ns
        self.k_term = walk.k_term
        self.lo_lim, self.hi_lim = walk.lo_lim, walk.hi_lim
        self.c = [np.array(self.system.outputs[o].c) for o in walk.outputs]

    # --- driving -------------------------------------------------------------------------------
    def run(self):
        walk, st = self.walk, self.st
        total = walk.span_ns // self.cycle_ns
        k = 0
        # Many samples in the span (a trace recorded every minute through a held day): one check
        # of all its cycles, and when nothing happens in them at all, each sample's cycle needs
        # none of its own (a part of a clear range is clear).
        rel = sample_offset_ns(st.sampler, walk.t0)
        if rel is not None and total > 1 and rel + st.sampler.every_s * NS_PER_S < total * self.cycle_ns \
                and self._assess(0, total - 1):
            # ... and then the samples are closed forms in the cycle index, and the range one jump
            take_samples(self, total)
            self._jump(total)
            self._prefix()
            return walk.run()
        while k < total:
            k_stop = total
            sampler = st.sampler
            rel = sample_offset_ns(sampler, walk.t0)
            if rel is not None:
                k_stop = max(min(k_stop, rel // self.cycle_ns), k)
                if k_stop < total and self._assess(k, k_stop):
                    # the cycles up to and including the one holding the sample are clear: jump
                    # to it and take the sample in closed form (one check for both)
                    if k_stop > k:
                        self._jump(k_stop - k)
                    self._sampled_cycle(k_stop, assessed=True)
                    k = k_stop + 1
                    continue
            if k_stop > k:
                crossing = self._process(k, k_stop - 1)
                if crossing is not None:
                    return crossing
                k = k_stop
            if k < total:
                crossing = self._sampled_cycle(k)
                if crossing is not None:
                    return crossing
                k += 1
        self._prefix()
        return walk.run()

    def _process(self, k0: int, k1: int):
        """Handle cycles k0..k1 (state at k0 in ``st.z``): jump, split or step in detail."""
        if self._assess(k0, k1):
            self._jump(k1 - k0 + 1)
            return None
        if k0 == k1:
            return self._detail(k0)
        suspect = self._first_suspect(k0, k1)
        if suspect is not None:
            # check the cycles before the suspect in one go and the suspect on its own, instead of
            # halving the range down to it (each failed check costs a branch-and-bound search)
            for lo, hi in ((k0, suspect - 1), (suspect, suspect), (suspect + 1, k1)):
                if lo <= hi:
                    crossing = self._process(lo, hi)
                    if crossing is not None:
                        return crossing
            return None
        mid = (k0 + k1) // 2
        crossing = self._process(k0, mid)
        if crossing is not None:
            return crossing
        return self._process(mid + 1, k1)

    def _prefix(self) -> None:
        """Jump the whole phases of the part of a cycle left before the stop time (a light
        segment of one minute is not a whole number of 16 s MPPT cycles) when none of them can
        reach a watched level or a new extreme and none holds a sample; the walk then steps only
        the last, cut phase. The phase that ends at the stop itself is left to the walk, as the
        event path books it."""
        walk = self.walk
        if walk.span_ns is None or walk.index != 0:
            return
        rem_ns = walk.span_ns - walk.elapsed_ns
        m = bisect.bisect_left(self.offsets_ns, rem_ns) - 1  # phases ending strictly before the stop
        if m < 2:
            return
        rel = sample_offset_ns(self.st.sampler, walk.t0)
        if rel is not None and rel < walk.elapsed_ns + self.offsets_ns[m]:
            return
        k = walk.elapsed_ns // self.cycle_ns
        if not self._assess(k, k, m):
            return
        z0 = np.array(self.st.z)
        self._book_phases(z0, 0, m)
        self.st.z[:] = (self.A[m] * z0 + self.B[m]).tolist()
        walk.elapsed_ns += self.offsets_ns[m]
        walk.index = m

    def _sampled_cycle(self, k: int, assessed: bool = False):
        """A cycle that holds sample times: jumped like any other when nothing else happens in it
        (samples do not touch the trajectory), each sample taken from the closed-form state at
        the start of its phase; the ledger is booked phase range by phase range so that a sample
        reads the energies up to its own time. Otherwise the cycle is stepped in detail."""
        if not assessed and not self._assess(k, k):
            return self._detail(k)
        walk, st = self.walk, self.st
        base = walk.elapsed_ns
        end = base + self.cycle_ns
        z0 = np.array(st.z)
        booked = 0
        while True:
            rel = sample_offset_ns(st.sampler, walk.t0)
            if rel is None or rel >= end:
                break
            j = bisect.bisect_right(self.offsets_ns, rel - base) - 1
            self._book_phases(z0, booked, j)
            booked = j
            phase = self.regime.phase(j)
            z_j = (self.A[j] * z0 + self.B[j]).tolist()
            st._samples(z_j, phase.co, phase, walk.t0, base + self.offsets_ns[j], base + self.offsets_ns[j + 1])
        self._book_phases(z0, booked, self.regime.count)
        st.z[:] = (self.A[-1] * z0 + self.B[-1]).tolist()
        walk.elapsed_ns = end
        return None

    def _book_phases(self, z0: np.ndarray, lo: int, hi: int) -> None:
        """Book phases ``lo``..``hi - 1`` of one cycle that starts in state ``z0`` (its phase-start
        states from the maps), counting them as simulated segments."""
        if hi <= lo:
            return
        book_phases(self.walk.book, self.A, self.B, z0, lo, hi)
        self.st.segments += hi - lo

    def _detail(self, k: int):
        return self.walk.run(until_ns=(k + 1) * self.cycle_ns)

    # --- state and ledger in closed form ---------------------------------------------------------
    def _state_after(self, z, m: int) -> list[float]:
        return after_cycles(z, self.P, self.G, m)

    def _jump(self, count: int) -> None:
        st, walk = self.st, self.walk
        st.z[:] = book_cycles(walk.book, self.A, self.B, self.P, self.G, st.z, count)
        walk.elapsed_ns += count * self.cycle_ns
        st.segments += count * self.regime.count

    # --- deciding whether a range can be jumped ------------------------------------------------
    def _assess(self, k0: int, k1: int, upto: int | None = None) -> bool:
        """True when cycles k0..k1 can be jumped: no watched level and no new extreme that is not
        settled here is reachable in them. ``upto``: only the first that many phases (of the
        single cycle k0 = k1)."""
        st, walk = self.st, self.walk
        z0 = list(st.z)
        single = k1 == k0
        z1 = z0 if single else self._state_after(z0, k1 - k0)
        starts0 = self.A * np.array(z0) + self.B
        starts1 = starts0 if single else self.A * np.array(z1) + self.B
        phase = self.regime.phase
        bounds = []
        for slot, c in enumerate(self.c):
            lo, hi = corner_bounds(starts0, None if single else starts1, c)
            if upto is not None:
                lo, hi = lo[:upto], hi[:upto]
            bounds.append((lo, hi))
            for j in np.flatnonzero(lo < self.lo_lim[slot][:len(lo)]):
                if self._tight(phase(j), c, starts0[j], starts1[j], "min") < self.lo_lim[slot][j]:
                    return False
            for j in np.flatnonzero(hi > self.hi_lim[slot][:len(hi)]):
                if self._tight(phase(j), c, starts0[j], starts1[j], "max") > self.hi_lim[slot][j]:
                    return False
        # No watched level is reachable: the range will be jumped (or split for extremes only),
        # so new running extremes of the terminal voltage may be settled now.
        c = self.c[0]
        lo, hi = bounds[0]
        k_term = self.k_term[:len(lo)]
        low = np.flatnonzero(k_term + lo < st.v_min - _TOL)
        high = np.flatnonzero(k_term + hi > st.v_max + _TOL)
        for j in sorted(set(low) | set(high)):
            k_term = float(self.k_term[j])
            need_min = j in low and \
                k_term + self._tight(phase(j), c, starts0[j], starts1[j], "min") < st.v_min - _TOL
            need_max = j in high and \
                k_term + self._tight(phase(j), c, starts0[j], starts1[j], "max") > st.v_max + _TOL
            if (need_min or need_max) and not self._monotone_extremes(j, k1 - k0 + 1, z0, c, k_term,
                                                                      need_min, need_max):
                return False
        return True

    def _first_suspect(self, k0: int, k1: int) -> int | None:
        """The first cycle in [k0, k1] in which a phase's boundary values pass a watched level, by
        bisection on the cycle index (the boundary values are monotone in it for a monotone
        trend), or None when the last cycle's do not: a guess of where a crossing is, so that the
        rigorous check need not halve its way there; a wrong guess costs only a split."""
        z0 = self.st.z
        if self._passes(z0):
            return k0
        lo, hi = 0, k1 - k0
        if not self._passes(self._state_after(z0, hi)):
            return None
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._passes(self._state_after(z0, mid)):
                hi = mid
            else:
                lo = mid
        return k0 + hi

    def _passes(self, z) -> bool:
        """Whether a phase boundary value of the cycle starting in state ``z`` is past a watched
        level (the phase's own limits, as in :meth:`_assess` without its tight bounds)."""
        starts = self.A * np.array(z) + self.B
        for slot, c in enumerate(self.c):
            y = starts @ c
            lo, hi = np.minimum(y[:-1], y[1:]), np.maximum(y[:-1], y[1:])
            if (lo < self.lo_lim[slot]).any() or (hi > self.hi_lim[slot]).any():
                return True
        return False

    def _tight(self, phase, c, start0, start1, kind: str) -> float:
        """Exact extreme over the phase of the trajectory from the per-mode worst corner."""
        worst = [float((min if (c[i] >= 0) == (kind == "min") else max)(start0[i], start1[i])) for i in range(self.n)]
        view = SegmentView(phase.co.rates, worst, phase.co.w, [float(v) for v in c], 0.0, phase.co.h)
        known = math.inf if kind == "min" else -math.inf
        found = view.extreme(kind, known, tol=0.0)
        return found[1] if found is not None else view.value(0.0)

    def _monotone_extremes(self, j, count, z0, c, k_term, need_min, need_max) -> bool:
        """If phase j is monotone in every cycle of the range, update the running extremes from
        its boundary values exactly and return True; otherwise False (the range must be split)."""
        n = self.n
        a_s, b_s, a_e, b_e = self.A[j], self.B[j], self.A[j + 1], self.B[j + 1]
        z1 = self._state_after(z0, count - 1)
        signs = set()
        for z in (z0, z1):
            for i in range(n):
                delta = c[i] * ((a_e[i] - a_s[i]) * z[i] + (b_e[i] - b_s[i]))
                if delta > 0:
                    signs.add(1)
                elif delta < 0:
                    signs.add(-1)
        if len(signs) > 1:
            return False
        st, walk = self.st, self.walk
        base_ns = walk.elapsed_ns  # z0 is the state at the walk's present cycle, k0
        kinds = [kind for kind, need in (("min", need_min), ("max", need_max)) if need]
        for a, b, offset in ((a_s, b_s, self.offsets_ns[j]), (a_e, b_e, self.offsets_ns[j + 1])):
            coef = [float(c[i] * a[i]) for i in range(n)]
            const = k_term + float(np.dot(c, b))
            for kind in kinds:
                m, value = _sequence_extreme(coef, const, z0, self.P, self.G, count, kind)
                t = walk.t0 + (base_ns + m * self.cycle_ns + offset) / NS_PER_S
                if kind == "min" and value < st.v_min:
                    st.v_min, st.t_v_min = value, t
                elif kind == "max" and value > st.v_max:
                    st.v_max, st.t_v_max = value, t
        return True


def corner_bounds(starts0: np.ndarray, starts1: np.ndarray | None, c) -> tuple[np.ndarray, np.ndarray]:
    """Per phase, bounds of ``c·z`` over the phase in every cycle of a range: the sums over modes
    of the per-mode extremes of its start and end corners in the first cycle (``starts0``, phase
    starts and the cycle end, ``(phases + 1) × modes``) and in the last (``starts1``; None for a
    single cycle). Each mode is monotone inside a phase and, at a phase boundary, in the cycle
    index, so the bounds are rigorous."""
    t0 = starts0 * c
    lo = np.minimum(t0[:-1], t0[1:])
    hi = np.maximum(t0[:-1], t0[1:])
    if starts1 is not None:
        t1 = starts1 * c
        lo = np.minimum(lo, np.minimum(t1[:-1], t1[1:]))
        hi = np.maximum(hi, np.maximum(t1[:-1], t1[1:]))
    return lo.sum(axis=1), hi.sum(axis=1)


def book_cycles(book, big_a: np.ndarray, big_b: np.ndarray, big_p, big_g, z, count: int) -> list[float]:
    """Book ``count`` whole cycles from state ``z`` into ``book`` in closed form (phase-start
    maps ``A``, ``B``; cycle map ``P``, ``G`` per mode, cyclemap.range_sums) and return the
    state after them."""
    s1, s2, z_end = cycle_phase_sums(big_a, big_b, big_p, big_g, z, count)
    book.add_cycles(count, s1, s2)
    return z_end


def cycle_phase_sums(big_a: np.ndarray, big_b: np.ndarray, big_p, big_g, z, count: int):
    """Over ``count`` cycles from state ``z``: the sums of every phase's start state and of its
    square, ``(phases × modes)`` each (phase-start maps ``A``, ``B``; cycle map ``P``, ``G``
    per mode, by cyclemap.range_sums), and the state after them."""
    if count == 1:  # (a charging ramp's stretches are often one cycle)
        starts = big_a * np.asarray(z) + big_b
        return starts[:-1], starts[:-1] * starts[:-1], starts[-1].tolist()
    sums, sums2, z_end = state_sums(z, big_p, big_g, count)
    sum_z, sum_z2 = np.array(sums), np.array(sums2)
    a_j, b_j = big_a[:-1], big_b[:-1]
    return (a_j * sum_z + count * b_j, a_j * a_j * sum_z2 + 2.0 * a_j * b_j * sum_z + count * b_j * b_j,
            z_end)


def book_phases(book, big_a: np.ndarray, big_b: np.ndarray, z0: np.ndarray, lo: int, hi: int) -> None:
    """Book phases ``lo``..``hi - 1`` of one cycle that starts in state ``z0`` into ``book``, their
    start states from the phase-start maps ``A``, ``B``."""
    count, n = big_a.shape[0] - 1, big_a.shape[1]
    starts = big_a[lo:hi] * z0 + big_b[lo:hi]
    s1 = np.zeros((count, n))
    s2 = np.zeros((count, n))
    s1[lo:hi] = starts
    s2[lo:hi] = starts * starts
    counts = np.zeros(count)
    counts[lo:hi] = 1.0
    book.add_cycles(counts, s1, s2)


def phase_start_maps(p: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` with the state at the start of phase j equal to ``A_j·z + B_j`` for a cycle that
    starts in state z; row ``J`` is the whole cycle (``P``, ``G``). ``p``, ``g``: (phases × modes).

    The phase maps ``z ← p_j·z + g_j`` compose associatively, so their prefix compositions are
    found by a Hillis–Steele scan in ⌈log₂J⌉ vectorised steps; every product involves factors in
    [0, 1] only, so it cannot overflow or lose the forcing of fast modes."""
    count, n = p.shape
    a, b = p.copy(), g.copy()
    shift = 1
    while shift < count:
        # compose each map with the one ``shift`` phases earlier: (a, b) ∘ (a', b') = (a·a', a·b' + b)
        b[shift:] = a[shift:] * b[:-shift] + b[shift:]
        a[shift:] = a[shift:] * a[:-shift]
        shift *= 2
    big_a = np.empty((count + 1, n))
    big_b = np.empty((count + 1, n))
    big_a[0], big_b[0] = 1.0, 0.0
    big_a[1:], big_b[1:] = a, b
    return big_a, big_b


def _sequence_value(coef, const, z0, P, G, m) -> tuple[float, list[float]]:
    terms = []
    for ci, zi, p, g in zip(coef, z0, P, G):
        a, s = powers(p, m)
        terms.append(ci * (a * zi + g * s))
    return const + math.fsum(terms), terms


def _sequence_extreme(coef, const, z0, P, G, count, kind) -> tuple[int, float]:
    """Integer m in [0, count) extremising ``const + Σ coef_i·z_i(m)`` (each term monotone in m)."""
    sign = 1.0 if kind == "min" else -1.0
    v0, t0 = _sequence_value(coef, const, z0, P, G, 0)
    v1, t1 = _sequence_value(coef, const, z0, P, G, count - 1)
    best = (0, v0) if sign * v0 <= sign * v1 else (count - 1, v1)
    stack = [(0, count - 1, t0, t1)]
    while stack:
        m0, m1, ta, tb = stack.pop()
        bound = const + sum((min if sign > 0 else max)(x, y) for x, y in zip(ta, tb))
        if sign * bound >= sign * best[1] or m1 - m0 <= 1:
            continue
        mid = (m0 + m1) // 2
        vm, tm = _sequence_value(coef, const, z0, P, G, mid)
        if sign * vm < sign * best[1]:
            best = (mid, vm)
        stack.append((mid, m1, tm, tb))
        stack.append((m0, mid, ta, tm))
    return best
