"""Planning the common stretch without building a regime: whole cycles, or the first phases of one.

Most of a year's stretches (sysim.engine.stretch) are a charging ramp's: whole duty cycles of a
table of constant-current and constant-power draws, or, while one cycle moves the voltage too much,
the first phases of one. :func:`plan_cycles` finds them with :func:`sysim.engine.stretch.plan`'s
acceptance, length search and two frozen passes, but evaluates each candidate's end voltage on the
table's per-mix cycle forms (sysim.engine.mixforms) or phase-start maps instead of building a
regime per pass. It returns a :class:`CyclePlan`; the integrator jumps it on the lean path
(sysim.engine.leanjump) or builds its one regime for the general path. Where it does not apply it
returns None and :func:`sysim.engine.stretch.plan` plans the stretch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .levels import watched_levels
from .mixforms import mix_forms
from .regime import Regime, _currents
from .schedule import NS_PER_S, PhaseTable, to_ns
from .stretch import _Acceptance, _consistent, _largest_k, _open

#: fewer whole cycles than this before the stop: :func:`plan` plans the stretch (the per-table
#: forms cost about as much as two regimes, and a minute of light holds under four 16 s cycles)
MIN_CYCLES_TO_STOP = 8


@dataclass(frozen=True)
class CyclePlan:
    """A stretch of ``cycles`` whole cycles of ``table`` ending at ``t_stop`` (s), its
    constant-current and constant-power draws frozen at the internal voltage ``e_mid`` (V)."""

    table: PhaseTable
    forms: object  # sysim.engine.mixforms.MixForms
    e_mid: float
    cycles: int
    t_stop: float
    #: a stretch shorter than a cycle: its first ``phases`` phases, once (``cycles`` is 1)
    phases: int | None = None

    def regime(self, stepper) -> Regime:
        """The regime of the planned stretch, for the general path."""
        table = self.table if self.phases is None else self.table.prefix(self.phases)
        if self.phases is None:
            return stepper.regime_for(table, e_open=self.e_mid)
        return stepper.regime_for(table, e_open=self.e_mid,
                                  currents=_currents(table.channels, table.member, self.e_mid,
                                                     stepper.system.series_resistance))


def plan_cycles(stepper, table: PhaseTable, stop: float, watches=()) -> CyclePlan | None:
    """:func:`plan` for the common stretch, whole cycles of a table of constant-current and
    constant-power draws, searched on the table's per-mix cycle forms (sysim.engine.mixforms)
    without building a regime. The same acceptance and the same two passes as :func:`plan`.
    None when the forms do not apply, when fewer than :data:`MIN_CYCLES_TO_STOP` cycles remain
    before the stop, when not one whole cycle is accepted, or when the stretch would reach the
    stop inside a cycle: :func:`plan` then takes its general course."""
    if table.cycle_s is None:
        return None
    k_max = int((stop - stepper.t) // table.cycle_s) if math.isfinite(stop) else 10 ** 12
    if k_max < MIN_CYCLES_TO_STOP:
        return None  # a table for a few cycles (minute light) would not pay for its forms
    forms = mix_forms(table, stepper.system, stepper.lengths)
    if forms is None:
        return None
    system, z = stepper.system, stepper.z
    e0 = _open(system, z)
    volts = forms.mix_voltages(e0)
    levels = watched_levels(stepper, table, watches, e0, largest_current=forms.largest_current(volts))
    accept = _Acceptance(table, e0, system.series_resistance, levels, stepper.power_tolerance)
    g0 = forms.cycle_forcing(e0, volts)
    ends: dict[int, float] = {}

    def end_after(kk: int) -> float:
        e = ends.get(kk)
        if e is None:
            e = ends[kk] = forms.open_after(z, g0, kk)
        return e

    k = _largest_k(lambda kk: accept.ok(end_after(kk)), k_max,
                   moved=lambda kk: abs(end_after(kk) - e0), limit=accept.tol_v)
    if k == k_max and math.isfinite(stop) and to_ns(stop - stepper.t) > k * int(table.h_ns.sum()):
        return None  # a part of a cycle before the stop: one stretch with it (plan)
    while k >= 1:
        e1 = end_after(k)
        e1a = forms.open_after(z, forms.cycle_forcing(0.5 * (e0 + e1)), k)
        if _consistent(e0, e1, e1a):
            e1b = forms.open_after(z, forms.cycle_forcing(0.5 * (e0 + e1a)), k)
            if _consistent(e0, e1a, e1b):
                # constant-current and constant-power draws freeze at the midpoint (frozen)
                return CyclePlan(table, forms, 0.5 * (e0 + e1a), k, stepper.t + k * table.cycle_s)
        k //= 2
    return _plan_prefix(stepper, table, forms, accept, stop, e0)


def _plan_prefix(stepper, table: PhaseTable, forms, accept, stop: float, e0: float) -> CyclePlan | None:
    """:func:`plan_cycles` when a single cycle moves too much: the longest run of whole phases
    from the start that stays within tolerance (at least two, as :func:`plan`), all phase ends
    at once from the start maps."""
    system, z = stepper.system, stepper.z
    maps = _PrefixMaps(stepper, table, forms)
    out = system.outputs[0]
    a, b = maps.at(e0)
    e = (a[1:] * np.array(z) + b[1:]) @ np.array(out.c) + out.f
    good = accept.ok_array(e)
    if math.isfinite(stop):
        good &= table.ends_ns < to_ns(stop - stepper.t)
    m = int(np.argmin(good)) if not good.all() else len(good)
    if m < 2:
        return None
    e1 = float(e[m - 1])
    e1a = maps.open_after(z, 0.5 * (e0 + e1), m)
    if _consistent(e0, e1, e1a):
        e1b = maps.open_after(z, 0.5 * (e0 + e1a), m)
        if _consistent(e0, e1a, e1b):
            return CyclePlan(table, forms, 0.5 * (e0 + e1a), 1, stepper.t + int(table.ends_ns[m - 1]) / NS_PER_S, m)
    return None


class _PrefixMaps:
    """Phase-start maps of a table at the currents of a given internal voltage."""

    def __init__(self, stepper, table: PhaseTable, forms):
        self.forms, self.system = forms, stepper.system
        self.lean = forms.shared
        self.template = stepper.lengths.maps_template(self.system, self.lean.h_ns, self.lean.p, self.lean.phi)

    def at(self, e_open: float):
        lean, forms = self.lean, self.forms
        current = forms.mix_state(e_open)[1][forms.mix_of]
        w = current[:, None] * lean.gains + lean.drifts
        if self.template is not None:
            big_a, q = self.template
            return big_a, np.matmul(q, w.T[:, :, None])[:, :, 0].T
        from .fastforward import phase_start_maps

        return phase_start_maps(lean.p, w * lean.phi)

    def open_after(self, z, e_open: float, phases: int) -> float:
        """Internal voltage after the first ``phases`` phases from ``z`` at the currents of
        ``e_open``."""
        a, b = self.at(e_open)
        return _open(self.system, (a[phases] * np.array(z) + b[phases]).tolist())
