"""The event path's owner of the storage state: :class:`Stepper` keeps ``z`` at time ``t``.

A regime is a stretch of time in which the set of draws follows a fixed :class:`PhaseTable` (a
merged duty cycle, or one constant phase). :meth:`Stepper.regime_for` makes the regime of a table
(sharing what does not depend on the voltage), and :meth:`Stepper.advance` walks it, segment by
segment (:class:`sysim.engine.walk.Walk`) or by whole cycles in closed form
(sysim.engine.fastforward), until the stop time or the first threshold crossing, which it returns;
the caller changes the draws (brown-out, PMIC state, OCV piece) and starts a new regime from there.
Samples and running extremes inside a segment are taken here without touching the trajectory.
"""
from __future__ import annotations

import math

from device_models.base import StorageModel
from device_models.linear import ModalSystem

from .book import PhaseBook
from .crossing import SegmentView
from .freeze import harmonic_scale, terminal_currents
from .regime import LengthCache, Regime, _currents, _LengthCoeffs
from .ledger import Ledger
from .schedule import NS_PER_S, PhaseTable
from .segment import Coeffs, Phase, step_state
from .walk import Crossing, Walk, Watch, sample_offset_ns


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
        self._sample_lengths: dict = {}
        self.segments = 0   # every segment simulated, jumped or stepped
        self.stepped = 0    # segments stepped one by one (the rest were fast-forwarded)
        self.v_min = math.inf
        self.v_max = -math.inf
        self.t_v_min = self.t_v_max = 0.0
        self._book: PhaseBook | None = None
        self._walk = None  # the walk being advanced
        #: the ledger's totals by category at the start of the phase being sampled, when a jump
        #: takes its samples in closed form and books its cycles only after them
        #: (sysim.engine.jumpsamples); None: the ledger itself is up to date once flushed
        self.base_totals: dict[str, float] | None = None
        #: relative voltage change allowed over a stretch with frozen power draws (None: the
        #: engine default, sysim.engine.freeze.POWER_TOLERANCE_REL)
        self.power_tolerance: float | None = None
        #: the length (s) of the last stretch cut shorter than its phase by the tolerances of
        #: voltage-dependent draws, None once a whole phase passes (sysim.engine.stretch: the next
        #: stretch goes straight to one segment and starts its search there)
        self.short_segment_s: float | None = None
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
        walk = Walk(self, regime, t_stop, watches)
        self._book = walk.book
        self._walk = walk
        try:
            if fast_forward and walk.span_ns is not None and regime.co is not None and \
                    (regime.cyclic or regime.count > 1):
                # (a run of phases once, a stretch shorter than a cycle, is one "cycle" to jump)
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

    def ledger_totals(self) -> dict[str, float]:
        """The ledger's totals by category (J) at the present sample, as a new dict."""
        if self.base_totals is not None:
            return dict(self.base_totals)
        self.flush_pending()
        return self.ledger.totals()

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
        walk = self._walk
        # A stretch's frozen currents put every point of it on their chord, also in a phase
        # without the frozen draw (a PMIC's MPPT sampling phase at a cycle start): such a sample
        # is re-frozen from the stretch's start whatever its own phase draws.
        stretch = walk is not None and walk.regime.co is not None and \
            any(not d.is_linear for d in walk.regime.channels)
        while True:
            rel_ns = sample_offset_ns(sampler, t0)
            if rel_ns is None or rel_ns >= b_ns:
                return
            part = self._sample_coeffs(system, max(rel_ns - a_ns, 0), phase.current)
            tau = part.h
            z_tau = [part.p[i] * z[i] + part.g[i] for i in range(len(z))]
            if stretch:
                from .curve import curved_state  # (curve → stretch imports this module's helpers)

                z_tau, energies = curved_state(self, walk.regime, walk.z0, rel_ns, z_tau, walk.span_ns)
                if energies is not None:
                    # the row's cumulative columns along the same curve: the ledger at the stretch
                    # start plus what the sample's own freeze books up to it
                    energies = {c: walk.totals0[c] + e for c, e in energies.items()}
                sampler.record(self, z_tau, phase, part, z, energies)
                continue
            if tau > 0 and any(not d.is_linear for d in phase.draws):
                # one frozen segment: the part up to the sample gets its own freeze, and the row
                # books that part with the currents that take the state there
                z_tau, currents, current = self.curved(z, phase, tau, z_tau)
                sampler.record(self, z_tau, Phase(phase.h, phase.h_ns, phase.draws, currents, current, None),
                               Coeffs(system, tau, current), z)
                continue
            sampler.record(self, z_tau, phase, part, z)

    def _sample_coeffs(self, system, tau_ns: int, current: float) -> Coeffs:
        """:class:`Coeffs` of a sample's part of its phase. Its current-independent part is kept
        per offset in a small table of its own: the offsets of minute samples in 16 s cycles
        repeat, those of most runs do not, and a long run must not fill the engine's caches
        with them (a ten-year soak stays within its memory bound)."""
        h = tau_ns / NS_PER_S
        if any(system.rate_per_amp):
            return Coeffs(system, h, current)
        key = (system.rates, tau_ns)
        lc = self._sample_lengths.get(key)
        if lc is None:
            if len(self._sample_lengths) >= 256:
                self._sample_lengths.clear()
            lc = self._sample_lengths[key] = _LengthCoeffs(system.rates, h)
        return Coeffs(system, h, current, lc)

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
