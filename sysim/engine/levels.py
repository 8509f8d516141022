"""Watched levels seen from the stretch planner: as internal (open-circuit) voltages of the store.

A stretch must not freeze its currents across a watched level (a crossing would end it early with
the whole stretch's frozen current on the part walked), so the planner (sysim.engine.stretch)
converts every watch on an output proportional to the terminal voltage into a level of the
internal voltage ``E``, with a margin for the ESR drop when the watch sees the current.
"""
from __future__ import annotations

from .regime import _currents
from .schedule import PhaseTable


def watched_levels(stepper, table: PhaseTable, watches, e0: float, currents=None,
                   largest_current: float | None = None) -> tuple:
    """Watched levels as internal (open-circuit terminal) voltages with a margin for the ESR drop:
    outputs proportional to the terminal voltage (a single cell, identical cells) convert exactly;
    others are left out. ``currents``: the table's (channels × phases) currents at ``e0`` if known,
    or ``largest_current``: the largest magnitude among them (A)."""
    system = stepper.system
    ratios = _output_ratios(system)
    if ratios is None:
        return ()
    if largest_current is None:
        if currents is None:
            currents = _currents(table.channels, table.member, e0, system.series_resistance)
        largest_current = max(float(currents.max(initial=0.0)), -float(currents.min(initial=0.0)))
    term = system.outputs[0]
    drop = abs(term.d) * largest_current * max(1, len(table.channels))
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
