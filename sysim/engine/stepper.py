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

from device_models.base import StorageModel
from device_models.linear import ModalSystem

from .crossing import SegmentView, terms_bounds
from .freeze import terminal_currents
from .ledger import Ledger
from .schedule import NS_PER_S, PhaseTable, to_ns
from .segment import CoeffCache, Coeffs, Phase, flush_sums


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
        self.cache = CoeffCache()
        self.segments = 0
        self.v_min = math.inf
        self.v_max = -math.inf
        self.t_v_min = self.t_v_max = 0.0
        self._active: list[Phase] = []

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
    def phases_for(self, table: PhaseTable, t_stop: float, e_open: float | None = None) -> list[Phase]:
        """Phases of ``table`` with their draws' currents solved at the internal voltage ``e_open``
        (default: the present one)."""
        if e_open is None:
            e_open = self.open_circuit()
        r = self.system.series_resistance
        phases = []
        for h, draws in table.phases:
            currents, total = terminal_currents(draws, e_open, r)
            if math.isinf(h):
                phases.append(Phase(math.inf, 0, draws, currents, total, None))
            else:
                h_ns = to_ns(h)
                phases.append(Phase(h_ns / NS_PER_S, h_ns, draws, currents, total,
                                    self.cache.get(self.system, h_ns / NS_PER_S, total)))
        return phases

    def advance(self, phases: list[Phase], cyclic: bool, t_stop: float, watches: list[Watch]) -> Crossing | None:
        """Step from ``self.t`` through ``phases`` (repeating them if ``cyclic``) until ``t_stop``
        or the first crossing of a watch, whichever comes first."""
        system, ledger = self.system, self.ledger
        t0 = self.t
        span_ns = to_ns(t_stop - t0) if math.isfinite(t_stop) else None
        elapsed_ns = 0
        z = self.z
        n_modes = len(z)
        term = system.outputs[0]
        c_term, d_term, f_term = term.c, term.d, term.f
        outputs = system.outputs
        watch_outputs = sorted({w.output for w in watches} | {0})
        sampler = self.sampler
        next_sample = sampler.next_time if sampler is not None else math.inf
        index = 0
        n_phases = len(phases)
        crossing = None
        self._active = phases
        try:
            while True:
                phase = phases[index]
                t_a = t0 + elapsed_ns / NS_PER_S
                if span_ns is not None and (math.isinf(phase.h) or elapsed_ns + phase.h_ns >= span_ns):
                    remaining_ns = span_ns - elapsed_ns
                    if remaining_ns <= 0:
                        break
                    co = Coeffs(system, remaining_ns / NS_PER_S, phase.current)
                    last = True
                elif math.isinf(phase.h):
                    raise ValueError("an endless phase needs a finite stop time")
                else:
                    co, remaining_ns, last = phase.co, phase.h_ns, False
                h = co.h
                p, g = co.p, co.g
                z1 = [p[i] * z[i] + g[i] for i in range(n_modes)]
                # Bound every watched output over the segment; search exactly only when needed.
                k_term = d_term * phase.current + f_term
                lo, hi = terms_bounds(c_term, z, z1)
                hit = None
                if watches:
                    bounds = {0: (lo, hi)}
                    for o in watch_outputs:
                        if o not in bounds:
                            bounds[o] = terms_bounds(outputs[o].c, z, z1)
                    for w in watches:
                        out = outputs[w.output]
                        k = out.f + (out.d * phase.current if w.with_current else 0.0)
                        wl, wh = bounds[w.output]
                        if (k + wl < w.level) if w.direction == "falling" else (k + wh > w.level):
                            view = SegmentView(co.rates, z, co.w, out.c, k, h)
                            tau = view.first_crossing(w.level, w.direction)
                            if tau is not None and (hit is None or tau < hit[0]):
                                hit = (tau, w)
                if hit is not None:
                    tau, w = hit
                    self._extremes(system, z, co, k_term, tau, t_a)
                    self._samples(z, co, phase, t_a, min(t_a + tau, t_a + h))
                    part = Coeffs(system, tau, phase.current) if tau > 0 else None
                    if part is not None:
                        flush_sums(system, part, 1, z, [v * v for v in z], phase.draws, phase.currents, ledger)
                        z[:] = [part.p[i] * z[i] + part.g[i] for i in range(n_modes)]
                    self.t = t_a + tau
                    self.segments += 1
                    crossing = Crossing(self.t, w)
                    return crossing
                if k_term + lo < self.v_min - 1e-12 or k_term + hi > self.v_max + 1e-12:
                    self._extremes(system, z, co, k_term, h, t_a)
                if next_sample < t_a + h:
                    self._samples(z, co, phase, t_a, t_a + h)
                    next_sample = sampler.next_time
                # accumulate this segment's start state for the ledger, then step
                if last:
                    flush_sums(system, co, 1, z, [v * v for v in z], phase.draws, phase.currents, ledger)
                else:
                    s1, s2 = phase.s1, phase.s2
                    for i in range(n_modes):
                        zi = z[i]
                        s1[i] += zi
                        s2[i] += zi * zi
                    phase.n += 1
                z[:] = z1
                self.segments += 1
                elapsed_ns += remaining_ns
                if last:
                    break
                index += 1
                if index == n_phases:
                    if not cyclic:
                        break
                    index = 0
            self.t = t0 + elapsed_ns / NS_PER_S if span_ns is None or elapsed_ns < span_ns else t_stop
            return None
        finally:
            self.flush_pending()
            self._active = []

    def flush_pending(self) -> None:
        """Book the running sums of the regime in progress (before a sample reads the ledger)."""
        for phase in self._active:
            phase.flush(self.system, self.ledger)

    # --- extremes and samples -----------------------------------------------------------------
    def _extremes(self, system, z, co: Coeffs, k_term: float, h: float, t_a: float) -> None:
        view = SegmentView(co.rates, list(z), co.w, system.outputs[0].c, k_term, h)
        found = view.extreme("min", self.v_min)
        if found is not None:
            self.v_min, self.t_v_min = found[1], t_a + found[0]
        found = view.extreme("max", self.v_max)
        if found is not None:
            self.v_max, self.t_v_max = found[1], t_a + found[0]

    def _samples(self, z, co: Coeffs, phase: Phase, t_a: float, t_b: float) -> None:
        """Record every sample time in [t_a, t_b) without touching the trajectory."""
        sampler = self.sampler
        if sampler is None:
            return
        system = self.system
        while sampler.next_time < t_b:
            tau = max(sampler.next_time - t_a, 0.0)
            part = Coeffs(system, tau, phase.current)
            z_tau = [part.p[i] * z[i] + part.g[i] for i in range(len(z))]
            sampler.record(self, z_tau, phase, part, z)
