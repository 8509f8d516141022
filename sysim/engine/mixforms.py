"""A cyclic table's cycle map as a function of its draw mixes: the lean stretch path's planner.

A merged duty cycle has many phases (sixteen BLE wakes and an MPPT sample in a 16 s cycle: 65)
but only a few distinct *mixes* of draws (sleep, each part of a wake, the sample; with or without
the harvest). With constant-current and constant-power draws the total current of a phase depends
only on its mix and on the internal voltage ``E``: a power draw's current is ``P/V`` with the
terminal voltage ``V`` solved from ``V² − (E − R·I_c)·V + R·P = 0`` (sysim.engine.freeze), the
same for every phase of the mix. The cycle map ``z ← P·z + G`` (models-and-numerics.md §5.5) has

    P_m = Π_j p_jm,    G_m = Σ_j W_jm·(b_m·I_j + e_m),    W_jm = φ_jm·Π_{l>j} p_lm

(phase ``j``'s forcing ``w_j = b·I_j + e`` carried to the cycle end), so with ``W`` summed per mix
once per phase pattern, ``G`` at any voltage takes a few scalar operations per mix and mode
instead of solving every phase and composing its maps. The stretch planner
(sysim.engine.cycleplan) searches the stretch length and its frozen voltage this way; the lean
jump (sysim.engine.leanjump) reads the per-phase products of the ledger from :class:`Pattern`.
"""
from __future__ import annotations

import math

import numpy as np

from .cyclemap import cycle_weights, powers

_MAX_ENTRIES = 64


class MixForms:
    """Per-mix cycle-map forms of one cyclic table of constant-current and constant-power draws
    on one modal system with current-independent rates. ``shared``: what the table's phase
    pattern on this system gives whatever the draws' values (:class:`Pattern`)."""

    def __init__(self, table, system, shared: "Pattern"):
        self.table, self.shared = table, shared
        i_const = [d.current_A for d in table.channels]
        power = [d.power_W for d in table.channels]
        self.n = system.n
        self.r_series = system.series_resistance
        #: phase → index of its mix; cycle decay per mode (P) and the drift part of G per mode
        self.mix_of, self.cycle_p, self.drift = shared.mix_of, shared.cycle_p, shared.drift
        #: per mix: the members' (constant current A, power W) pairs
        self.members = [[(i_const[c], power[c]) for c in chans] for chans in shared.channels_of]
        #: per mix: (constant current A, power W, W·b per mode)
        self.mixes = [(math.fsum(i for i, _ in mem), math.fsum(pw for _, pw in mem), wb)
                      for mem, wb in zip(self.members, shared.wb)]
        out = system.outputs[0]
        self.c, self.f = list(out.c), out.f
        self._joule = None
        #: the last internal voltage asked for and its mix voltages and currents: the planner's
        #: last pass is at the voltage the lean jump freezes the draws at
        self._last: tuple | None = None

    def joule(self) -> tuple:
        """The ledger's per-phase factors of this table's draws: ``(accounts, J_const, J_power,
        S)`` with ``Σ_c per_joule[a, c]·current[c, j] = J_const[a, j] + J_power[a, j]/V_j`` for
        currents ``member·(I_c + P_c/V_j)``, and ``S`` the per_second energy per phase."""
        if self._joule is None:
            from .book import _account_matrices

            table, member = self.table, self.shared.member
            accounts, per_joule, per_second = _account_matrices(table.channels)
            if accounts:
                i_const = np.array([d.current_A for d in table.channels])
                power = np.array([d.power_W for d in table.channels])
                self._joule = (accounts, (per_joule * i_const) @ member, (per_joule * power) @ member,
                               per_second @ self.shared.member_h)
            else:
                self._joule = (accounts, None, None, None)
        return self._joule

    def terminal_voltage(self, e_open: float, i_const: float, power: float) -> float:
        """Terminal voltage (V) of a phase with these constant-current (A) and constant-power
        (W) draws at internal voltage ``e_open``, as sysim.engine.regime._terminal_voltage."""
        e_eff = e_open - self.r_series * i_const
        if self.r_series == 0.0:
            return max(e_eff, 1e-6)
        disc = e_eff * e_eff - 4.0 * self.r_series * power
        return max(0.5 * (math.sqrt(max(disc, 0.0)) + e_eff), 1e-6)

    def mix_voltages(self, e_open: float) -> list[float]:
        """Terminal voltage (V) of each mix at internal voltage ``e_open``; 1 where no power is
        drawn (it is then not used)."""
        return [self.terminal_voltage(e_open, i_const, power) if power else 1.0
                for i_const, power, _ in self.mixes]

    def mix_currents(self, e_open: float, volts: list[float] | None = None) -> list[float]:
        """Total current (A, + = discharge) of each mix at internal voltage ``e_open``
        (``volts``: :meth:`mix_voltages` there, if known)."""
        if volts is None:
            volts = self.mix_voltages(e_open)
        return [i_const + power / v if power else i_const for (i_const, power, _), v in zip(self.mixes, volts)]

    def mix_at(self, e_open: float) -> tuple[list[float], list[float]]:
        """:meth:`mix_voltages` and :meth:`mix_currents` at ``e_open`` (V), remembered for the
        last voltage asked for."""
        last = self._last
        if last is not None and last[0] == e_open:
            return last[1], last[2]
        volts = self.mix_voltages(e_open)
        currents = self.mix_currents(e_open, volts)
        self._last = (e_open, volts, currents)
        return volts, currents

    def mix_state(self, e_open: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`mix_at` as arrays."""
        volts, currents = self.mix_at(e_open)
        return np.array(volts), np.array(currents)

    def cycle_forcing(self, e_open: float, volts: list[float] | None = None) -> list[float]:
        """``G`` per mode of one cycle with the draws' currents solved at ``e_open`` (V;
        ``volts``: :meth:`mix_voltages` there, if known)."""
        g = list(self.drift)
        currents = self.mix_at(e_open)[1] if volts is None else self.mix_currents(e_open, volts)
        for (_, _, wb), current in zip(self.mixes, currents):
            for m in range(self.n):
                g[m] += wb[m] * current
        return g

    def open_after(self, z, g: list[float], cycles: int) -> float:
        """Internal voltage (V) ``cycles`` cycles after state ``z`` under cycle forcing ``g``."""
        total = []
        for zi, p, gi, ci in zip(z, self.cycle_p, g, self.c):
            a, s = powers(p, cycles)
            total.append(ci * (a * zi + gi * s))
        return math.fsum(total) + self.f

    def largest_current(self, volts: list[float]) -> float:
        """Largest over the mixes of the sum of their channels' current magnitudes (A), given the
        :meth:`mix_voltages` at the voltage of interest (sysim.engine.levels' margin)."""
        largest = 0.0
        for v, members in zip(volts, self.members):
            largest = max(largest, sum(abs(i + pw / v if pw else i) for i, pw in members))
        return largest


class Pattern:
    """What the forms and the lean jump (sysim.engine.leanjump) of a phase pattern on one system
    share whatever the draws' values: the distinct mixes, the per-mix sums of ``W``, and the
    per-phase products of the ledger's closed forms (sysim.engine.book)."""

    def __init__(self, system, member: np.ndarray, h_ns: np.ndarray, lengths):
        from .book import _system_arrays

        index: dict[tuple, int] = {}
        self.mix_of = np.array([index.setdefault(tuple(col), len(index)) for col in member.T.tolist()])
        self.channels_of = [[c for c, on in enumerate(mix) if on] for mix in index]
        self.member = np.asarray(member, dtype=float)
        self.h_ns = h_ns
        p, phi, psi, phi2, chi, omega, _, h = lengths.stacked(system, h_ns)
        self.p, self.phi, self.h = p, phi, h
        weight, cycle_p = cycle_weights(p, phi)
        w_mix = np.zeros((len(index), p.shape[1]))
        np.add.at(w_mix, self.mix_of, weight)
        self.gains, self.drifts = lengths.forcing(system)
        self.wb = (w_mix * self.gains).tolist()
        self.drift = (weight.sum(axis=0) * self.drifts).tolist()
        self.cycle_p = cycle_p.tolist()
        c, q, l_lin = _system_arrays(system)
        term = system.outputs[0]
        self.d, self.f, self.r_series = term.d, term.f, system.series_resistance
        self.member_h = self.member * h
        self.phi_c, self.psi_c = phi * c, psi * c
        self.phi2_q, self.chi2_q, self.omega_q = phi2 * q, 2.0 * chi * q, omega * q
        self.phi_l, self.psi_l = phi * l_lin, psi * l_lin
        self.const_h = system.loss_constant * h


#: per (table, system) by identity: the forms (or None where they do not apply)
_FORMS: dict[tuple[int, int], tuple] = {}
#: per (membership, phase lengths) by value and system by identity: the shared :class:`Pattern` (a
#: light level or a hold throttle makes a new table with new draws on the same rotation of a cycle)
_STRUCTURES: dict[tuple, tuple] = {}


def mix_forms(table, system, lengths) -> MixForms | None:
    """The forms of ``table`` on ``system``; None when they do not apply (not cyclic, a
    voltage-dependent draw, current-dependent rates). ``lengths``: the stepper's LengthCache."""
    key = (id(table), id(system))
    hit = _FORMS.get(key)
    if hit is not None and hit[0] is table and hit[1] is system:
        return hit[2]
    forms = None
    if table.cycle_s is not None and not system.current_dependent and \
            not table.draws_functional:
        h_ns = np.asarray(table.h_ns, dtype=np.int64)
        member = np.asarray(table.member)
        skey = (member.shape, member.tobytes(), h_ns.tobytes(), id(system))
        shared = _STRUCTURES.get(skey)
        if shared is None or shared[0] is not system:
            if len(_STRUCTURES) >= _MAX_ENTRIES:
                _STRUCTURES.clear()
            shared = _STRUCTURES[skey] = (system, Pattern(system, member, h_ns, lengths))
        forms = MixForms(table, system, shared[1])
    if len(_FORMS) >= _MAX_ENTRIES:
        _FORMS.clear()
    _FORMS[key] = (table, system, forms)
    return forms
