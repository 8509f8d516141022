"""The lean path of a planned stretch: one closed-form jump over its cycles, or nothing.

A charging ramp is most of a year's stretches (sysim.engine.cycleplan): a few whole duty cycles, or
the first phases of one, with the power draws frozen, far from every watched level.
:meth:`Stepper.advance` would build the regime's per-phase objects, a walk and a fast-forward for
them; here the same closed forms are applied directly (sysim.engine.fastforward: the phase-start
maps, the cheap rigorous bound over the corner states of the first and last cycle, the ledger's
range sums), and the stretch is jumped only when that bound clears every watched level and the
running extremes, and no sample falls inside it. Otherwise nothing is changed and the caller
takes the general path, which gives the same result (up to rounding): this path decides nothing.
"""
from __future__ import annotations

import numpy as np

from .cyclemap import after_cycles
from .cycleplan import CyclePlan
from .fastforward import corner_bounds, cycle_phase_sums, phase_start_maps
from .schedule import to_ns
from .walk import phase_limits, sample_offset_ns, watched_outputs

_TOL = 1e-12  # V, as sysim.engine.fastforward


def jump(stepper, plan: CyclePlan, watches) -> bool:
    """Jump the ``plan``'s cycles (or its first phases) from the stepper's state in closed form,
    booking the ledger and counting the segments, when nothing can happen in them; True if done."""
    st, table, k = stepper, plan.table, plan.cycles
    rows = plan.phases if plan.phases is not None else len(table.h_ns)
    span_ns = to_ns(plan.t_stop) - to_ns(st.t)
    if span_ns != k * int(table.ends_ns[rows - 1]):
        return False  # the stop's rounding leaves a nanosecond phase: the walk takes it
    rel = sample_offset_ns(st.sampler, st.t)
    if rel is not None and rel < span_ns:
        return False
    system = st.system
    forms = plan.forms
    lean = forms.shared
    # per phase: terminal voltage and total current of its mix at the frozen voltage
    v_mix, i_mix = forms.mix_state(plan.e_mid)
    v = v_mix[forms.mix_of]
    current = i_mix[forms.mix_of]
    w = current[:, None] * lean.gains + lean.drifts
    template = st.lengths.maps_template(system, lean.h_ns, lean.p, lean.phi)
    if template is not None:
        big_a, q = template
        big_b = np.matmul(q, w.T[:, :, None])[:, :, 0].T
    else:
        big_a, big_b = phase_start_maps(lean.p, w * lean.phi)
    if rows < len(current):
        big_a, big_b, current, v, w = big_a[:rows + 1], big_b[:rows + 1], current[:rows], v[:rows], w[:rows]
    z0 = list(st.z)
    if not _clear(st, system, watches, current, big_a, big_b, z0, k):
        return False
    st.z[:] = _book(st.ledger, lean, forms.joule(), rows, big_a, big_b, z0, k, current, v, w)
    st.segments += k * rows
    st.t = plan.t_stop
    return True


def _book(ledger, lean, joule: tuple, rows: int, big_a, big_b, z0, k: int, current, v, w) -> list[float]:
    """Book ``k`` repetitions of the first ``rows`` phases from ``z0`` into ``ledger`` and return
    the state after them: the closed forms of fastforward.book_cycles and PhaseBook.flush with
    every phase counted ``k`` times. ``lean``: the table's mixforms.Pattern; ``joule``:
    MixForms.joule(); ``current``, ``v``, ``w``: per phase, the total current (A), the terminal
    voltage (V) and the modal forcing."""
    s1, s2, z_end = cycle_phase_sums(big_a, big_b, big_a[-1].tolist(), big_b[-1].tolist(), z0, k)
    r = slice(0, rows)
    internal = (lean.phi2_q[r] * s2).sum() + (lean.chi2_q[r] * w * s1).sum() + k * (lean.omega_q[r] * w * w).sum() \
        + (lean.phi_l[r] * s1).sum() + k * (lean.psi_l[r] * w).sum() + k * lean.const_h[r].sum()
    ledger.add("lost/storage_internal", float(internal))
    h = lean.h[r]
    esr = float(k * (lean.r_series * current * current * h).sum())
    if esr:
        ledger.add("lost/esr", esr)
    accounts, joule_const, joule_power, second = joule
    if accounts:
        int_v = (lean.phi_c[r] * s1).sum(axis=1) + k * ((lean.psi_c[r] * w).sum(axis=1) + h * (lean.d * current + lean.f))
        energies = joule_const[:, r] @ int_v + joule_power[:, r] @ (int_v / v) + k * second[:, r].sum(axis=1)
        for account, energy in zip(accounts, energies.tolist()):
            ledger.add(account, energy)
    return z_end


def _clear(st, system, watches, current, big_a, big_b, z0, k: int) -> bool:
    """Whether no watched level and no new running extreme of the terminal voltage can be
    reached in the ``k`` cycles from ``z0``: every phase of every cycle lies between the
    per-mode corners of its start and end in the first and the last cycle (each mode's value at
    a phase boundary is monotone in the cycle index, and monotone inside the phase)."""
    starts0 = big_a * np.array(z0) + big_b
    starts1 = None
    if k > 1:
        starts1 = big_a * np.array(after_cycles(z0, big_a[-1].tolist(), big_b[-1].tolist(), k - 1)) + big_b
    outputs = watched_outputs(watches)
    lo_lims, hi_lims = phase_limits(system, outputs, watches, current)
    for slot, o in enumerate(outputs):
        lo, hi = corner_bounds(starts0, starts1, np.array(system.outputs[o].c))
        if (lo < lo_lims[slot]).any() or (hi > hi_lims[slot]).any():
            return False
        if slot == 0:
            out = system.outputs[0]
            k_term = out.d * current + out.f
            if (k_term + lo < st.v_min - _TOL).any() or (k_term + hi > st.v_max + _TOL).any():
                return False
    return True
