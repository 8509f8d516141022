"""The event path: step a storage element exactly through the phases of a regime.

A regime is a stretch of time in which the set of draws follows a fixed :class:`PhaseTable` (a
merged duty cycle, or one constant phase). :meth:`Stepper.advance` walks it segment by segment:
each segment is one exact modal step; before stepping, every watched output is bounded over the
segment (:func:`crossing.terms_bounds`) and only if a bound reaches a threshold (or the running
extreme) is the exact crossing or extreme searched. The walk stops at the first threshold crossing
and returns it; the caller changes the draws (brown-out, PMIC state, OCV piece) and starts a new
regime from there.

Time is kept as integer nanoseconds from the regime start, so a year of 1 ms phases accumulates no
rounding drift.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from device_models.base import StorageModel
from device_models.linear import ModalSystem

from scipy.optimize import brentq

from .crossing import SegmentView, terms_bounds
from .book import PhaseBook
from .freeze import harmonic_scale, terminal_currents
from .kernel import kernel
from .regime import LengthCache, Regime, _currents
from .ledger import Ledger
from .schedule import NS_PER_S, PhaseTable, to_ns
from .segment import Coeffs, Phase, flush_sums, step_state


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


class Stepper:
    """Owns the storage state ``z`` at time ``t`` and steps it exactly."""

    def __init__(self, model: StorageModel, ledger: Ledger, sampler=None):
        self.model = model
        self.system: ModalSystem = model.modal()
        self.z: list[float] = list(model.initial_state())
        self.t = 0.0
        self.ledger = ledger
        self.sampler = sampler
        self.lengths = LengthCache()
        self.segments = 0   # every segment simulated, jumped or stepped
        self.stepped = 0    # segments stepped one by one (the rest were fast-forwarded)
        self.v_min = math.inf
        self.v_max = -math.inf
        self.t_v_min = self.t_v_max = 0.0
        self._book: PhaseBook | None = None
        self._walk = None  # the walk being advanced
        #: relative voltage change allowed over a stretch with frozen power draws (None: the
        #: engine default, sysim.engine.freeze.POWER_TOLERANCE_REL)
        self.power_tolerance: float | None = None
        self._last_regime: tuple | None = None
        self._endless_regimes: dict[int, tuple] = {}  # per endless table of constant currents
        self._table_regimes: dict[int, tuple] = {}    # per table: a regime to share coefficients with

    # --- views --------------------------------------------------------------------------------
    def output(self, index: int, current: float = 0.0) -> float:
        o = self.system.outputs[index]
        return math.fsum(c * z for c, z in zip(o.c, self.z)) + o.d * current + o.f

    def open_circuit(self) -> float:
        """Terminal voltage with no current flowing (V)."""
        return self.output(0, 0.0)

    def set_model_state(self, z) -> None:
        self.system = self.model.modal()
        self.z = list(z)
        # a model transition may drop stored energy without passing the terminal (capacity fade)
        released = self.model.take_energy_released()
        if released:
            self.ledger.add("lost/storage_ageing", released)

    # --- stepping -----------------------------------------------------------------------------
    def regime_for(self, table: PhaseTable, e_open: float | None = None, currents=None) -> Regime:
        """The regime of ``table`` with its draws' currents solved at the internal voltage
        ``e_open`` (default: the present one), or given as a (channels × phases) array."""
        if e_open is None:
            e_open = self.open_circuit()
        if currents is not None:
            return Regime(self.system, table, e_open, self.lengths, currents)
        if table.endless and all(d.is_linear for d in table.channels):
            # one constant phase of constant currents does not depend on the voltage: an
            # event-driven run switches between a few such tables (a firmware's wake and sleep)
            hit = self._endless_regimes.get(id(table))
            if hit is not None and hit[0] is table and hit[1] is self.system:
                return hit[2]
            regime = Regime(self.system, table, e_open, self.lengths)
            if len(self._endless_regimes) >= 64:
                self._endless_regimes.clear()
            self._endless_regimes[id(table)] = (table, self.system, regime)
            return regime
        # the hold factor and the stretch predictor both ask for the table at the present voltage
        last = self._last_regime
        if last is not None and last[0] is table and last[1] is self.system and last[2] == e_open:
            return last[3]
        regime = None
        known = self._table_regimes.get(id(table))
        if known is not None and known[0] is table and known[1] is self.system:
            # the same table at another voltage (the stretches of a charging ramp): only the
            # currents and the forcing are new
            regime = known[2].with_currents(_currents(table.channels, table.member, e_open,
                                                      self.system.series_resistance))
            if regime is not None and regime.cyclic and getattr(regime, "_template", None) is None:
                # a sighting of the phase pattern, as a new regime counts one (Regime.__init__)
                regime._template = self.lengths.maps_template(self.system, regime.h_ns, regime.p, regime.phi)
        if regime is None:
            regime = Regime(self.system, table, e_open, self.lengths)
            if len(self._table_regimes) >= 64:
                self._table_regimes.clear()
            self._table_regimes[id(table)] = (table, self.system, regime)
        self._last_regime = (table, self.system, e_open, regime)
        return regime

    def advance(self, regime: Regime, t_stop: float, watches: list[Watch],
                fast_forward: bool = False) -> Crossing | None:
        """Step from ``self.t`` through the phases of ``regime`` (repeating them if it is cyclic)
        until ``t_stop`` or the first crossing of a watch, whichever comes first. With
        ``fast_forward`` whole cycles in which nothing happens are jumped in closed form
        (sysim.engine.fastforward)."""
        walk = _Walk(self, regime, t_stop, watches)
        self._book = walk.book
        self._walk = walk
        try:
            if fast_forward and regime.cyclic and walk.span_ns is not None:
                from .fastforward import FastForward

                return FastForward(walk).run()
            return walk.run()
        finally:
            self.flush_pending()
            self._book = None
            self._walk = None

    def flush_pending(self) -> None:
        """Book the running sums of the regime in progress (before a sample reads the ledger)."""
        if self._book is not None:
            self._book.flush(self.ledger)

    # --- extremes and samples -----------------------------------------------------------------
    def _extremes(self, system, z, co: Coeffs, k_term: float, h: float, t_a: float) -> None:
        view = SegmentView(co.rates, list(z), co.w, system.outputs[0].c, k_term, h)
        found = view.extreme("min", self.v_min)
        if found is not None:
            self.v_min, self.t_v_min = found[1], t_a + found[0]
        found = view.extreme("max", self.v_max)
        if found is not None:
            self.v_max, self.t_v_max = found[1], t_a + found[0]

    def _samples(self, z, co: Coeffs, phase: Phase, t0: float, a_ns: int, b_ns: int) -> None:
        """Record every sample whose time lies in [a_ns, b_ns) ns after ``t0`` (the regime start),
        without touching the trajectory. A sample on a phase edge belongs to the phase that starts
        there; deciding on the integer ns grid makes that the same on every path."""
        sampler = self.sampler
        if sampler is None:
            return
        system = self.system
        while True:
            rel_ns = sample_offset_ns(sampler, t0)
            if rel_ns is None or rel_ns >= b_ns:
                return
            tau = max(rel_ns - a_ns, 0) / NS_PER_S
            part = Coeffs(system, tau, phase.current)
            z_tau = [part.p[i] * z[i] + part.g[i] for i in range(len(z))]
            if any(not d.is_linear for d in phase.draws):
                walk = self._walk
                if walk is not None and walk.regime.co is not None:
                    # from the stretch's start: the frozen currents' chord runs across all its phases
                    from .stretch import curved_state  # (stretch imports this module's helpers)

                    z_tau = curved_state(self, walk.regime, walk.z0, rel_ns, z_tau, walk.span_ns)
                elif tau > 0:
                    z_tau = self._curved_state(z, phase, tau, z_tau)
            sampler.record(self, z_tau, phase, part, z)

    def _curved_state(self, z, phase: Phase, tau: float, z_chord) -> list[float]:
        return self.curved(z, phase, tau, z_chord)[0]

    def curved(self, z, phase: Phase, tau: float, z_chord=None) -> tuple[list[float], tuple, float]:
        """State, per-draw currents and total current ``tau`` s into a segment of frozen nonlinear
        draws, on the curved trajectory. The frozen current moves the internal voltage along a
        chord whose sagitta is ~ΔE·δ/8 (δ: the current's relative change over the stretch), so a
        sample or a crossing inside the stretch gets its own harmonic-mean freeze over
        [E0, E(tau)], iterated twice (sysim.engine.stretch). The currents are the ones that take
        the state there, so the ledger can book that part with them."""
        system = self.system
        out, r = system.outputs[0], system.series_resistance
        draws = phase.draws
        functional = [d.current_of_voltage is not None for d in draws]
        e0 = math.fsum(c * v for c, v in zip(out.c, z)) + out.f
        i0_fn = math.fsum(i for i, f in zip(terminal_currents(draws, e0, r)[0], functional) if f)
        if z_chord is None:
            z_chord = step_state(system, z, tau, phase.current)
        z_tau, currents, current = z_chord, phase.currents, phase.current
        for _ in range(2):
            # the same freeze as a stretch (sysim.engine.stretch.frozen), over [E0, E(tau)]
            e1 = math.fsum(c * v for c, v in zip(out.c, z_tau)) + out.f
            mid = terminal_currents(draws, 0.5 * (e0 + e1), r)[0]
            if any(functional):
                i1_fn = math.fsum(i for i, f in zip(terminal_currents(draws, e1, r)[0], functional) if f)
                im_fn = math.fsum(i for i, f in zip(mid, functional) if f)
                scale = float(harmonic_scale(i0_fn, im_fn, i1_fn))
                mid = tuple(i * scale if f else i for i, f in zip(mid, functional))
            currents, current = tuple(mid), math.fsum(mid)
            z_tau = step_state(system, z, tau, current)
        return z_tau, currents, current


def _limit(free: float, level_drop: float, k_drop, count: int, pick) -> np.ndarray:
    """Per-phase limit on ``c·z`` of one output: ``free`` (levels without the ESR drop, already
    less the output's offset) combined by ``pick`` with ``level_drop - k_drop`` (with it)."""
    if k_drop is None or not math.isfinite(level_drop):
        return np.full(count, free)
    return pick(free, level_drop - k_drop)


def sample_offset_ns(sampler, t0: float) -> int | None:
    """The next sample time as integer ns after ``t0``, or None when there is none."""
    if sampler is None or not math.isfinite(sampler.next_time):
        return None
    # both on the absolute ns grid that phase edges are placed on (schedule.build_phases)
    return to_ns(sampler.next_time) - to_ns(t0)


class _Walk:
    """One call of :meth:`Stepper.advance`: the kernel runs ordinary segments; :meth:`general`
    handles the others exactly (crossings, extremes, samples, the final partial segment)."""

    def __init__(self, st: Stepper, regime: Regime, t_stop, watches):
        self.st, self.regime, self.watches = st, regime, watches
        self.z0 = list(st.z)  # the stretch's start state (curved samples, stretch.curved_state)
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
        extra = sorted({w.output for w in watches} - {0})
        self.outputs = [0] + extra
        self.cs = tuple(system.outputs[o].c for o in self.outputs)
        self.book = PhaseBook(regime)
        self.data = None
        self.kernel = None
        if regime.co is None:
            return
        term = system.outputs[0]
        self.k_term = term.d * regime.current + term.f
        # per watched output: the limits its bound Σ min/max(c·z) must stay within, per phase
        self.lo_lim, self.hi_lim = [], []
        for o in self.outputs:
            out = system.outputs[o]
            # the highest falling and lowest rising level, apart for watches with the ESR drop
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
            k_drop = out.f + out.d * regime.current if lo_drop > -math.inf or hi_drop < math.inf else None
            self.lo_lim.append(_limit(lo_free - out.f, lo_drop, k_drop, regime.count, np.maximum))
            self.hi_lim.append(_limit(hi_free - out.f, hi_drop, k_drop, regime.count, np.minimum))
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
