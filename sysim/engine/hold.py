"""Holding a full store: throttle the harvest to exactly what keeps the internal voltage level.

A harvesting PMIC at its over-voltage threshold (and the node's own ``v_max`` protection) switches
its charger on and off in a fast hysteresis that keeps the store at the threshold on average,
the harvest throttled to what the loads and the store's own leakage take ("OV clamp",
models-and-numerics.md §3.3). Simulating each toggle would cost thousands of events a day and say
nothing new, so the engine holds instead: the harvest draws are scaled by a factor ``f`` chosen so
that the voltage the store settles to under that throttle is the held level. Per mode the duty
cycle is the affine map ``z ← P·z + G(f)``, ``G`` affine in ``f``; the settled state is
``z* = G/(1 - P)`` and the settled internal voltage ``c·z* + f0`` is affine in ``f`` (for a
constant regime the same with ``z* = -(b·I + e)/λ``). A mode without leakage (``P = 1``) settles
only if no net charge enters it per cycle, which fixes ``f`` by itself. ``f`` is clipped to
[0, 1]: when the harvest cannot cover the loads the store falls and leaves the held state through
its comparator.

The engine also watches a band ``HOLD_BAND_V`` above the held level and recomputes the factor
should the store drift through it; otherwise the factor is kept for the whole hold episode, so
where the engine happens to rebuild its regimes (a live display's chunks) does not change the
result.
"""
from __future__ import annotations

import numpy as np

from .cyclemap import cycle_weights
from .regime import _currents
from .schedule import PhaseTable


#: the store may drift this far above a held level before the throttle is recomputed (V)
HOLD_BAND_V = 0.005


def hold_factor(stepper, table: PhaseTable, sources: np.ndarray, level: float) -> float:
    """Scale for the ``sources`` channels (boolean mask) under which the store settles at ``level``
    (V, internal/open-circuit terminal voltage)."""
    if not sources.any():
        return 1.0
    system = stepper.system
    out = system.outputs[0]
    e_now = stepper.open_circuit()
    cheap = not table.endless and not system.current_dependent
    regime = None if table.endless or cheap else stepper.regime_for(table, e_open=e_now)
    currents = regime.currents if regime is not None else \
        _currents(table.channels, table.member, e_now, system.series_resistance)
    without = currents.copy()
    without[sources] = 0.0
    if cheap:
        p, forcing_a, forcing_b = _cycle_maps(stepper, table, without.sum(axis=0), currents.sum(axis=0))
        decay = 1.0 - p                        # z* = G / (1 - P)
    elif table.endless:
        rates = np.array(system.rates)
        forcing_a = np.array(system.gains) * float(without.sum()) + np.array(system.drifts)
        forcing_b = np.array(system.gains) * float(currents.sum()) + np.array(system.drifts)
        decay = -rates                         # z* = forcing / decay
    else:
        if system.current_dependent:
            p, forcing_a = (m[-1] for m in stepper.regime_for(table, e_open=e_now, currents=without).start_maps())
        else:
            p, forcing_a = (m[-1] for m in regime.start_maps_for(without.sum(axis=0)))
        forcing_b = regime.start_maps()[1][-1]
        decay = 1.0 - p                        # z* = G / (1 - P)
    c = np.array(out.c)
    integrators = decay <= 1e-15 * np.maximum(np.abs(forcing_a) + np.abs(forcing_b), 1e-300)
    if integrators.any():
        i = int(np.flatnonzero(integrators)[0])
        if forcing_b[i] == forcing_a[i]:
            return 1.0
        return float(min(1.0, max(0.0, forcing_a[i] / (forcing_a[i] - forcing_b[i]))))
    settled_a = float(np.dot(c, forcing_a / decay)) + out.f
    settled_b = float(np.dot(c, forcing_b / decay)) + out.f
    if settled_b == settled_a:
        return 1.0
    return float(min(1.0, max(0.0, (level - settled_a) / (settled_b - settled_a))))


def _cycle_maps(stepper, table: PhaseTable, current_a: np.ndarray, current_b: np.ndarray):
    """``(P, G_a, G_b)`` of the per-mode cycle map ``z ← P·z + G`` of ``table``'s phases under two
    per-phase total currents, from the phase coefficients alone (no regime is built: a held store
    asks this for every new light level). ``G = Σ_j (Π_{l>j} p_l)·φ_j·(b·I_j + e)``."""
    system = stepper.system
    p, phi = stepper.lengths.stacked(system, table.h_ns)[:2]
    weights, cycle_p = cycle_weights(p, phi)
    gains, drifts = stepper.lengths.forcing(system)
    constant = weights.sum(axis=0) * drifts
    return cycle_p, (current_a @ weights) * gains + constant, (current_b @ weights) * gains + constant
