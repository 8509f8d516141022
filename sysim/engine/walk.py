"""Walking a regime's phases: the exact per-segment path of :meth:`Stepper.advance`.

A :class:`Walk` steps the storage state through the phases of one regime, from the stepper's
present time until the stop time or the first crossing of a watched level: ordinary segments go
through the generated kernel (sysim.engine.kernel), and :meth:`Walk.general` handles the others
exactly (a crossing, a new extreme, a sample, the final partial segment). Before stepping, every
watched output is bounded over the segment (:func:`crossing.terms_bounds`); only if a bound
reaches a level (or the running extreme) is the exact crossing or extreme searched.

Time is kept as integer nanoseconds from the regime start, so a year of 1 ms phases accumulates no
rounding drift.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import brentq

from .book import PhaseBook
from .crossing import SegmentView, terms_bounds
from .freeze import terminal_currents
from .kernel import kernel
from .regime import Regime
from .schedule import NS_PER_S, to_ns
from .segment import Coeffs, Phase, flush_sums

if TYPE_CHECKING:
    from .stepper import Stepper


@dataclass(frozen=True)
class Watch:
    """Stop when ``output`` goes below (``falling``) or above (``rising``) ``level``.

    ``with_current=False`` watches the open-circuit part of the output (no ``d·I`` term): the
    internal voltage that an over-voltage comparator behind the ESR should act on.
    """

    output: int
    level: float
    direction: str
    key: object
    with_current: bool = True


@dataclass(frozen=True)
class Crossing:
    t: float
    watch: Watch


def _limit(free: float, level_drop: float, k_drop, count: int, pick) -> np.ndarray:
    """Per-phase limit on ``c·z`` of one output: ``free`` (levels without the ESR drop, already
    less the output's offset) combined by ``pick`` with ``level_drop - k_drop`` (with it)."""
    if k_drop is None or not math.isfinite(level_drop):
        return np.full(count, free)
    return pick(free, level_drop - k_drop)


def watched_outputs(watches) -> list[int]:
    """The outputs a stretch's bounds look at: the terminal (0) and every other watched one."""
    return [0] + sorted({w.output for w in watches} - {0})


def phase_limits(system, outputs: list[int], watches, current: np.ndarray) -> tuple[list, list]:
    """Per watched output (in ``outputs``' order), the per-phase limits that the bound
    Σ min/max(c·z) of a phase must stay within, given the phases' total currents (A)."""
    lo_lims, hi_lims = [], []
    for o, (lo_free, lo_drop, hi_free, hi_drop) in zip(outputs, _levels(watches, outputs)):
        out = system.outputs[o]
        k_drop = out.f + out.d * current if lo_drop > -math.inf or hi_drop < math.inf else None
        lo_lims.append(_limit(lo_free - out.f, lo_drop, k_drop, len(current), np.maximum))
        hi_lims.append(_limit(hi_free - out.f, hi_drop, k_drop, len(current), np.minimum))
    return lo_lims, hi_lims


#: the last watch list seen, its outputs and its levels per output (a charging ramp's stretches
#: share one list); one tuple, replaced whole, so a run in another thread reads a consistent one
_last_levels: tuple = (None, None, None)


def _levels(watches, outputs: list[int]) -> list[tuple[float, float, float, float]]:
    """Per output: the highest falling and the lowest rising level, apart for the watches that
    see the ESR drop: ``(lo_free, lo_drop, hi_free, hi_drop)`` (V)."""
    global _last_levels
    seen = _last_levels
    if seen[0] is watches and seen[1] == outputs:
        return seen[2]
    levels = []
    for o in outputs:
        lo_free = lo_drop = -math.inf
        hi_free = hi_drop = math.inf
        for w in watches:
            if w.output != o:
                continue
            if w.direction == "falling":
                if w.with_current:
                    lo_drop = max(lo_drop, w.level)
                else:
                    lo_free = max(lo_free, w.level)
            elif w.with_current:
                hi_drop = min(hi_drop, w.level)
            else:
                hi_free = min(hi_free, w.level)
        levels.append((lo_free, lo_drop, hi_free, hi_drop))
    _last_levels = (watches, list(outputs), levels)
    return levels


def sample_offset_ns(sampler, t0: float) -> int | None:
    """The next sample time as integer ns after ``t0``, or None when there is none."""
    if sampler is None or not math.isfinite(sampler.next_time):
        return None
    # both on the absolute ns grid that phase edges are placed on (schedule.build_phases)
    return to_ns(sampler.next_time) - to_ns(t0)


class Walk:
    """One call of :meth:`Stepper.advance`: the kernel runs ordinary segments; :meth:`general`
    handles the others exactly (crossings, extremes, samples, the final partial segment)."""

    def __init__(self, st: Stepper, regime: Regime, t_stop, watches):
        self.st, self.regime, self.watches = st, regime, watches
        self.z0 = list(st.z)  # the stretch's start state (curved samples, curve.curved_state)
        self.cyclic = regime.cyclic
        self.system = system = st.system
        self.t0 = st.t
        self.t_stop = t_stop
        # on the absolute ns grid, like sample times (sample_offset_ns): a sample at the stop time
        # then always belongs to the next regime, whatever the rounding of a crossing-made t0
        self.span_ns = to_ns(t_stop) - to_ns(self.t0) if math.isfinite(t_stop) else None
        self.elapsed_ns = 0
        self.index = 0
        self.done = False
        self.outputs = watched_outputs(watches)
        extra = self.outputs[1:]
        self.cs = tuple(system.outputs[o].c for o in self.outputs)
        self.book = PhaseBook(regime)
        # the ledger at the stretch start, for samples taken on its curve (Stepper._samples)
        self.totals0 = st.ledger.totals() if st.sampler is not None and regime.co is not None and \
            any(not d.is_linear for d in regime.channels) else None
        self.data = None
        self.kernel = None
        if regime.co is None:
            return
        term = system.outputs[0]
        self.k_term = term.d * regime.current + term.f
        self.lo_lim, self.hi_lim = phase_limits(system, self.outputs, watches, regime.current)
        self.kernel = kernel(system.n, len(extra))

    def _kernel_data(self) -> list[tuple]:
        """Per-phase tuples for the kernel, built the first time the walk steps segments."""
        if self.data is None:
            r = self.regime
            cols = [r.p, r.g, r.h_ns[:, None].astype(float), self.k_term[:, None]]
            for lo, hi in zip(self.lo_lim, self.hi_lim):
                cols += [lo[:, None], hi[:, None]]
            rows = np.hstack(cols).tolist()
            n = self.system.n
            self.data = []
            for j, row in enumerate(rows):
                row[2 * n] = int(r.h_ns[j])
                self.data.append(tuple(row) + (self.book.acc(j),))
        return self.data

    def run(self, until_ns: int | None = None) -> Crossing | None:
        """Walk on from the present position until ``until_ns`` (a phase boundary, relative to
        the regime start), the stop time, or the first crossing."""
        st, regime = self.st, self.regime
        n_phases = regime.count
        sampler = st.sampler
        if self.span_ns is not None and self.elapsed_ns >= self.span_ns:
            self.done = True  # a fast-forward already reached the stop time
            st.t = self.t_stop
            return None
        while until_ns is None or self.elapsed_ns < until_ns:
            if self.kernel is not None and not (self.span_ns is not None and
                                                self.elapsed_ns + int(regime.h_ns[self.index]) >= self.span_ns):
                # (the last, cut phase of a walk goes straight to the general path: building the
                # kernel's per-phase data for it alone would cost more than the phase)
                limit = self.span_ns if self.span_ns is not None else 1 << 62
                if until_ns is not None:
                    limit = min(limit, until_ns + 1)
                rel = sample_offset_ns(sampler, self.t0)
                if rel is not None:
                    limit = min(limit, rel)
                self.index, self.elapsed_ns, count, vmin, vmax, t_vmin, t_vmax = self.kernel(
                    self._kernel_data(), self.index, n_phases, self.cyclic, st.z, self.elapsed_ns, limit, self.cs,
                    st.v_min, st.v_max, 1e-12)
                st.segments += count
                st.stepped += count
                if t_vmin >= 0:
                    st.v_min, st.t_v_min = vmin, self.t0 + t_vmin / NS_PER_S
                if t_vmax >= 0:
                    st.v_max, st.t_v_max = vmax, self.t0 + t_vmax / NS_PER_S
                if self.index == n_phases:  # a non-cyclic table ran out
                    self.done = True
                    break
                if until_ns is not None and self.elapsed_ns >= until_ns:
                    return None
            outcome = self.general(self.index)
            if isinstance(outcome, Crossing):
                return outcome
            if outcome == "stop":
                self.done = True
                break
            self.index += 1
            if self.index == n_phases:
                if not self.cyclic:
                    self.done = True
                    break
                self.index = 0
        if self.done:
            st.t = self.t0 + self.elapsed_ns / NS_PER_S if self.span_ns is None or self.elapsed_ns < self.span_ns \
                else self.t_stop
        return None

    def _curved_crossing(self, phase: Phase, w: Watch, tau_chord: float, h: float) -> float:
        """The crossing time on the curved trajectory of a stretch of frozen nonlinear draws,
        found by Brent's method around the chord's crossing time."""
        st, system = self.st, self.system
        out = system.outputs[w.output]
        z = list(st.z)
        r = system.series_resistance

        def excess(tau: float) -> float:
            if tau <= 0.0:
                z_tau = z
                current = terminal_currents(phase.draws, st.open_circuit(), r)[1]
            else:
                z_tau, _, _ = st.curved(z, phase, tau)
                e = math.fsum(c * v for c, v in zip(system.outputs[0].c, z_tau)) + system.outputs[0].f
                current = terminal_currents(phase.draws, e, r)[1]
            y = math.fsum(c * v for c, v in zip(out.c, z_tau)) + out.f + (out.d * current if w.with_current else 0.0)
            return (y - w.level) if w.direction == "rising" else (w.level - y)

        if excess(0.0) >= 0.0:
            return 0.0
        # the curve leaves the chord by its sagitta only (~δ/8 of the way): bracket the root close
        # to the chord's crossing first, widening until it holds, so Brent starts nearly converged
        width = 1e-3 * tau_chord
        while width < tau_chord:
            lo, hi = tau_chord - width, min(h, tau_chord + width)
            if excess(lo) < 0.0 <= excess(hi):
                return brentq(excess, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=200)
            if hi >= h:
                break
            width *= 16.0
        lo, hi = 0.0, min(h, 2.0 * tau_chord)
        while excess(hi) < 0.0:
            if hi >= h:
                return tau_chord  # the curve does not cross inside the segment: keep the chord's
            lo, hi = hi, min(h, 2.0 * hi)
        return brentq(excess, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=200)

    def general(self, j: int):
        """Step one segment (phase ``j``) with every check done exactly; returns a Crossing,
        ``"stop"`` (the walk reached ``t_stop``) or None."""
        st, system = self.st, self.system
        phase = self.regime.phase(j)
        z = st.z
        n_modes = len(z)
        t_a = self.t0 + self.elapsed_ns / NS_PER_S
        last = False
        if self.span_ns is not None and (math.isinf(phase.h) or self.elapsed_ns + phase.h_ns >= self.span_ns):
            remaining_ns = self.span_ns - self.elapsed_ns
            if remaining_ns <= 0:
                return "stop"
            co = st.lengths.coeffs(system, remaining_ns, phase.current)
            last = True
        elif math.isinf(phase.h):
            raise ValueError("an endless phase needs a finite stop time")
        else:
            co, remaining_ns = phase.co, phase.h_ns
        h = co.h
        z1 = [co.p[i] * z[i] + co.g[i] for i in range(n_modes)]
        term = system.outputs[0]
        k_term = term.d * phase.current + term.f
        hit = None
        for w in self.watches:
            out = system.outputs[w.output]
            k = out.f + (out.d * phase.current if w.with_current else 0.0)
            lo, hi = terms_bounds(out.c, z, z1)
            if (k + lo < w.level) if w.direction == "falling" else (k + hi > w.level):
                view = SegmentView(co.rates, z, co.w, out.c, k, h)
                tau = view.first_crossing(w.level, w.direction)
                if tau is not None and (hit is None or tau < hit[0]):
                    hit = (tau, w)
        if hit is not None:
            tau, w = hit
            nonlinear = any(not d.is_linear for d in phase.draws)
            if nonlinear and tau > 0:
                tau = self._curved_crossing(phase, w, tau, h)
            st._extremes(system, z, co, k_term, tau, t_a)
            st._samples(z, co, phase, self.t0, self.elapsed_ns, self.elapsed_ns + to_ns(tau))
            if tau > 0:
                if nonlinear:
                    z_tau, currents, current = st.curved(z, phase, tau)
                else:
                    currents, current = phase.currents, phase.current
                part = Coeffs(system, tau, current)
                flush_sums(system, part, 1, z, [v * v for v in z], phase.draws, currents, st.ledger)
                z[:] = [part.p[i] * z[i] + part.g[i] for i in range(n_modes)]
            st.t = t_a + tau
            st.segments += 1
            st.stepped += 1
            return Crossing(st.t, w)
        lo, hi = terms_bounds(term.c, z, z1)
        if k_term + lo < st.v_min - 1e-12 or k_term + hi > st.v_max + 1e-12:
            y0 = k_term + math.fsum(c * v for c, v in zip(term.c, z))
            y1 = k_term + math.fsum(c * v for c, v in zip(term.c, z1))
            if abs(min(y0, y1) - (k_term + lo)) <= 1e-15 * abs(y0) and abs(max(y0, y1) - (k_term + hi)) <= 1e-15 * abs(y0):
                # every mode moves the same way: the segment is monotone, its extremes are its ends
                if min(y0, y1) < st.v_min:
                    st.v_min, st.t_v_min = min(y0, y1), (t_a if y0 < y1 else t_a + h)
                if max(y0, y1) > st.v_max:
                    st.v_max, st.t_v_max = max(y0, y1), (t_a if y0 > y1 else t_a + h)
            else:
                st._extremes(system, z, co, k_term, h, t_a)
        sampler = st.sampler
        rel = sample_offset_ns(sampler, self.t0)
        if rel is not None and rel < self.elapsed_ns + remaining_ns:
            st._samples(z, co, phase, self.t0, self.elapsed_ns, self.elapsed_ns + remaining_ns)
        if last:
            flush_sums(system, co, 1, z, [v * v for v in z], phase.draws, phase.currents, st.ledger)
        else:
            acc = self.book.acc(j)
            acc[0] += 1
            for i in range(n_modes):
                acc[1 + i] += z[i]
                acc[1 + n_modes + i] += z[i] * z[i]
        z[:] = z1
        st.segments += 1
        st.stepped += 1
        self.elapsed_ns += remaining_ns
        return "stop" if last else None
