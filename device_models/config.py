"""Scenario tables for the storage models (``model = "supercap"`` / ``"battery"``) and their packs.

Registered in sysim.scenario.registry; a ``preset`` supplies these keys as data and explicit keys
override it. ``initial_voltage`` is the storage (pack) terminal voltage; v_min and v_max are per cell.

Keys every storage model here shares (on top of sysim.scenario.schema.StorageCommon):

* ``reference_area``: the values are for a device of this (electrode or footprint, as the preset
  says) area; ``area`` then scales capacitances, capacities and leakage currents by
  ``area/reference_area`` and resistances by its inverse.
* ``activation_energy`` (resistances), ``leakage_activation_energy`` (leakage, self-discharge) and
  ``reference_temperature`` (default 25 °C): Arrhenius dependence on the ambient temperature.
* ``mismatch = {capacitance, capacity, resistance, leakage, seed}``: relative standard deviations
  of the cell-to-cell spread in a pack (seed defaults to ``simulation.seed``);
  ``balancing_resistance``: a passive balancing resistor across every cell of a pack.
"""
from __future__ import annotations

import difflib
import math
from typing import Annotated, Optional

from pydantic import Field, field_validator, model_validator

from sysim.scenario.fields import Count, Quantity, Table
from sysim.scenario.registry import register_storage_model
from sysim.scenario.schema import StorageCommon

from . import ambient, library  # noqa: F401  (ambient registers the [ambient] table)
from .base import IdenticalPack, StorageModel
from .battery import Battery, BatteryParameters, RCPair
from .pack import Pack, Spread
from .supercap import Branch, Supercap, SupercapParameters, TafelLeak
from .temperature import T_REFERENCE_K

class MismatchTable(Table):
    """Relative standard deviations (``"5 %"`` or 0.05), at most 30 %."""

    capacitance: Quantity("dimensionless", non_negative=True, maximum=0.3) = 0.0
    capacity: Quantity("dimensionless", non_negative=True, maximum=0.3) = 0.0
    resistance: Quantity("dimensionless", non_negative=True, maximum=0.3) = 0.0
    leakage: Quantity("dimensionless", non_negative=True, maximum=0.3) = 0.0
    seed: Optional[Count(0, 2 ** 31)] = None


class CellStorage(StorageCommon):
    """Keys shared by the cell models of this package (see module docstring)."""

    reference_area: Optional[Quantity("area", positive=True)] = None
    activation_energy: Quantity("molar_energy", non_negative=True) = 0.0
    leakage_activation_energy: Quantity("molar_energy", non_negative=True) = 0.0
    reference_temperature: Quantity("temperature", positive=True) = T_REFERENCE_K
    mismatch: Optional[MismatchTable] = None
    balancing_resistance: Optional[Quantity("resistance", positive=True)] = None

    @model_validator(mode="after")
    def _pack_keys(self):
        if self.area is not None and self.reference_area is None:
            raise ValueError("area is given but these values are not per area (no reference_area)")
        if self.series * self.parallel == 1 and (self.balancing_resistance is not None or self.mismatch is not None):
            raise ValueError("mismatch and balancing_resistance need a pack (series or parallel > 1)")
        return self

    @property
    def area_factor(self) -> float:
        if self.area is None or self.reference_area is None:
            return 1.0
        return self.area / self.reference_area

    def spread(self, ctx) -> Spread:
        m = self.mismatch
        if m is None:
            return Spread()
        seed = m.seed if m.seed is not None else getattr(ctx, "seed", 0)
        return Spread(m.capacitance, m.capacity, m.resistance, m.leakage, seed)

    def assemble(self, ctx, make_cell) -> StorageModel:
        """One cell, an exact identical-cell collapse, or a pack of individual cells.
        ``make_cell(factors)`` builds one cell with spread factors (1.0 = nominal)."""
        count = self.series * self.parallel
        nominal = dict.fromkeys(Spread.KINDS, 1.0)
        if count == 1:
            return make_cell(nominal)
        spread = self.spread(ctx)
        r_bal = self.balancing_resistance if self.balancing_resistance is not None else math.inf
        if spread.is_zero and math.isinf(r_bal):
            return IdenticalPack(make_cell(nominal), self.series, self.parallel)
        try:
            return Pack([make_cell(f) for f in spread.factors(count)], self.series, self.parallel, r_bal)
        except ValueError as exc:
            from sysim.errors import ScenarioError
            raise ScenarioError(ctx.scenario.source, "storage", str(exc)) from None


class BranchTable(Table):
    capacitance: Quantity("capacitance", positive=True)
    resistance: Quantity("resistance", positive=True)


class TafelTable(Table):
    """``i = current·10^((v − voltage)/slope)`` at the reference temperature; slope per decade."""

    current: Quantity("current", positive=True)
    voltage: Quantity("voltage")
    slope: Quantity("voltage", positive=True)


class SupercapStorage(CellStorage):
    capacitance: Quantity("capacitance", positive=True)
    capacitance_per_volt: Quantity("capacitance_per_voltage") = 0.0
    esr: Quantity("resistance", non_negative=True) = 0.0
    leakage_resistance: Quantity("resistance", positive=True, allow_inf=True) = math.inf
    branches: list[BranchTable] = Field(default_factory=list, max_length=32)
    tafel: Optional[TafelTable] = None

    @model_validator(mode="after")
    def _nonlinear(self):
        if (self.capacitance_per_volt or self.tafel) and self.v_max is None:
            raise ValueError("capacitance_per_volt and tafel need v_max (their piecewise law covers 0 … 1.1·v_max)")
        if self.capacitance_per_volt < 0 and self.capacitance + self.capacitance_per_volt * 1.1 * (self.v_max or 0) <= 0:
            raise ValueError("C(v) = capacitance + capacitance_per_volt·v must stay positive up to v_max")
        if self.mismatch is not None and self.mismatch.capacity:
            raise ValueError("mismatch.capacity applies to batteries; a supercap spreads its capacitance")
        return self

    def parameters(self) -> SupercapParameters:
        tafel = TafelLeak(self.tafel.current, self.tafel.voltage, self.tafel.slope) if self.tafel else None
        params = SupercapParameters(self.capacitance, self.esr, self.leakage_resistance,
                                    tuple(Branch(b.capacitance, b.resistance) for b in self.branches),
                                    self.capacitance_per_volt, tafel, self.activation_energy,
                                    self.leakage_activation_energy, self.reference_temperature)
        a = self.area_factor
        return params.scaled(capacitance=a, resistance=1.0 / a, leakage=a) if a != 1.0 else params

    def build(self, ctx) -> StorageModel:
        params, v0 = self.parameters(), self.initial_cell_voltage(0.0)

        def cell(f):
            p = params.scaled(capacitance=f["capacitance"], resistance=f["resistance"], leakage=f["leakage"])
            return Supercap(p, v0, self.v_max)
        return self.assemble(ctx, cell)


class RCTable(Table):
    resistance: Quantity("resistance", positive=True)
    capacitance: Quantity("capacitance", positive=True)


class HysteresisTable(Table):
    """One-state hysteresis: ``voltage`` M (half the charge/discharge OCV gap) and ``rate`` γ
    (dimensionless; h settles within about 1/γ of SOC travel)."""

    voltage: Quantity("voltage", positive=True)
    rate: Annotated[float, Field(gt=0.0, le=1e4)]


class BatteryStorage(CellStorage):
    capacity: Quantity("charge", positive=True)
    chemistry: Optional[str] = None
    ocv: Optional[list[tuple[Annotated[float, Field(ge=0.0, le=1.0)], Quantity("voltage", non_negative=True)]]] = None
    r0: Quantity("resistance", non_negative=True) = 0.0
    rc: list[RCTable] = Field(default_factory=list, max_length=8)
    self_discharge: Quantity("rate", non_negative=True) = 0.0
    hysteresis: Optional[HysteresisTable] = None
    fade_per_cycle: Quantity("dimensionless", non_negative=True, maximum=0.5) = 0.0
    initial_cycles: Annotated[float, Field(ge=0.0, le=1e7)] = 0.0

    @field_validator("ocv")
    @classmethod
    def _ocv(cls, table):
        if table is None:
            return table
        if len(table) < 2:
            raise ValueError("needs at least two [soc, volts] points")
        socs = [p[0] for p in table]
        if any(b <= a for a, b in zip(socs, socs[1:])):
            raise ValueError("soc values must increase strictly")
        if any(b[1] < a[1] for a, b in zip(table, table[1:])):
            raise ValueError("voltages must not decrease as soc rises")
        return table

    @field_validator("chemistry")
    @classmethod
    def _chemistry(cls, name):
        if name is not None and name not in library.ocv_tables():
            close = difflib.get_close_matches(name, list(library.ocv_tables()), n=2)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise ValueError(f"unknown chemistry {name!r}{hint} (known: {', '.join(sorted(library.ocv_tables()))})")
        return name

    @model_validator(mode="after")
    def _checks(self):
        if self.ocv is None and self.chemistry is None:
            raise ValueError("give ocv = [[soc, volts], ...] or a chemistry")
        if self.self_discharge * 365.25 * 86400.0 >= 1.0:
            raise ValueError("self_discharge must be below 100 %/yr")
        return self

    def ocv_table(self) -> tuple[tuple[float, float], ...]:
        if self.ocv is not None:
            return tuple((float(s), float(v)) for s, v in self.ocv)
        return library.ocv_tables()[self.chemistry].points

    def parameters(self) -> BatteryParameters:
        h = self.hysteresis
        params = BatteryParameters(
            self.capacity, self.ocv_table(), self.r0, tuple(RCPair(r.resistance, r.capacitance) for r in self.rc),
            self.self_discharge * 365.25 * 86400.0, h.voltage if h else 0.0, h.rate if h else 0.0,
            self.fade_per_cycle, self.initial_cycles, self.activation_energy, self.leakage_activation_energy,
            self.reference_temperature)
        a = self.area_factor
        return params.scaled(capacity=a, capacitance=a, resistance=1.0 / a) if a != 1.0 else params

    def initial_soc_of(self, params: BatteryParameters) -> float:
        if self.initial_soc is not None:
            return self.initial_soc
        probe = Battery(params, 0.5)
        if self.initial_voltage is not None:
            return probe.soc_at_voltage(self.initial_cell_voltage(0.0))
        return probe.soc_at_voltage(self.v_max) if self.v_max is not None else 1.0

    def build(self, ctx) -> StorageModel:
        params = self.parameters()
        soc = self.initial_soc_of(params)

        def cell(f):
            p = params.scaled(capacity=f["capacity"], capacitance=f["capacitance"], resistance=f["resistance"],
                              leakage=f["leakage"])
            return Battery(p, soc)
        return self.assemble(ctx, cell)


register_storage_model("supercap", SupercapStorage)
register_storage_model("battery", BatteryStorage)
library.register_presets()
