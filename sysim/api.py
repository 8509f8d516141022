"""The Python API: ``sysim.load`` and ``sysim.simulate`` (DESIGN.md, "Python API")."""
from __future__ import annotations

import os

from .engine.collector import collector_relaxed
from .engine.simulation import RunOptions, Simulation
from .node import build_node
from .result import Result
from .scenario.loader import Scenario, load


def simulate(scenario: Scenario | str | os.PathLike, *, duration: float | None = None,
             record_every: float | None = None, progress=None, stream_trace_to: str | None = None,
             method: str | None = None) -> Result:
    """Run a scenario (object or file name) and return its :class:`Result`.

    ``duration`` / ``record_every`` (s) override the scenario; ``progress(t_sim, t_end, wall_s)``
    is called a few times a second on long runs; ``stream_trace_to`` writes trace rows to that
    CSV file while running instead of keeping them in memory; ``method`` overrides
    ``simulation.method`` (``"auto"``, ``"event"``, ``"fast-forward"``).
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    changes = {}
    if duration is not None:
        changes["simulation.duration"] = duration
        if record_every is None and "record_every" not in scenario.data.get("simulation", {}):
            changes["simulation.record_every"] = duration / 1000.0
    if record_every is not None:
        changes["simulation.record_every"] = record_every
    if method is not None:
        changes["simulation.method"] = method
    if changes:
        scenario = scenario.with_changes(changes)
    with collector_relaxed():  # the node's build (weather files, pvlib) as well as the run
        node = build_node(scenario)
        sim = scenario.simulation
        options = RunOptions(sim.duration, sim.record_every, stream_trace_to, progress,
                             temperature=node.temperature, power_tolerance=sim.power_tolerance)
        simulation = Simulation(node.storage, node.components, node.protection, options)
        simulation.method = sim.method
        raw = simulation.run()
    return Result(raw, scenario)


def prepare(scenario: Scenario, **options) -> Simulation:
    """A ready-to-run :class:`Simulation` for ``scenario`` (the GUI and firmware runners drive it
    themselves); ``options`` are passed to :class:`RunOptions`."""
    node = build_node(scenario)
    sim = scenario.simulation
    options.setdefault("power_tolerance", sim.power_tolerance)
    run_options = RunOptions(sim.duration, sim.record_every, temperature=node.temperature, **options)
    simulation = Simulation(node.storage, node.components, node.protection, run_options)
    simulation.method = sim.method
    return simulation
