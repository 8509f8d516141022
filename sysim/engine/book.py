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

from .ledger import Ledger
from .regime import Regime


class PhaseBook:
    def __init__(self, regime: Regime):
        system = regime.system
        self.n = n = system.n
        self.active = regime.co is not None
        self.lists: dict[int, list] = {}
        if not self.active:
            return
        count = regime.count
        current, h = regime.current, regime.h
        w = regime.w
        self.phi = regime.phi
        self.psi_w = regime.psi * w
        self.phi2 = regime.phi2
        self.chi_w2 = 2.0 * regime.chi * w
        self.omega_w2 = regime.omega * w * w
        term = system.outputs[0]
        self.c = np.array(term.c)
        self.v_offset_h = h * (term.d * current + term.f)
        self.q = np.array(system.loss_quadratic)
        self.l = np.array(system.loss_linear) + np.outer(current, system.loss_linear_per_amp)
        self.internal_const = system.loss_constant * h
        self.esr = system.series_resistance * current * current * h
        index: dict[str, int] = {}
        per_joule, per_second = [], []
        for c, draw in enumerate(regime.channels):
            for account, pj, ps in draw.accounts:
                a = index.setdefault(account, len(index))
                if a == len(per_joule):
                    per_joule.append(np.zeros(len(regime.channels)))
                    per_second.append(np.zeros(len(regime.channels)))
                per_joule[a][c] += pj
                per_second[a][c] += ps
        self.accounts = list(index)
        if index:
            self.W = np.array(per_joule) @ regime.currents
            self.S = np.array(per_second) @ (regime.member * h)
        else:
            self.W = self.S = np.zeros((0, count))
        self.jumped = np.zeros((count, 1 + 2 * n))

    def acc(self, j: int) -> list:
        """The running-sum list of phase ``j`` (``[count, Σz..., Σz²...]``) that the kernel and
        the general path add to."""
        acc = self.lists.get(j)
        if acc is None:
            acc = self.lists[j] = [0.0] * (1 + 2 * self.n)
        return acc

    def add_cycles(self, count: float, s1: np.ndarray, s2: np.ndarray) -> None:
        """Add ``count`` segments to every phase: ``s1``/``s2`` are (phases × modes) sums."""
        self.jumped[:, 0] += count
        self.jumped[:, 1:1 + self.n] += s1
        self.jumped[:, 1 + self.n:] += s2

    def flush(self, ledger: Ledger) -> None:
        if not self.active:
            return
        acc = self.jumped.copy()
        if self.lists:
            acc[list(self.lists)] += np.array(list(self.lists.values()))
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
        zero = [0.0] * (1 + 2 * n)
        for lst in self.lists.values():
            lst[:] = zero  # in place: the kernel holds these lists
        self.jumped[:] = 0.0
