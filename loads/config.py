"""Scenario tables for the day-one loads: ``constant`` and ``periodic`` (contract in DESIGN.md)."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_load

from .basic import ConstantLoad, PeriodicLoad


class LoadCommon(Table):
    """Keys every [[load]] table has."""

    type: str
    name: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    #: the supply rail: "storage" (default, straight from the storage), "pmic" (the PMIC's
    #: output, gated by its power-good), or the name of a regulator
    rail: Optional[str] = None


class ConstantLoadTable(LoadCommon):
    current: Quantity("current", non_negative=True) = 0.0
    power: Quantity("power", non_negative=True) = 0.0

    @model_validator(mode="after")
    def _one(self):
        if self.current and self.power:
            raise ValueError("give current or power, not both")
        return self

    def build(self, ctx, name: str):
        return ConstantLoad(name, self.current, self.power, ctx.rail(self.rail, f"{name}.rail"))


class PhaseTable(Table):
    current: Quantity("current", non_negative=True)
    duration: Quantity("time", positive=True)


class PeriodicLoadTable(LoadCommon):
    period: Quantity("time", positive=True)
    base_current: Quantity("current", non_negative=True) = 0.0
    phases: list[PhaseTable] = Field(default_factory=list, max_length=1000)
    offset: Quantity("time", non_negative=True) = 0.0

    @model_validator(mode="after")
    def _fits(self):
        busy = sum(p.duration for p in self.phases)
        if busy > self.period * (1 + 1e-12):
            raise ValueError(f"phases last {busy:g} s, longer than the period ({self.period:g} s)")
        if self.period < 1e-6:
            raise ValueError("period must be at least 1 µs")
        return self

    def build(self, ctx, name: str):
        return PeriodicLoad(name, self.period, self.base_current,
                            [(p.current, p.duration) for p in self.phases], self.offset,
                            ctx.rail(self.rail, f"{name}.rail"))


register_load("constant", ConstantLoadTable)
register_load("periodic", PeriodicLoadTable)
