"""The ledger of a regime's phases, kept as running sums and booked in one vectorised step.

Every finite phase ``j`` of a regime accumulates ``count_j``, ``Σz0`` and ``Σz0²`` over the segments
it covers, either segment by segment (the kernel writes into ``Phase.acc`` lists) or many cycles
at once (fast-forward adds to :attr:`PhaseBook.jumped`). :meth:`PhaseBook.flush` turns all of
them into energies with the closed forms of :mod:`sysim.engine.segment`, for all phases at once:

    ∫V dt = Σ_i c_i·(φ_ij·Σz0 + N·ψ_ij·w_ij) + N·h_j·(d·I_j + f)
    E_account = Σ_j W[account, j]·∫V dt_j + Σ_j S[account, j]·N_j

where ``W`` holds each draw's current times its ``per_joule`` factor and ``S`` its ``per_second``
power times the phase length. Booking a regime with hundreds of merged phases then costs a few
numpy operations instead of a Python loop per phase and draw.
"""
from __future__ import annotations

import numpy as np

from .draws import account_category
from .ledger import CATEGORIES, Ledger
from .regime import Regime


class PhaseBook:
    def __init__(self, regime: Regime):
        self.regime = regime
        self.n = regime.system.n
        self.active = regime.co is not None
        self.lists: dict[int, list] = {}
        self.jumped = None          # [count per phase, Σz (phases × modes), Σz²] of what was jumped
        self._coeffs = None         # the flush coefficients, made on the first flush

    def acc(self, j: int) -> list:
        """The running-sum list of phase ``j`` (``[count, Σz..., Σz²...]``) that the kernel and
        the general path add to."""
        acc = self.lists.get(j)
        if acc is None:
            acc = self.lists[j] = [0.0] * (1 + 2 * self.n)
        return acc

    def add_cycles(self, count, s1: np.ndarray, s2: np.ndarray) -> None:
        """Add ``count`` segments to every phase (a number, or one per phase: a part of a cycle):
        ``s1``/``s2`` are (phases × modes) sums."""
        if self.jumped is None:
            counts = np.empty(self.regime.count)
            counts[:] = count
            self.jumped = [counts, np.array(s1, dtype=float), np.array(s2, dtype=float)]
        else:
            self.jumped[0] += count
            self.jumped[1] += s1
            self.jumped[2] += s2

    def _coefficients(self) -> tuple:
        regime = self.regime
        system = regime.system
        current, h, w = regime.current, regime.h, regime.w
        term = system.outputs[0]
        accounts, per_joule, big_s, c, q, l_lin, internal_const = _table_arrays(regime)
        big_w = per_joule @ regime.currents if accounts else None
        if any(system.loss_linear_per_amp):
            l_lin = l_lin + np.outer(current, system.loss_linear_per_amp)
        return (regime.psi * w, 2.0 * regime.chi * w, regime.omega * w * w, c,
                h * (term.d * current + term.f), q, l_lin,
                internal_const, system.series_resistance * current * current * h,
                accounts, big_w, big_s)

    def flush(self, ledger: Ledger) -> None:
        if not self.active:
            return
        lists, jumped, n = self.lists, self.jumped, self.n
        if jumped is None and not any(lst[0] for lst in lists.values()):
            return
        count_phases = self.regime.count
        if jumped is not None:
            count = jumped[0]
            s1, s2 = jumped[1], jumped[2]
        else:
            count = np.zeros(count_phases)
            s1 = np.zeros((count_phases, n))
            s2 = np.zeros((count_phases, n))
        if lists:
            rows = list(lists)
            vals = np.array(list(lists.values()))
            count[rows] += vals[:, 0]
            s1[rows] += vals[:, 1:1 + n]
            s2[rows] += vals[:, 1 + n:]
        if not count.any():
            return
        if self._coeffs is None:
            self._coeffs = self._coefficients()
        psi_w, chi_w2, omega_w2, c, v_offset_h, q, l_lin, internal_const, esr_h, accounts, big_w, big_s = self._coeffs
        regime = self.regime
        count_col = count[:, None]
        int_z = regime.phi * s1 + count_col * psi_w
        int_v = int_z @ c + count * v_offset_h
        int_z2 = regime.phi2 * s2 + chi_w2 * s1 + count_col * omega_w2
        internal = float((int_z2 * q).sum() + (int_z * l_lin).sum() + count @ internal_const)
        ledger.add("lost/storage_internal", internal)
        esr = float(count @ esr_h)
        if esr:
            ledger.add("lost/esr", esr)
        if accounts:
            energies = big_w @ int_v + big_s @ count
            for account, energy in zip(accounts, energies.tolist()):
                ledger.add(account, energy)
        zero = [0.0] * (1 + 2 * n)
        for lst in lists.values():
            lst[:] = zero  # in place: the kernel holds these lists
        self.jumped = None

    def category_forms(self, big_a: np.ndarray, big_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The energy per ledger category (rows: ledger.CATEGORIES) that this book books for
        phases ``0..j-1`` of a cycle that starts in state ``z``, as ``Γ_j + α_j·z + β_j·z²``
        (per mode), for every ``j`` from 0 to the cycle's ``J`` phases: ``(Γ, α, β)`` of shapes
        ``(3, J+1)``, ``(3, J+1, n)``, ``(3, J+1, n)``. The flush above is linear in each phase's
        count, Σz and Σz², and a phase starts in ``A_j·z + B_j`` (phase-start maps). So ``k``
        whole cycles whose start states sum to ``Σz`` and ``Σz²`` book ``k·Γ_J + α_J·Σz + β_J·Σz²``:
        a sample inside a jumped range reads its energies from these without booking anything."""
        regime, n, count = self.regime, self.n, self.regime.count
        gam, alp, bet = np.zeros((3, count + 1)), np.zeros((3, count + 1, n)), np.zeros((3, count + 1, n))
        if not self.active:
            return gam, alp, bet
        if self._coeffs is None:
            self._coeffs = self._coefficients()
        psi_w, chi_w2, omega_w2, c, v_offset_h, q, l_lin, internal_const, esr_h, accounts, big_w, big_s = self._coeffs
        # per phase: the factors of its count (mc), of Σz (m1) and of Σz² (m2), per category
        mc, m1, m2 = np.zeros((3, count)), np.zeros((3, count, n)), np.zeros((3, count, n))
        lost = CATEGORIES.index("lost")
        if accounts:
            rows = np.zeros((3, len(accounts)))
            for a, account in enumerate(accounts):
                category = account_category(account)
                if category in CATEGORIES:
                    rows[CATEGORIES.index(category), a] = 1.0
            per_phase_w = rows @ big_w  # ∫V dt of phase j times the draws' per-joule factors
            mc += per_phase_w * (psi_w @ c + v_offset_h) + rows @ big_s
            m1 += per_phase_w[:, :, None] * (regime.phi * c)
        mc[lost] += (omega_w2 * q).sum(axis=1) + (psi_w * l_lin).sum(axis=1) + internal_const + esr_h
        m1[lost] += chi_w2 * q + regime.phi * l_lin
        m2[lost] += regime.phi2 * q
        a_j, b_j = big_a[:-1], big_b[:-1]
        gam[:, 1:] = np.cumsum(mc + (m1 * b_j).sum(axis=2) + (m2 * b_j * b_j).sum(axis=2), axis=1)
        alp[:, 1:] = np.cumsum(m1 * a_j + 2.0 * m2 * a_j * b_j, axis=1)
        bet[:, 1:] = np.cumsum(m2 * a_j * a_j, axis=1)
        return gam, alp, bet


_ACCOUNTS: dict[int, tuple] = {}
_TABLES: dict[tuple, tuple] = {}


def _table_arrays(regime: Regime) -> tuple:
    """The flush coefficients that do not depend on the currents, kept per (table, system): the
    stretches of a charging ramp and the throttles of a hold re-use one table with new currents.
    ``(accounts, per_joule, S, c, q, l_lin, loss_constant·h)``."""
    table, system = regime.table, regime.system
    key = (id(table), id(system))
    hit = _TABLES.get(key)
    if hit is not None and hit[0] is table and hit[1] is system:
        return hit[2]
    accounts, per_joule, per_second = _account_matrices(regime.channels)
    big_s = per_second @ (regime.member * regime.h) if accounts else None
    c, q, l_lin = _system_arrays(system)
    out = (accounts, per_joule, big_s, c, q, l_lin, system.loss_constant * regime.h)
    if len(_TABLES) >= 64:
        _TABLES.clear()
    _TABLES[key] = (table, system, out)
    return out
_SYSTEMS: dict[int, tuple] = {}


def _account_matrices(channels) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Account names and the (accounts × channels) ``per_joule`` and ``per_second`` factors of a
    channel tuple, kept per tuple object (one table serves several regimes)."""
    hit = _ACCOUNTS.get(id(channels))
    if hit is not None and hit[0] is channels:
        return hit[1]
    index: dict[str, int] = {}
    per_joule: list[list[float]] = []
    per_second: list[list[float]] = []
    n_channels = len(channels)
    for c, draw in enumerate(channels):
        for account, pj, ps in draw.accounts:
            a = index.get(account)
            if a is None:
                a = index[account] = len(per_joule)
                per_joule.append([0.0] * n_channels)
                per_second.append([0.0] * n_channels)
            per_joule[a][c] += pj
            per_second[a][c] += ps
    out = (list(index), np.array(per_joule), np.array(per_second))
    if len(_ACCOUNTS) >= 64:
        _ACCOUNTS.clear()
    _ACCOUNTS[id(channels)] = (channels, out)
    return out


def _system_arrays(system) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Terminal output coefficients, quadratic and linear loss coefficients of a modal system."""
    hit = _SYSTEMS.get(id(system))
    if hit is not None and hit[0] is system:
        return hit[1]
    out = (np.array(system.outputs[0].c), np.array(system.loss_quadratic), np.array(system.loss_linear))
    if len(_SYSTEMS) >= 64:
        _SYSTEMS.clear()
    _SYSTEMS[id(system)] = (system, out)
    return out
