"""Samples inside a range of cycles that is jumped whole, taken in closed form.

A fast-forwarded range in which nothing happens (no watched level, no new extreme: one check of
all its cycles) is booked in one jump. The samples in it need the state and the cumulative
energies at their own times. Both are closed forms in the cycle index ``k`` (sysim.engine.cyclemap):
the state after ``k`` cycles is ``z_k = P^k·z_0 + G·Σ_{l<k} P^l``, and the energy booked up to
phase ``j`` of cycle ``k`` is, per ledger category (sysim.engine.book.PhaseBook.category_forms),

    E(k, j) = k·Γ_J + α_J·Σ_{m<k} z_m + β_J·Σ_{m<k} z_m² + Γ_j + α_j·z_k + β_j·z_k²

So each sample costs a few closed forms instead of splitting the jump around it, booking the
phases before it and flushing the ledger (a year recorded every minute has half a million
samples). The range is then jumped in one piece.
"""
from __future__ import annotations

import bisect

import numpy as np

from .cyclemap import state_sums
from .ledger import CATEGORIES
from .walk import sample_offset_ns


def take_samples(ff, cycles: int) -> None:
    """Record every sample in the next ``cycles`` whole cycles of the fast-forward ``ff``
    (sysim.engine.fastforward.FastForward), which were found clear; the trajectory and the
    ledger are left as they were (the caller jumps the cycles)."""
    st, walk = ff.st, ff.walk
    sampler = st.sampler
    base_ns = walk.elapsed_ns
    end_ns = base_ns + cycles * ff.cycle_ns
    rel = sample_offset_ns(sampler, walk.t0)
    if rel is None or rel >= end_ns:
        return
    at_start = st.ledger_totals()
    gam, alp, bet = walk.book.category_forms(ff.A, ff.B)
    sums = _CycleSums(st.z, ff.P, ff.G)
    offsets = ff.offsets_ns
    whole = (gam[:, -1], alp[:, -1], bet[:, -1])
    try:
        while rel is not None and rel < end_ns:
            k, off = divmod(rel - base_ns, ff.cycle_ns)
            j = bisect.bisect_right(offsets, off) - 1
            sums.advance_to(k)
            z_k_arr, sum_z, sum_z2 = np.array(sums.z), np.array(sums.sum_z), np.array(sums.sum_z2)
            energy = (k * whole[0] + whole[1] @ sum_z + whole[2] @ sum_z2
                      + gam[:, j] + alp[:, j] @ z_k_arr + bet[:, j] @ (z_k_arr * z_k_arr))
            st.base_totals = {c: at_start[c] + e for c, e in zip(CATEGORIES, energy.tolist())}
            phase = ff.regime.phase(j)
            z_j = (ff.A[j] * z_k_arr + ff.B[j]).tolist()
            start_ns = base_ns + k * ff.cycle_ns + offsets[j]
            st._samples(z_j, phase.co, phase, walk.t0, start_ns, start_ns + int(ff.regime.h_ns[j]))
            rel = sample_offset_ns(sampler, walk.t0)
    finally:
        st.base_totals = None


class _CycleSums:
    """Per mode, the state after ``k`` cycles of the map ``z ← P·z + G`` and the sums of the
    ``k`` cycle-start states and of their squares, carried forward from one sample's cycle to
    the next (cyclemap.powers and range_sums over the cycles in between: samples a fixed time
    apart are the same few cycle counts apart, whose sums are cached)."""

    def __init__(self, z0, big_p, big_g):
        self.k = 0
        self.z = list(z0)
        self.sum_z = [0.0] * len(self.z)
        self.sum_z2 = [0.0] * len(self.z)
        self.big_p, self.big_g = big_p, big_g

    def advance_to(self, k: int) -> None:
        if k <= self.k:
            return
        sums, sums2, self.z = state_sums(self.z, self.big_p, self.big_g, k - self.k)
        self.sum_z = [a + b for a, b in zip(self.sum_z, sums)]
        self.sum_z2 = [a + b for a, b in zip(self.sum_z2, sums2)]
        self.k = k
