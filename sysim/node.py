"""Node assembly: a validated scenario becomes storage + components + protection.

Data flows one way (DESIGN.md): Scenario -> Node -> engine -> Result. The component packages
build their own objects from their tables (``table.build(context, name)``); this module only wires
them: harvesters either straight to the storage or through the PMIC, loads, and firmware.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_models.base import StorageModel

from .engine.component import Component
from .engine.protection import ProtectionSettings
from .engine.rail import DIRECT, Rail
from .errors import ScenarioError
from .scenario.loader import Scenario


@dataclass
class BuildContext:
    """What a table may need when it builds its object."""

    scenario: Scenario
    base_dir: str
    seed: int
    duration: float
    start: Any = None
    storage: StorageModel | None = None
    components: dict[str, Component] = field(default_factory=dict)
    #: supply rails loads can name with ``rail = "..."``: "storage" always; "pmic" when the PMIC
    #: has an output; regulators add their own names
    rails: dict[str, Rail] = field(default_factory=lambda: {"storage": DIRECT})

    def rail(self, name: str | None, key: str) -> Rail:
        """The rail called ``name`` (``None``: the storage terminal); ScenarioError if unknown."""
        from .errors import ScenarioError

        name = name or "storage"
        if name not in self.rails:
            raise ScenarioError(self.scenario.source, key,
                                f"unknown rail {name!r}; known: {', '.join(sorted(self.rails))}")
        return self.rails[name]


@dataclass
class Node:
    storage: StorageModel
    components: list[Component]
    protection: ProtectionSettings
    context: BuildContext
    #: ambient temperature for the engine: K, or [(t_s, K), ...], or None (models at their reference)
    temperature: float | list | None = None


#: the fastest storage time constant the engine steps (s): its clock counts integer nanoseconds
MIN_TIME_CONSTANT_S = 1e-9


def _check_time_constants(storage: StorageModel, source: str) -> None:
    """A mode faster than a clock tick (a leakage of 1e-16 Ω across 47 mF: τ = 5e-18 s) leaves
    crossings that fall inside one nanosecond and never advance the clock: refuse it up front."""
    rates = [r for r in storage.modal().rates if r < 0]
    if rates and -1.0 / min(rates) < MIN_TIME_CONSTANT_S:
        raise ScenarioError(source, "storage", f"a time constant of {-1.0 / min(rates):.3g} s is shorter than "
                            f"{MIN_TIME_CONSTANT_S:g} s (the simulator's clock tick); check the resistances and "
                            "capacitances")


def build_node(scenario: Scenario) -> Node:
    sim = scenario.simulation
    ctx = BuildContext(scenario, scenario.base_dir, sim.seed, sim.duration, sim.start)
    storage = scenario.storage.build(ctx)
    _check_time_constants(storage, scenario.source)
    ctx.storage = storage
    harvesters = [table.build(ctx, name) for name, table in scenario.harvesters]
    components: list[Component] = []
    if scenario.pmic is not None:
        components.extend(scenario.pmic.build(ctx, harvesters))
    else:
        components.extend(harvesters)
    for table in scenario.extra.values():  # extension tables that add parts (e.g. [regulator.<name>] rails)
        build_components = getattr(table, "build_components", None)
        if build_components is not None:
            components.extend(build_components(ctx))
    components.extend(table.build(ctx, name) for name, table in scenario.loads)
    ctx.components = {c.name: c for c in components}
    if scenario.firmware is not None:
        components.extend(scenario.firmware.build(ctx, components))
    s = scenario.storage
    protection = ProtectionSettings(v_min=s.v_min, v_max=s.v_max, v_min_hysteresis=s.v_min_hysteresis,
                                    v_max_hysteresis=s.v_max_hysteresis, restart_delay=s.restart_delay)
    temperature = sim.ambient_temperature
    for hook in TEMPERATURE_SOURCES:  # e.g. a temperature trace table registered by an extension
        temperature = hook(scenario, temperature)
    return Node(storage, components, protection, ctx, temperature)


#: callables (scenario, temperature) -> temperature that extensions register to supply a schedule
TEMPERATURE_SOURCES: list = []
