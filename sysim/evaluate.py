"""One scenario run reduced to numbers: what sizing, energy-neutrality reports and sweeps ask of a run.

:func:`run_scenario` runs a validated scenario with two extras the plain :func:`sysim.simulate`
does not offer: a ``stop`` predicate, checked after every integrator step, that ends the run
early once its outcome is certain (a sizing candidate that has already browned out), and a
``setup`` hook that may start SimPy processes on the simulation before it runs (the per-day
energy meter of :mod:`sysim.eno`). A Ctrl-C inside the run is turned back into
``KeyboardInterrupt`` here, because the engine itself swallows it to return a partial result.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .api import prepare
from .engine.simulation import StopRun
from .result import Result
from .scenario.loader import Scenario

#: summary keys that describe the run rather than the node; never treated as outputs
NON_OUTPUT_KEYS = frozenset({"scenario", "interrupted"})


@dataclass
class Run:
    result: Result
    #: True when ``stop`` ended the run before its end (the summary covers ``[0, duration_s]``)
    stopped_early: bool

    @property
    def summary(self) -> dict:
        return self.result.summary


def run_scenario(scenario: Scenario, *, stop=None, setup=None) -> Run:
    """Run ``scenario``; ``stop(sim) -> bool`` ends it early (checked after every integrator
    step), ``setup(sim)`` is called on the prepared :class:`~sysim.engine.simulation.Simulation`
    before it starts."""
    stopped: list[bool] = []

    def on_step(sim) -> None:
        if stop(sim):
            stopped.append(True)
            raise StopRun

    sim = prepare(scenario, on_step=on_step if stop is not None else None)
    if setup is not None:
        setup(sim)
    raw = sim.run()
    if raw.summary.get("interrupted") and not stopped:
        raise KeyboardInterrupt  # the user pressed Ctrl-C inside the engine
    return Run(Result(raw, scenario), bool(stopped))


def scalar_outputs(summary: dict) -> dict:
    """The numbers of a run summary (int, float, bool or None), JSON-safe: non-finite floats
    become None."""
    out = {}
    for key, value in summary.items():
        if key in NON_OUTPUT_KEYS:
            continue
        if hasattr(value, "item") and not isinstance(value, (list, dict)):
            value = value.item()  # numpy scalars
        if isinstance(value, bool) or value is None or isinstance(value, int):
            out[key] = value
        elif isinstance(value, float):
            out[key] = value if math.isfinite(value) else None
    return out
