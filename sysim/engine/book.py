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

from device_models.linear import ModalSystem

from .ledger import Ledger
from .segment import Phase


class PhaseBook:
    def __init__(self, system: ModalSystem, phases: list[Phase]):
        self.system = system
        self.phases = [ph for ph in phases if ph.co is not None]
        n = system.n
        self.n = n
        if not self.phases:
            return
        cos = [ph.co for ph in self.phases]
        current = np.array([ph.current for ph in self.phases])
        h = np.array([co.h for co in cos])
        w = np.array([co.w for co in cos])
        self.phi = np.array([co.phi for co in cos])
        self.psi_w = np.array([co.psi for co in cos]) * w
        self.phi2 = np.array([co.phi2 for co in cos])
        self.chi_w2 = 2.0 * np.array([co.chi for co in cos]) * w
        self.omega_w2 = np.array([co.omega for co in cos]) * w * w
        term = system.outputs[0]
        self.c = np.array(term.c)
        self.v_offset_h = h * (term.d * current + term.f)
        self.q = np.array(system.loss_quadratic)
        self.l = np.array([system.loss_linear_at(i) for i in current])
        self.internal_const = system.loss_constant * h
        self.esr = system.series_resistance * current * current * h
        index: dict[str, int] = {}
        rows_w, rows_s = [], []
        for j, ph in enumerate(self.phases):
            for draw, i_d in zip(ph.draws, ph.currents):
                for account, per_joule, per_second in draw.accounts:
                    a = index.setdefault(account, len(index))
                    if a == len(rows_w):
                        rows_w.append(np.zeros(len(self.phases)))
                        rows_s.append(np.zeros(len(self.phases)))
                    rows_w[a][j] += per_joule * i_d
                    rows_s[a][j] += per_second * h[j]
        self.accounts = list(index)
        self.W = np.array(rows_w) if rows_w else np.zeros((0, len(self.phases)))
        self.S = np.array(rows_s) if rows_s else np.zeros((0, len(self.phases)))
        self.jumped = np.zeros((len(self.phases), 1 + 2 * n))

    def add_cycles(self, count: float, s1: np.ndarray, s2: np.ndarray) -> None:
        """Add ``count`` segments to every phase: ``s1``/``s2`` are (phases × modes) sums."""
        self.jumped[:, 0] += count
        self.jumped[:, 1:1 + self.n] += s1
        self.jumped[:, 1 + self.n:] += s2

    def flush(self, ledger: Ledger) -> None:
        if not self.phases:
            return
        acc = np.array([ph.acc for ph in self.phases]) + self.jumped
        count = acc[:, 0]
        if not count.any():
            return
        n = self.n
        s1, s2 = acc[:, 1:1 + n], acc[:, 1 + n:]
        int_z = self.phi * s1 + count[:, None] * self.psi_w
        int_v = int_z @ self.c + count * self.v_offset_h
        int_z2 = self.phi2 * s2 + self.chi_w2 * s1 + count[:, None] * self.omega_w2
        internal = float(np.sum(int_z2 * self.q) + np.sum(int_z * self.l) + np.dot(count, self.internal_const))
        ledger.add("lost/storage_internal", internal)
        esr = float(np.dot(count, self.esr))
        if esr:
            ledger.add("lost/esr", esr)
        energies = self.W @ int_v + self.S @ count
        for account, energy in zip(self.accounts, energies):
            ledger.add(account, float(energy))
        for ph in self.phases:
            acc_list = ph.acc
            acc_list[:] = [0.0] * len(acc_list)  # in place: the kernel holds these lists
        self.jumped[:] = 0.0
