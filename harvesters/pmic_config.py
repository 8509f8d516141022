"""Scenario table for ``[pmic]`` (``model = "mppt-boost"``, presets ``bq25570``, ``aem10941``,
``adp5091``).

```toml
[pmic]
preset = "bq25570"
v_ov = "3.2 V"          # any key overrides the preset
v_pg_on = "2.6 V"
v_pg_off = "2.3 V"
buck_voltage = "1.8 V"  # loads with rail = "pmic" draw through it, gated by power good
```

Every ``[[harvester]]`` feeds the PMIC's input except TENGs, which always charge the storage
through their own bridge rectifier (a PMIC's boost input cannot take their kV pulses); the ideal
``current`` harvester has no voltage and cannot feed a PMIC (use ``trace`` with ``voltage``).
"""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_pmic

from .pmic import Pmic, PmicParameters
from .pmic_rail import PmicRail
from .pmic_tables import BoostEfficiency, BuckEfficiency
from .teng import TengHarvester


class BoostEfficiencyTable(Table):
    input_voltage: list[Quantity("voltage", positive=True)] = Field(min_length=1, max_length=100)
    input_current: Optional[list[Quantity("current", positive=True)]] = Field(default=None, min_length=1, max_length=100)
    input_power: Optional[list[Quantity("power", positive=True)]] = Field(default=None, min_length=1, max_length=100)
    efficiency: list[list[float]]

    @model_validator(mode="after")
    def _shape(self):
        if (self.input_current is None) == (self.input_power is None):
            raise ValueError("give input_current or input_power as the second axis, one of them")
        self.table()  # shape and range checks
        return self

    def table(self) -> BoostEfficiency:
        levels, axis = (self.input_current, "current") if self.input_current is not None else (self.input_power, "power")
        return BoostEfficiency(tuple(self.input_voltage), tuple(levels), tuple(tuple(r) for r in self.efficiency), axis)


class BuckEfficiencyTable(Table):
    output_current: list[Quantity("current", positive=True)] = Field(min_length=1, max_length=100)
    efficiency: list[float]

    @model_validator(mode="after")
    def _shape(self):
        self.table()
        return self

    def table(self) -> BuckEfficiency:
        return BuckEfficiency(tuple(self.output_current), tuple(self.efficiency))


class PmicTable(Table):
    model: Literal["mppt-boost"]
    preset: Optional[str] = None
    name: str = Field(default="pmic", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    cold_start_voltage: Quantity("voltage", non_negative=True)
    cold_start_power: Quantity("power", non_negative=True)
    cold_start_efficiency: float = Field(ge=0.0, le=1.0)
    v_chgen: Quantity("voltage", positive=True)
    v_chgen_hysteresis: Quantity("voltage", non_negative=True) = 0.05
    input_voltage_min: Quantity("voltage", non_negative=True) = 0.0
    input_power_min: Quantity("power", non_negative=True) = 0.0
    mppt_ratio: float = Field(gt=0.0, le=1.0)
    mppt_period: Quantity("time", positive=True)
    mppt_sample_time: Quantity("time", non_negative=True) = 0.0
    quiescent_current: Quantity("current", non_negative=True) = 0.0
    efficiency_includes_quiescent: bool = False
    boost_efficiency: Union[BoostEfficiencyTable, float]
    v_ov: Quantity("voltage", positive=True)
    v_ov_hysteresis: Quantity("voltage", positive=True) = 0.02
    #: at v_ov: "hold" the store level (the charger's fast on/off, averaged) or "stop" charging
    over_voltage: Literal["hold", "stop"] = "hold"
    v_pg_on: Optional[Quantity("voltage", positive=True)] = None
    v_pg_off: Optional[Quantity("voltage", positive=True)] = None
    buck_voltage: Optional[Quantity("voltage", positive=True)] = None
    buck_efficiency: Union[BuckEfficiencyTable, float, None] = None

    @model_validator(mode="after")
    def _check(self):
        if isinstance(self.boost_efficiency, float) and not 0.0 < self.boost_efficiency <= 1.0:
            raise ValueError("boost_efficiency must lie in (0, 1] or be a table")
        if isinstance(self.buck_efficiency, float) and not 0.0 < self.buck_efficiency <= 1.0:
            raise ValueError("buck_efficiency must lie in (0, 1] or be a table")
        if self.mppt_sample_time >= self.mppt_period:
            raise ValueError("mppt_sample_time must be shorter than mppt_period")
        if self.v_chgen >= self.v_ov:
            raise ValueError(f"v_chgen ({self.v_chgen:g} V) must be below v_ov ({self.v_ov:g} V)")
        if self.v_chgen_hysteresis >= self.v_chgen:
            raise ValueError("v_chgen_hysteresis must be below v_chgen")
        if self.v_ov_hysteresis >= self.v_ov - self.v_chgen:
            raise ValueError("v_ov_hysteresis must be smaller than v_ov - v_chgen")
        if (self.v_pg_on is None) != (self.v_pg_off is None):
            raise ValueError("give both v_pg_on and v_pg_off (power good with hysteresis), or neither")
        if self.v_pg_on is not None and not self.v_pg_off < self.v_pg_on:
            raise ValueError(f"v_pg_off ({self.v_pg_off:g} V) must be below v_pg_on ({self.v_pg_on:g} V)")
        if self.buck_voltage is not None:
            if self.buck_efficiency is None:
                raise ValueError("a buck output needs buck_efficiency (a number or a table)")
            if self.v_pg_off is not None and self.buck_voltage >= self.v_pg_off:
                raise ValueError(f"buck_voltage ({self.buck_voltage:g} V) must be below v_pg_off "
                                 f"({self.v_pg_off:g} V): a buck cannot regulate above its input")
        return self

    def parameters(self) -> PmicParameters:
        boost = self.boost_efficiency.table() if isinstance(self.boost_efficiency, BoostEfficiencyTable) \
            else BoostEfficiency.constant(self.boost_efficiency)
        buck = None
        if self.buck_voltage is not None:
            buck = self.buck_efficiency.table() if isinstance(self.buck_efficiency, BuckEfficiencyTable) \
                else BuckEfficiency.constant(self.buck_efficiency)
        return PmicParameters(
            boost=boost, cold_start_voltage=self.cold_start_voltage, cold_start_power=self.cold_start_power,
            cold_start_efficiency=self.cold_start_efficiency, v_chgen=self.v_chgen,
            v_chgen_hysteresis=self.v_chgen_hysteresis, input_voltage_min=self.input_voltage_min,
            input_power_min=self.input_power_min, mppt_ratio=self.mppt_ratio, mppt_period=self.mppt_period,
            mppt_sample_time=self.mppt_sample_time, quiescent_current=self.quiescent_current,
            efficiency_includes_quiescent=self.efficiency_includes_quiescent, v_ov=self.v_ov,
            v_ov_hysteresis=self.v_ov_hysteresis, over_voltage=self.over_voltage, v_pg_on=self.v_pg_on, v_pg_off=self.v_pg_off,
            buck_voltage=self.buck_voltage, buck=buck)

    def build(self, ctx, harvesters):
        source = ctx.scenario.source
        used = {n for n, _ in ctx.scenario.harvesters} | {n for n, _ in ctx.scenario.loads}
        if self.name in used:
            raise ScenarioError(source, "pmic.name", f"name {self.name!r} is already used by a harvester or load")
        inputs, direct = [], []
        for h in harvesters:
            if isinstance(h, TengHarvester):
                direct.append(h)  # through its own bridge rectifier onto the storage
            elif hasattr(h, "pmic_input"):
                try:
                    inputs.append((h.name, h.pmic_input(self.mppt_ratio)))
                except ValueError as exc:
                    raise ScenarioError(source, f"{h.name}.voltage", str(exc)) from None
            else:
                raise ScenarioError(source, f"{h.name}.type", "this harvester cannot feed a PMIC input (it has no "
                                    "voltage); use type = \"trace\" with a voltage, or remove [pmic]")
        if not inputs:
            raise ScenarioError(source, "pmic", "no harvester feeds the PMIC (TENGs charge the storage directly)")
        pmic = Pmic(self.name, self.parameters(), inputs)
        ctx.rails["pmic"] = PmicRail(pmic)
        return [pmic] + direct


register_pmic("mppt-boost", PmicTable)
