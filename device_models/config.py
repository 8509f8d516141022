"""Scenario tables for the explicit storage models (``model = "supercap"`` / ``"battery"``).

Registered in sysim.scenario.registry; a ``preset`` supplies these keys as data and explicit keys
override it. ``initial_voltage`` is the storage (pack) terminal voltage; v_min and v_max are per cell.
"""
from __future__ import annotations

import math
from typing import Annotated, Optional

from pydantic import Field, field_validator, model_validator

from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_storage_model
from sysim.scenario.schema import StorageCommon

from .base import IdenticalPack, StorageModel
from .battery import Battery, BatteryParameters, RCPair
from .supercap import Branch, Supercap, SupercapParameters


class BranchTable(Table):
    capacitance: Quantity("capacitance", positive=True)
    resistance: Quantity("resistance", positive=True)


class RCTable(Table):
    resistance: Quantity("resistance", positive=True)
    capacitance: Quantity("capacitance", positive=True)


def pack(cell: StorageModel, table: StorageCommon) -> StorageModel:
    if table.series == 1 and table.parallel == 1:
        return cell
    return IdenticalPack(cell, table.series, table.parallel)


class SupercapStorage(StorageCommon):
    capacitance: Quantity("capacitance", positive=True)
    esr: Quantity("resistance", non_negative=True) = 0.0
    leakage_resistance: Quantity("resistance", positive=True, allow_inf=True) = math.inf
    branches: list[BranchTable] = Field(default_factory=list, max_length=32)

    def parameters(self) -> SupercapParameters:
        return SupercapParameters(self.capacitance, self.esr, self.leakage_resistance,
                                  tuple(Branch(b.capacitance, b.resistance) for b in self.branches))

    def build(self, ctx) -> StorageModel:
        cell = Supercap(self.parameters(), self.initial_cell_voltage(0.0), self.v_max)
        return pack(cell, self)


class BatteryStorage(StorageCommon):
    capacity: Quantity("charge", positive=True)
    ocv: list[tuple[Annotated[float, Field(ge=0.0, le=1.0)], Quantity("voltage", non_negative=True)]] = Field(min_length=2)
    r0: Quantity("resistance", non_negative=True) = 0.0
    rc: list[RCTable] = Field(default_factory=list, max_length=8)
    self_discharge: Quantity("rate", non_negative=True) = 0.0

    @field_validator("ocv")
    @classmethod
    def _ocv(cls, table):
        socs = [p[0] for p in table]
        if any(b <= a for a, b in zip(socs, socs[1:])):
            raise ValueError("soc values must increase strictly")
        if any(b[1] < a[1] for a, b in zip(table, table[1:])):
            raise ValueError("voltages must not decrease as soc rises")
        return table

    @model_validator(mode="after")
    def _self_discharge(self):
        if self.self_discharge * 365.25 * 86400.0 >= 1.0:
            raise ValueError("self_discharge must be below 100 %/yr")
        return self

    def parameters(self) -> BatteryParameters:
        return BatteryParameters(self.capacity, tuple((float(s), float(v)) for s, v in self.ocv), self.r0,
                                 tuple(RCPair(r.resistance, r.capacitance) for r in self.rc),
                                 self.self_discharge * 365.25 * 86400.0)

    def build(self, ctx) -> StorageModel:
        params = self.parameters()
        if self.initial_soc is not None:
            soc = self.initial_soc
        elif self.initial_voltage is not None:
            soc = Battery(params, 0.5).soc_at_voltage(self.initial_cell_voltage(0.0))
        else:
            soc = 1.0
        return pack(Battery(params, soc), self)


register_storage_model("supercap", SupercapStorage)
register_storage_model("battery", BatteryStorage)
