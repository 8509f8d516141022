"""Scenario tables for loads: the keys every ``[[load]]`` has, and the ``constant`` and ``periodic`` types.

Every load draws from a rail (``rail = "storage" | "pmic" | <regulator name>``) and may have a
minimum rail voltage ``v_min``: below it the load draws nothing (its ``<name>_on`` trace column is
0); ``restart_delay`` later it comes back once the storage is ``v_min_hysteresis`` above the level
where it went off. A ``type`` may name a preset of the load library (``sysim presets --kind
load``); explicit keys override it.

Importing this module registers the whole load library: the types of :mod:`loads.library_config`,
:mod:`loads.trace_config` and :mod:`loads.dutycycle_config`, the ``[regulator.<name>]`` tables
and the presets.
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_load

from .component import RailLoad
from .states import LoadEvent, RailState, Timeline


def load_key(ctx, name: str, field: str) -> str:
    """Key path ``load[i].field`` of the load called ``name`` (for build-time errors)."""
    for i, (load_name, _) in enumerate(getattr(ctx.scenario, "loads", [])):
        if load_name == name:
            return f"load[{i}].{field}"
    return f"{name}.{field}"


class LoadCommon(Table):
    """Keys every [[load]] table has."""

    type: str
    name: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    #: the preset the values came from (set by ``preset = ...`` or a preset name given as ``type``)
    preset: Optional[str] = None
    #: the supply rail: "storage" (default, straight from the storage), "pmic" (the PMIC's
    #: output, gated by its power-good), or the name of a [regulator.<name>] table
    rail: Optional[str] = None
    #: lowest rail voltage the load runs at; below it the load is off
    v_min: Optional[Quantity("voltage", positive=True)] = None
    v_min_hysteresis: Quantity("voltage", non_negative=True) = 0.05
    restart_delay: Quantity("time", positive=True) = 1e-3

    def event(self, ctx) -> LoadEvent:
        """One occurrence of the load's activity and its floor (used by duty-cycle tasks)."""
        return LoadEvent((), self.floor_state())

    def floor_state(self) -> RailState:
        return RailState()

    def timeline(self, ctx) -> Timeline:
        """When the load draws what when it runs on its own."""
        return Timeline.constant(self.floor_state())

    def temperature_factor(self):
        """Kelvin -> multiplier of the load's thermal (sleep) currents, or None."""
        return None

    def build(self, ctx, name: str):
        try:
            timeline = self.timeline(ctx)
        except ValueError as exc:
            raise ScenarioError(ctx.scenario.source, load_key(ctx, name, "type"), str(exc)) from None
        rail = ctx.rail(self.rail, load_key(ctx, name, "rail"))
        try:
            return RailLoad(name, timeline, rail, self.v_min, self.v_min_hysteresis, self.restart_delay,
                            self.temperature_factor())
        except ValueError as exc:
            key = "v_min" if self.v_min is not None and "v_min" in str(exc) else "rail"
            raise ScenarioError(ctx.scenario.source, load_key(ctx, name, key), str(exc)) from None


class ConstantLoadTable(LoadCommon):
    current: Quantity("current", non_negative=True) = 0.0
    power: Quantity("power", non_negative=True) = 0.0

    def floor_state(self) -> RailState:
        return RailState(0.0, self.current, self.power, label="constant")


class PhaseTable(Table):
    """One state of a periodic load: a current and/or a power for a duration."""

    current: Quantity("current", non_negative=True) = 0.0
    power: Quantity("power", non_negative=True) = 0.0
    duration: Quantity("time", positive=True)

    def state(self, label: str = "") -> RailState:
        return RailState(self.duration, self.current, self.power, label=label)


class PeriodicLoadTable(LoadCommon):
    """Phases in order at the start of each period, ``base_current``/``base_power`` for the rest."""

    period: Quantity("time", positive=True)
    base_current: Quantity("current", non_negative=True) = 0.0
    base_power: Quantity("power", non_negative=True) = 0.0
    phases: list[PhaseTable] = Field(default_factory=list, max_length=10_000)
    offset: Quantity("time", non_negative=True) = 0.0

    @model_validator(mode="after")
    def _fits(self):
        busy = sum(p.duration for p in self.phases)
        if busy > self.period * (1 + 1e-12):
            raise ValueError(f"phases last {busy:g} s, longer than the period ({self.period:g} s)")
        if self.period < 1e-6:
            raise ValueError("period must be at least 1 µs")
        return self

    def floor_state(self) -> RailState:
        return RailState(0.0, self.base_current, self.base_power, label="base")

    def event(self, ctx) -> LoadEvent:
        return LoadEvent(tuple(p.state(f"phase{k}") for k, p in enumerate(self.phases)), self.floor_state())

    def timeline(self, ctx) -> Timeline:
        return Timeline.periodic(self.event(ctx), self.period, self.offset)


register_load("constant", ConstantLoadTable)
register_load("periodic", PeriodicLoadTable)

# the rest of the library registers itself on import
from . import dutycycle_config, library_config, presets, regulator_config, trace_config  # noqa: E402,F401
