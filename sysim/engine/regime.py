"""A regime as arrays: per-phase currents and exact step coefficients, vectorised over phases.

For a :class:`PhaseTable` and the storage's internal voltage this computes, for every phase ``j``:
the current of every draw (``currents[channel, j]``; power and voltage-dependent draws solved at
the terminal with the ESR drop, models-and-numerics.md §5.3) and the step and integral
coefficients of :mod:`sysim.engine.segment` as ``(phases × modes)`` arrays. The parts that do not
depend on the current (``e^(λh)``, ``φ``, ``ψ``, ``χ``, ``ω``) are computed once per distinct phase
length and cached per storage linearisation, so a new harvest level re-uses them and only the
forcing ``w = b·I + e`` changes. Per-phase Python objects (:meth:`Regime.phase`) are made only
for the few phases the general, exact path has to look at.
"""
from __future__ import annotations

import math

import numpy as np

from device_models.linear import ModalSystem

from .draws import Draw
from .expint import chi, omega, phi, psi
from .freeze import terminal_currents
from .schedule import NS_PER_S, PhaseTable
from .segment import Coeffs, Phase


class _LengthCoeffs:
    """The current-independent coefficients of one phase length (per mode tuples)."""

    __slots__ = ("p", "phi", "psi", "phi2", "chi", "omega")

    def __init__(self, rates, h: float):
        self.p = tuple(math.exp(lam * h) for lam in rates)
        self.phi = tuple(phi(lam, h) for lam in rates)
        self.psi = tuple(psi(lam, h) for lam in rates)
        self.phi2 = tuple(phi(2.0 * lam, h) for lam in rates)
        self.chi = tuple(chi(lam, h) for lam in rates)
        self.omega = tuple(omega(lam, h) for lam in rates)


#: memory the stacked per-phase coefficient arrays of LengthCache may hold (bytes)
STACKS_BUDGET_BYTES = 128 * 2**20
#: memory the start-map templates of LengthCache may hold (bytes); the least recently used go
#: first. The default scenario's year uses 250 templates of 2 to 128 phases (22 MB in all), and
#: this budget rebuilds 5 of them; a template of the longest cycle (400 phases) is 1.3 MB per mode
TEMPLATES_BUDGET_BYTES = 16 * 2**20


class LengthCache:
    def __init__(self, limit: int = 20_000):
        self._data: dict = {}
        self._limit = limit
        self._stacks: dict = {}
        self._stacks_bytes = 0
        self._templates: dict = {}  # least recently used first
        self._templates_bytes = 0
        self._seen: dict = {}
        self._forcing: dict = {}
        self._rates: dict = {}
        self._segments: dict = {}  # (system, length, current): the Coeffs of a cut segment

    @property
    def nbytes(self) -> int:
        """Bytes held by the two caches that grow with the patterns a run meets: the stacked
        coefficient arrays (at most STACKS_BUDGET_BYTES) and the start-map templates (at most
        TEMPLATES_BUDGET_BYTES, or the one last built when that alone is larger)."""
        return self._stacks_bytes + self._templates_bytes

    def stacked(self, system: ModalSystem, h_ns: np.ndarray) -> tuple:
        """The (phases × modes) arrays of a phase-length pattern, for current-independent rates;
        regimes of one duty cycle repeat the same pattern all run long."""
        # keyed by the rates (all the coefficients depend on), not by object identity: ids are
        # reused once models replace their linearisations (OCV pieces, temperature, fade)
        key = (system.rates, h_ns.tobytes())
        hit = self._stacks.get(key)
        if hit is None:
            # bounded by size, not only by count: a long merged cycle (periods that share few
            # factors: tens of thousands of phases) costs megabytes per entry
            entry_bytes = 7 * 8 * len(h_ns) * max(system.n, 1)
            if len(self._stacks) >= 2_000 or self._stacks_bytes + entry_bytes > STACKS_BUDGET_BYTES:
                self._stacks.clear()
                self._stacks_bytes = 0
            # a duty cycle has a handful of distinct lengths (a new rotation or prefix of it is a
            # new pattern of the same ones): their rows are made once and gathered
            index: dict[int, int] = {}
            inverse = np.array([index.setdefault(h, len(index)) for h in h_ns.tolist()], dtype=np.intp)
            cos = [self.get(system, system.rates, h) for h in index]
            arrays = tuple(np.array([getattr(c, name) for c in cos])[inverse]
                           for name in ("p", "phi", "psi", "phi2", "chi", "omega"))
            hit = self._stacks[key] = arrays + (self._rates_rows(system.rates, len(h_ns)), h_ns / NS_PER_S)
            self._stacks_bytes += entry_bytes
        return hit

    def _rates_rows(self, rates: tuple, count: int) -> np.ndarray:
        """The rates (1/s) repeated for ``count`` phases, as a read-only array made once."""
        key = (rates, count)
        rows = self._rates.get(key)
        if rows is None:
            if len(self._rates) >= 256:
                self._rates.clear()
            rows = self._rates[key] = np.broadcast_to(np.array(rates), (count, len(rates)))
        return rows

    def forcing(self, system: ModalSystem) -> tuple[np.ndarray, np.ndarray]:
        """``(gains, drifts)`` of ``system`` as arrays (the forcing is ``w = b·I + e``)."""
        key = (system.gains, system.drifts)
        hit = self._forcing.get(key)
        if hit is None:
            if len(self._forcing) >= 256:
                self._forcing.clear()
            hit = self._forcing[key] = (np.array(system.gains), np.array(system.drifts))
        return hit

    def maps_template(self, system: ModalSystem, h_ns: np.ndarray, p: np.ndarray, phi: np.ndarray):
        """For a phase-length pattern seen before (current-independent rates): ``(A, Q)`` with the
        phase-start maps of :func:`sysim.engine.fastforward.phase_start_maps` given by ``A`` and
        ``B = Q·w`` per mode. ``B_j = Σ_{l<j} (Π_{l<m<j} p_m)·φ_l·w_l`` is linear in the forcing
        ``w = b·I + e``, so a regime that differs only in its currents (a new light level, a
        frozen power draw, a hold throttle) gets its maps by one matrix product. Built on the
        fifth sighting of a pattern (a rotation used by a few stretches is not worth it), and
        only for short cycles (Q holds phases² numbers per mode). None otherwise."""
        count = len(h_ns)
        if count > _TEMPLATE_MAX_PHASES:
            return None
        key = (system.rates, h_ns.tobytes())
        hit = self._templates.pop(key, None)
        if hit is not None:
            self._templates[key] = hit  # the most recently used last: evicted last
            return hit
        seen = self._seen.get(key, 0)
        if seen < TEMPLATE_AFTER_SIGHTINGS:
            if len(self._seen) >= 4096:
                self._seen.clear()
            self._seen[key] = seen + 1
            return None
        n = p.shape[1]
        big_a = np.empty((count + 1, n))
        q = np.zeros((n, count + 1, count))
        big_a[0] = 1.0
        for j in range(count):
            big_a[j + 1] = big_a[j] * p[j]
            q[:, j + 1, :j] = q[:, j, :j] * p[j][:, None]
            q[:, j + 1, j] = phi[j]
        big_a.flags.writeable = False
        self._templates_bytes += big_a.nbytes + q.nbytes
        while self._templates and self._templates_bytes > TEMPLATES_BUDGET_BYTES:
            old_a, old_q = self._templates.pop(next(iter(self._templates)))
            self._templates_bytes -= old_a.nbytes + old_q.nbytes
        hit = self._templates[key] = (big_a, q)
        return hit

    def coeffs(self, system: ModalSystem, h_ns: int, current: float) -> Coeffs:
        """:class:`Coeffs` of one segment of ``h_ns`` ns at ``current``, its current-independent part
        from this cache (the event path's cut segments repeat the same few lengths: a firmware's
        1 ms wake and 999 ms sleep); the same numbers as ``Coeffs(system, h, current)``."""
        if any(system.rate_per_amp):
            return Coeffs(system, h_ns / NS_PER_S, current)
        key = (system.rates, system.gains, system.drifts, h_ns, current)
        co = self._segments.get(key)
        if co is not None:
            return co
        co = Coeffs(system, h_ns / NS_PER_S, current, self.get(system, system.rates, h_ns))
        if len(self._segments) >= 4096:
            self._segments.clear()
        self._segments[key] = co
        return co

    def get(self, system: ModalSystem, rates: tuple, h_ns: int) -> _LengthCoeffs:
        # keyed by the rates themselves (all that the coefficients depend on), so no object
        # identity is involved
        key = (rates, h_ns)
        co = self._data.get(key)
        if co is None:
            if len(self._data) >= self._limit:
                self._data.clear()
            co = self._data[key] = _LengthCoeffs(rates, h_ns / NS_PER_S)
        return co


#: sightings of a phase-length pattern before its start-map template is built (on the next one):
#: a build costs about ten scans, and the rotation left by a crossing at an off-grid time often
#: serves only a handful of stretches
TEMPLATE_AFTER_SIGHTINGS = 4
#: longest cycle (phases) whose start maps are prepared as a matrix (LengthCache.maps_template)
_TEMPLATE_MAX_PHASES = 400


class RowCoeffs:
    """One phase's coefficients, the interface of :class:`sysim.engine.segment.Coeffs`."""

    __slots__ = ("h", "current", "rates", "p", "g", "w", "phi", "psi", "phi2", "chi", "omega")


class Regime:
    def __init__(self, system: ModalSystem, table: PhaseTable, e_open: float, lengths: LengthCache,
                 currents: np.ndarray | None = None):
        self.system = system
        self.table = table
        self.cyclic = table.cycle_s is not None
        self.endless = table.endless
        channels = table.channels
        member = table.member
        n_phases = member.shape[1]
        self.channels = channels
        self.member = member
        self.h_ns = np.asarray(table.h_ns, dtype=np.int64)
        self.currents = _currents(channels, member, e_open, system.series_resistance) if currents is None \
            else currents
        self.current = self.currents.sum(axis=0) if len(channels) else np.zeros(n_phases)
        self.n = system.n
        self._phases: dict[int, Phase] = {}
        if self.endless:
            self.h = self.h_ns / NS_PER_S
            self.co = None
            return
        if system.current_dependent:
            self.h = self.h_ns / NS_PER_S
            rates_by_phase = [system.rates_at(float(i)) for i in self.current]
            cos = [lengths.get(system, r, int(h)) for r, h in zip(rates_by_phase, self.h_ns)]
            self.rates = np.array(rates_by_phase)
            self.p, self.phi, self.psi, self.phi2, self.chi, self.omega = (
                np.array([getattr(c, name) for c in cos]) for name in ("p", "phi", "psi", "phi2", "chi", "omega"))
        else:
            self.p, self.phi, self.psi, self.phi2, self.chi, self.omega, self.rates, self.h = \
                lengths.stacked(system, self.h_ns)
            if self.cyclic:
                self._template = lengths.maps_template(system, self.h_ns, self.p, self.phi)
        gains, drifts = self._forcing = lengths.forcing(system)
        self.w = self.current[:, None] * gains + drifts
        self.g = self.w * self.phi
        self.co = True

    def with_currents(self, currents: np.ndarray) -> "Regime":
        """The same phases with other (channels × phases) currents: the current-independent
        coefficients are shared, the forcing is recomputed (a frozen stretch, a hold throttle)."""
        if self.co is None or self.system.current_dependent:
            return None
        other = Regime.__new__(Regime)
        other.__dict__.update(self.__dict__)
        other._phases = {}
        other.__dict__.pop("_maps", None)
        other.currents = currents
        other.current = currents.sum(axis=0) if len(self.channels) else np.zeros(self.count)
        gains, drifts = self._forcing
        other.w = other.current[:, None] * gains + drifts
        other.g = other.w * self.phi
        return other

    @property
    def count(self) -> int:
        return len(self.h_ns)

    def start_maps(self):
        """``(A, B)`` of :func:`sysim.engine.fastforward.phase_start_maps`, computed once."""
        maps = getattr(self, "_maps", None)
        if maps is None:
            template = getattr(self, "_template", None)
            if template is not None:
                big_a, q = template
                maps = self._maps = (big_a, np.matmul(q, self.w.T[:, :, None])[:, :, 0].T)
                return maps
            from .fastforward import phase_start_maps

            maps = self._maps = phase_start_maps(self.p, self.g)
        return maps

    def start_maps_for(self, current: np.ndarray):
        """``(A, B)`` of :meth:`start_maps` for other per-phase total currents (A), same phases."""
        if self.system.current_dependent:
            raise ValueError("the rates of this system depend on the current")
        gains, drifts = np.array(self.system.gains), np.array(self.system.drifts)
        w = current[:, None] * gains + drifts
        template = getattr(self, "_template", None)
        if template is not None:
            big_a, q = template
            return big_a, np.matmul(q, w.T[:, :, None])[:, :, 0].T
        from .fastforward import phase_start_maps

        return phase_start_maps(self.p, w * self.phi)

    def phase(self, j: int) -> Phase:
        """A per-phase object (draws, currents, coefficients) for the general path."""
        ph = self._phases.get(j)
        if ph is not None:
            return ph
        present = [c for c in range(len(self.channels)) if self.member[c, j]]
        draws = tuple(self.channels[c] for c in present)
        currents = tuple(float(self.currents[c, j]) for c in present)
        current = float(self.current[j])
        if self.endless:
            ph = Phase(math.inf, 0, draws, currents, current, None)
        else:
            co = RowCoeffs()
            co.h, co.current = float(self.h[j]), current
            co.rates = tuple(float(v) for v in self.rates[j])
            for name in ("p", "g", "w", "phi", "psi", "phi2", "chi", "omega"):
                setattr(co, name, tuple(getattr(self, name)[j].tolist()))
            ph = Phase(co.h, int(self.h_ns[j]), draws, currents, current, co)
        self._phases[j] = ph
        return ph


#: per channel tuple (by identity, the tuple kept alive in the value): (channels, all linear,
#: constant currents, powers, no voltage-dependent draw); one table's channels serve the predictor,
#: both frozen passes and the hold factor of a stretch
_CHANNELS: dict[int, tuple] = {}
#: per (channels, member, R) by identity and value: (channels, member, what :func:`_table_parts`
#: returns); the predictor, both frozen passes, the hold factor and the samples inside a stretch
#: solve one table at many voltages
_TABLE_PARTS: dict[tuple, tuple] = {}


def _currents(channels: tuple[Draw, ...], member: np.ndarray, e_open: float, r_series: float) -> np.ndarray:
    """Current of every channel in every phase (A, + = discharge), (channels × phases)."""
    if not channels:
        return np.zeros(member.shape)
    info = _CHANNELS.get(id(channels))
    if info is None or info[0] is not channels:
        if len(_CHANNELS) >= 64:
            _CHANNELS.clear()
        info = _CHANNELS[id(channels)] = (channels, all(d.is_linear for d in channels),
                                          np.array([d.current_A for d in channels]),
                                          np.array([d.power_W for d in channels]),
                                          all(d.current_of_voltage is None for d in channels))
    _, linear, linear_i, power, no_functions = info
    if linear:
        return member * linear_i[:, None]
    # the phases whose mix has no voltage-dependent draw take the quadratic of all phases at once;
    # each distinct mix with one is solved once and written to all its phases
    constant, r_i_const, four_r_power, member_power, groups = _table_parts(channels, member, linear_i, power,
                                                                           no_functions, r_series)
    v = _terminal_voltage(e_open, r_series, r_i_const, four_r_power)
    currents = constant + member_power / v
    for present, rows, cols in groups:
        currents[rows, cols] = np.array(terminal_currents(present, e_open, r_series)[0])[:, None]
    return currents


def _table_parts(channels: tuple[Draw, ...], member: np.ndarray, linear_i: np.ndarray, power: np.ndarray,
                 no_functions: bool, r_series: float) -> tuple:
    """A table's phases split by whether their mix holds a voltage-dependent draw. For those
    without: the constant currents (channels × phases), ``R·I_c`` and ``4·R·P`` per phase, and the
    members' powers, zero in the columns of the others. For those with: per distinct mix, its
    draws and the row (channel, a column vector) and column (phase) indices it covers (a LoRa
    node's table has 245 phases over 78 channels)."""
    key = (id(channels), id(member), r_series)
    hit = _TABLE_PARTS.get(key)
    if hit is not None and hit[0] is channels and hit[1] is member:
        return hit[2]
    groups = []
    plain_member = member
    if not no_functions:
        functional = np.array([d.current_of_voltage is not None for d in channels], dtype=bool)
        plain = ~(member[functional] != 0).any(axis=0)
        phases_of: dict[tuple, list[int]] = {}
        for j in np.flatnonzero(~plain).tolist():
            phases_of.setdefault(tuple(member[:, j]), []).append(j)
        for mix, cols in phases_of.items():
            rows = [c for c in range(len(channels)) if mix[c]]
            groups.append((tuple(channels[c] for c in rows), np.array(rows)[:, None], np.array(cols)))
        plain_member = member * plain
    parts = (plain_member * linear_i[:, None], r_series * (linear_i @ plain_member),
             4.0 * r_series * (power @ plain_member), plain_member * power[:, None], groups)
    if len(_TABLE_PARTS) >= 64:
        _TABLE_PARTS.clear()
    _TABLE_PARTS[key] = (channels, member, parts)
    return parts


def _terminal_voltage(e_open: float, r: float, r_i_const: np.ndarray, four_r_power: np.ndarray) -> np.ndarray:
    """Vectorised ``V² - (E - R·I_c)·V + R·P = 0`` (see sysim.engine.freeze), given ``R·I_c`` and
    ``4·R·P`` per phase."""
    e_eff = e_open - r_i_const
    if r == 0.0:
        return np.maximum(e_eff, 1e-6)
    disc = e_eff * e_eff - four_r_power
    # a negative discriminant leaves the collapse point 0.5·e_eff (sqrt of the clipped 0 adds 0)
    v = np.sqrt(np.maximum(disc, 0.0, out=disc), out=disc)
    v += e_eff
    v *= 0.5
    return np.maximum(v, 1e-6, out=v)
