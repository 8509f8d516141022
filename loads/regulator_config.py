"""Scenario tables ``[regulator.<name>]``: LDOs and buck converters between the storage and a rail.

    [regulator.ldo]                   # loads use it with rail = "ldo"
    preset = "tps7a02-1v8"            # or type = "ldo" with the keys below
    output_voltage = "1.8 V"

    [regulator.buck]
    type = "buck"
    output_voltage = "1.8 V"
    quiescent_current = "360 nA"
    efficiency = [["1 uA", "68 %"], ["100 uA", "85 %"], ["10 mA", "90 %"]]   # η vs load current

The name is the table's key (letters, digits, underscores); a load names it with ``rail``. Each
regulator registers itself in the build context's rails and joins the node as a component (its
quiescent current, its regulating/dropout/off modes; :mod:`loads.regulators`).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from pydantic import Field, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Quantity, Table
from sysim.scenario.loader import resolve
from sysim.scenario.registry import register_scenario_check, register_top_level_table

from .regulators import LDO, Buck

REGULATORS: dict[str, type] = {}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_RESERVED = ("storage", "pmic")


class RegulatorCommon(Table):
    type: str
    preset: Optional[str] = None
    output_voltage: Quantity("voltage", positive=True)
    quiescent_current: Quantity("current", non_negative=True) = 0.0
    shutdown_current: Quantity("current", non_negative=True) = 0.0
    #: storage-to-rail drop when the pass element is fully on (dropout / 100 % duty cycle)
    dropout_voltage: Quantity("voltage", non_negative=True) = 0.0
    dropout_hysteresis: Quantity("voltage", positive=True) = 0.01
    #: under-voltage lockout on the storage side (falling threshold); none if absent
    uvlo: Optional[Quantity("voltage", positive=True)] = None
    uvlo_hysteresis: Quantity("voltage", positive=True) = 0.05
    startup_time: Quantity("time", positive=True) = 1e-3

    def common(self) -> dict:
        return dict(quiescent_current=self.quiescent_current, dropout_voltage=self.dropout_voltage,
                    uvlo=self.uvlo, uvlo_hysteresis=self.uvlo_hysteresis, dropout_hysteresis=self.dropout_hysteresis,
                    startup_time=self.startup_time, shutdown_current=self.shutdown_current)


class LdoTable(RegulatorCommon):
    def build(self, name: str):
        return LDO(name, self.output_voltage, **self.common())


class BuckTable(RegulatorCommon):
    efficiency: list[tuple[Quantity("current", positive=True), Quantity("dimensionless", positive=True, maximum=1.0)]] \
        = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _distinct(self):
        currents = sorted(i for i, _ in self.efficiency)
        if any(b <= a for a, b in zip(currents, currents[1:])):
            raise ValueError("efficiency: each load current may appear once")
        return self

    def build(self, name: str):
        return Buck(name, self.output_voltage, list(self.efficiency), **self.common())


class RegulatorTables(Table):
    """All ``[regulator.<name>]`` tables, validated one by one with their own key paths."""

    items: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _each(cls, data, info):
        context = info.context or {}
        source = context.get("source", "<scenario>")
        items = {}
        for name, table in data.items():
            if not _NAME.match(str(name)) or name in _RESERVED:
                raise ScenarioError(source, f"regulator.{name}", "a regulator name is a letter then letters, digits "
                                    "or underscores, and not 'storage' or 'pmic'")
            if not isinstance(table, dict):
                raise ScenarioError(source, f"regulator.{name}", "must be a table ([regulator.<name>])")
            items[name] = resolve(table, f"regulator.{name}", "type", REGULATORS, source, context)
        return {"items": items}

    def build_components(self, ctx) -> list:
        """Build every regulator, register it as a rail in ``ctx.rails`` and return them."""
        built = []
        for name, table in self.items.items():
            try:
                regulator = table.build(name)
            except ValueError as exc:
                raise ScenarioError(ctx.scenario.source, f"regulator.{name}", str(exc)) from None
            ctx.rails[name] = regulator
            built.append(regulator)
        return built


def _check_rails(scenario) -> None:
    """Every load's rail exists; regulator names do not clash with component names."""
    regulators = scenario.extra.get("regulator")
    names = set(regulators.items) if regulators is not None else set()
    components = {n for n, _ in scenario.harvesters} | {n for n, _ in scenario.loads}
    for name in names & components:
        raise ScenarioError(None, f"regulator.{name}", f"the name {name!r} is also used by a harvester or load")
    for i, (_, table) in enumerate(scenario.loads):
        rail = getattr(table, "rail", None)
        if rail is not None and rail not in _RESERVED and rail not in names:
            known = ", ".join(sorted({"storage", *names})) or "storage"
            raise ScenarioError(None, f"load[{i}].rail", f"unknown rail {rail!r}; known: {known} "
                                f"(and 'pmic' with a [pmic] table)")


REGULATORS["ldo"] = LdoTable
REGULATORS["buck"] = BuckTable
register_top_level_table("regulator", RegulatorTables)
register_scenario_check(_check_rails)
