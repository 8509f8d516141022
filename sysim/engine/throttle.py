"""A held store's throttle applied to a phase table, kept for the hold episode.

While a store is held (sysim.engine.hold), the harvesting draws of the components that hold it are
scaled by the throttle factor. The factor is computed once per hold episode and set of draws, and
the scaled draws are made once, so they keep their identity (and the caches keyed by it: regimes,
per-mix forms) from one regime to the next. The integrator ends the episode at every crossing
(:meth:`Throttles.clear`): any threshold may start, end or correct a hold.
"""
from __future__ import annotations

import numpy as np

from .draws import Draw
from .hold import hold_factor
from .schedule import PhaseTable

#: hold episodes × sets of draws remembered at once
_MAX_ENTRIES = 256


class Throttles:
    """The throttled tables of one run. ``kinds``: component name → kind (the run's own dict)."""

    def __init__(self, kinds: dict):
        self.kinds = kinds
        self._factors: dict = {}

    def clear(self) -> None:
        self._factors.clear()

    def held(self, sim, table: PhaseTable, holders: frozenset, level: float, may_rebuild: bool = True):
        """``table`` with the ``holders``' harvest throttled to keep the store at ``level`` (V,
        open-circuit); None when a holder asks for the table to be built again (``may_rebuild``)."""
        # only the harvesting draws are throttled: a PMIC's own quiescent current flows regardless
        sources = np.array([d.owner in holders and self.kinds.get(d.owner) == "source" and _harvests(d)
                            for d in table.channels], dtype=bool)
        key = (holders, tuple(id(d) for d in table.channels))
        hit = self._factors.get(key)
        if hit is None or any(a is not b for a, b in zip(hit[0], table.channels)):
            factor = hold_factor(sim.stepper, table, sources, level)
            scaled = None if factor >= 1.0 else tuple(_scaled(d, factor) if src else d
                                                      for d, src in zip(table.channels, sources))
            if len(self._factors) >= _MAX_ENTRIES:
                self._factors.clear()
            hit = self._factors[key] = (table.channels, scaled, factor)
        # the holders hear the throttle of every regime (a cached one too: a load that came and
        # went brings back an earlier factor)
        rebuild = False
        for c in sim.components:
            if c.name in holders:
                rebuild |= bool(c.on_hold_factor(sim, table.channels, hit[2]))
        if rebuild and may_rebuild:
            del self._factors[key]
            return None
        scaled = hit[1]
        return table if scaled is None else table.with_channels(scaled)


def _harvests(draw: Draw) -> bool:
    """A draw that can charge the store (negative current or power, or voltage-dependent)."""
    return draw.current_A < 0.0 or draw.power_W < 0.0 or draw.current_of_voltage is not None


def _scaled(draw: Draw, factor: float) -> Draw:
    fn = draw.current_of_voltage
    return Draw(draw.owner, draw.current_A * factor, draw.power_W * factor,
                (lambda v, f=fn: factor * f(v)) if fn is not None else None, draw.accounts, draw.label)
