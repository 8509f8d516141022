"""Samples inside a stretch, taken on the constant-power curve instead of the frozen chord.

A stretch holds a constant-power draw at one current, ``P/V(E_mid)`` (sysim.engine.stretch), so
its stored voltage runs along a chord between the stretch's ends; the exact voltage bulges off it
by up to ΔE²/(8·E). A sample inside the stretch gets its own freeze from the stretch start to the
sample, and its cumulative energy columns are booked along that freeze, so that the row's voltage
and its energy balance both sit on the curve.
"""
from __future__ import annotations

import numpy as np

from .book import PhaseBook
from .fastforward import book_cycles, book_phases
from .ledger import Ledger
from .regime import Regime
from .schedule import NS_PER_S
from .segment import Coeffs, flush_sums
from .stretch import _open, _state_at, frozen


#: a sample inside a stretch is re-frozen (curved_state) unless the chord's sagitta there,
#: ΔE²/(8·E), is below this (V): far below the stretch end's own error (tens of µV at 3 %), and
#: a held store creeping by a millivolt needs nothing
SAGITTA_NEGLIGIBLE_V = 1e-7


def curved_state(stepper, regime: Regime, z0, rel_ns: int, z_chord, span_ns: int | None = None) -> tuple:
    """State ``rel_ns`` ns into a stretch of ``regime`` that started in ``z0``, on the curved
    trajectory. The stretch's frozen currents move the internal voltage along a chord between
    the stretch's ends; a constant-power draw's exact voltage bulges off it by up to
    ΔE²/(8·E) (0.34 mV for 3 % of 3 V, however short the phase that holds the point). The point
    gets its own freeze over [E0, E(t)] from the stretch start, iterated twice as the stretch's
    (:func:`_solve`), which leaves only the stretch end's own error (second order). ``span_ns``:
    the stretch's length, which sets the sagitta (the chord's slope times the span). Returns the
    state and the energies by category booked from the stretch start to the point along that
    freeze (None where the chord is kept)."""
    system = stepper.system
    if rel_ns <= 0:
        return z_chord, None
    e0 = _open(system, z0)
    e_chord = _open(system, z_chord)
    span = max(span_ns or 0, rel_ns)
    if ((e_chord - e0) * span / rel_ns) ** 2 <= 8.0 * max(abs(e0), 1e-3) * SAGITTA_NEGLIGIBLE_V:
        return z_chord, None
    cycle_ns = int(regime.h_ns.sum())
    cycles, rem_ns = divmod(rel_ns, cycle_ns) if regime.cyclic else (0, rel_ns)
    z_t = z_chord
    for _ in range(2):
        own = frozen(stepper, regime.table, e0, _open(system, z_t), base=regime)
        z_t = _state_at(system, z0, own, cycles, rem_ns)
    return z_t, _energies_to(stepper, own, z0, cycles, rem_ns)


def _energies_to(stepper, regime: Regime, z0, cycles: int, rem_ns: int) -> dict[str, float]:
    """Energy by ledger category that ``regime`` books from the state ``z0`` at its start to the
    point ``cycles`` cycles and ``rem_ns`` ns later (the cycles in closed form, the phases
    before the point from their start maps, the point's own phase up to it): a curved sample's
    cumulative columns, which then agree with its stored energy as the chord's would not."""
    system = stepper.system
    book = PhaseBook(regime)
    a, b = regime.start_maps()
    z = list(z0)
    if cycles:
        z = book_cycles(book, a, b, a[-1].tolist(), b[-1].tolist(), z, cycles)
    offsets = regime.table.ends_ns
    m = int(np.searchsorted(offsets, rem_ns, side="right"))
    start = int(offsets[m - 1]) if m > 0 else 0
    z_arr = np.array(z)
    book_phases(book, a, b, z_arr, 0, m)
    out = Ledger(0.0)
    book.flush(out)
    if rem_ns > start:
        z_m = (a[m] * z_arr + b[m]).tolist()
        phase = regime.phase(m)
        part = Coeffs(system, (rem_ns - start) / NS_PER_S, phase.current)
        flush_sums(system, part, 1, z_m, [v * v for v in z_m], phase.draws, phase.currents, out)
    return out.totals()
