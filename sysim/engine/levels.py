"""Watched levels seen from the stretch planner: as internal (open-circuit) voltages of the store.

A stretch must not freeze its currents across a watched level (a crossing would end it early with
the whole stretch's frozen current on the part walked), so the planner (sysim.engine.stretch)
converts every watch on an output proportional to the terminal voltage into a level of the
internal voltage ``E``, with a margin for the ESR drop when the watch sees the current: the drop
at the largest total a phase draws (the sum of its channels' magnitudes), with
:data:`DROP_HEADROOM` for the currents' change across a stretch. (The largest single channel's
current times the number of channels gave a LoRa node's 78-channel table a 2.2 V margin: every
stretch counted as near every level, and a day took 220 s.)
"""
from __future__ import annotations

import numpy as np

from .regime import _currents
from .schedule import PhaseTable

#: factor on the largest phase current for the margin: the frozen currents of a stretch differ from
#: those at its start by at most the stretch tolerances (5 % for voltage-dependent draws, 3 % for
#: constant-power draws, sysim.engine.stretch)
DROP_HEADROOM = 1.1


def watched_levels(stepper, table: PhaseTable, watches, e0: float, currents=None,
                   largest_current: float | None = None) -> tuple:
    """Watched levels as internal (open-circuit terminal) voltages with a margin for the ESR drop:
    outputs proportional to the terminal voltage (a single cell, identical cells) convert exactly;
    others are left out. ``currents``: the table's (channels × phases) currents at ``e0`` if known,
    or ``largest_current``: the largest over phases of the sum of their magnitudes (A)."""
    system = stepper.system
    ratios = _output_ratios(system)
    if ratios is None:
        return ()
    if largest_current is None:
        if currents is None:
            currents = _currents(table.channels, table.member, e0, system.series_resistance)
        largest_current = float(np.abs(currents).sum(axis=0).max(initial=0.0))
    term = system.outputs[0]
    drop = abs(term.d) * largest_current * DROP_HEADROOM
    out = []
    for w in watches:
        ratio, offset = ratios[w.output]
        if ratio is not None:
            out.append(((w.level - offset) / ratio + term.f, drop if w.with_current else 0.0))
    return tuple(out)


#: per system: each output's (ratio to the terminal's internal part, offset), or None if the
#: output is not proportional to it
_RATIOS: dict[int, tuple] = {}


def _output_ratios(system) -> list | None:
    hit = _RATIOS.get(id(system))
    if hit is not None and hit[0] is system:
        return hit[1]
    term = system.outputs[0]
    ref = next((k for k, c in enumerate(term.c) if c != 0.0), None)
    ratios = None
    if ref is not None:
        ratios = []
        for o in system.outputs:
            ratio = o.c[ref] / term.c[ref]
            if ratio <= 0.0 or any(abs(a - ratio * b) > 1e-12 * abs(a) for a, b in zip(o.c, term.c)):
                ratios.append((None, None))
            else:
                ratios.append((ratio, o.f))
    if len(_RATIOS) >= 256:
        _RATIOS.clear()
    _RATIOS[id(system)] = (system, ratios)
    return ratios
