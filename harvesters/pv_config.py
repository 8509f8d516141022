"""Scenario table for ``[[harvester]] type = "pv"`` and its ``light`` (DESIGN.md contract).

```toml
[[harvester]]
type = "pv"
preset = "indoor-asi"
area = "10 cm^2"
light = { lux = 500, source = "led", hours = "08:00-18:00", days = "mon-fri" }
# light = { trace = "light.csv", source = "led", repeat_every = "7 d" }
# light = { weather = "site.epw", tilt = "30 deg", azimuth = "180 deg" }
# light = { irradiance = "100 W/m^2" }
```
"""
from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import Field, field_validator, model_validator

from sysim.scenario.fields import Count, Quantity, Table
from sysim.scenario.registry import register_harvester
from sysim.scenario.schema import FilePath

from . import light as light_mod
from .config import HarvesterCommon
from .pv import PVHarvester
from .pv_cell import PVCellParameters, PVModule
from .weather import weather_light

ELECTRON_VOLT = 1.602176634e-19
SOURCES = Literal["led", "fluorescent", "daylight", "sun"]


class LightTable(Table):
    """Exactly one of ``lux``, ``irradiance``, ``trace``, ``weather``."""

    lux: Optional[Quantity("illuminance", non_negative=True)] = None
    irradiance: Optional[Quantity("irradiance", non_negative=True)] = None
    trace: Optional[FilePath] = None
    weather: Optional[FilePath] = None
    source: Optional[SOURCES] = None
    #: lm/W; overrides the source's luminous efficacy for lux values
    luminous_efficacy: Optional[float] = Field(default=None, gt=0.0, le=683.0)
    hours: Optional[str] = None
    days: Optional[str] = None
    off_lux: Optional[Quantity("illuminance", non_negative=True)] = None
    off_irradiance: Optional[Quantity("irradiance", non_negative=True)] = None
    repeat_every: Optional[Quantity("time", positive=True)] = None
    tilt: Quantity("dimensionless") = 0.0
    azimuth: Quantity("dimensionless") = math.pi
    albedo: float = Field(default=0.2, ge=0.0, le=1.0)

    @field_validator("tilt")
    @classmethod
    def _tilt(cls, v):
        if not 0.0 <= v <= math.pi:
            raise ValueError(f"must lie between 0 and 180 degrees (write '30 deg'; bare numbers are radians), got {v:g} rad")
        return v

    @field_validator("azimuth")
    @classmethod
    def _azimuth(cls, v):
        if not 0.0 <= v <= 2 * math.pi:
            raise ValueError(f"must lie between 0 and 360 degrees (write '180 deg'; bare numbers are radians), got {v:g} rad")
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        if v is not None:
            light_mod.parse_hours(v)
        return v

    @field_validator("days")
    @classmethod
    def _days(cls, v):
        if v is not None:
            light_mod.parse_days(v)
        return v

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("lux", "irradiance", "trace", "weather") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of lux, irradiance, trace or weather"
                             + (f" (got {', '.join(given)})" if given else ""))
        kind = given[0]
        if (self.hours or self.days or self.off_lux is not None or self.off_irradiance is not None) and kind not in ("lux", "irradiance"):
            raise ValueError("hours, days and off_lux/off_irradiance go with a constant lux or irradiance")
        if self.off_lux is not None and kind != "lux" or self.off_irradiance is not None and kind != "irradiance":
            raise ValueError("use off_lux with lux and off_irradiance with irradiance")
        if self.repeat_every is not None and kind != "trace":
            raise ValueError("repeat_every goes with a trace")
        if kind == "weather" and self.source not in (None, "sun"):
            raise ValueError("weather files give sunlight: leave source out")
        return self

    def series(self, ctx, temperature_K: float) -> light_mod.LightSeries:
        duration, start = ctx.duration, ctx.start
        if self.weather is not None:
            return weather_light(self.weather, start, duration, self.tilt, self.azimuth, self.albedo)
        source = self.source or ("sun" if self.irradiance is not None else "led")
        if self.trace is not None:
            return light_mod.from_csv(self.trace, source, temperature_K, duration, self.repeat_every, self.luminous_efficacy)
        if self.lux is not None:
            on = float(light_mod.lux_to_irradiance(self.lux, source, self.luminous_efficacy))
            off = float(light_mod.lux_to_irradiance(self.off_lux or 0.0, source, self.luminous_efficacy))
        else:
            on, off = self.irradiance, self.off_irradiance or 0.0
        if self.hours is None and self.days is None:
            return light_mod.constant(on, temperature_K, source)
        hours = light_mod.parse_hours(self.hours) if self.hours else (0.0, light_mod.DAY_S)
        days = light_mod.parse_days(self.days) if self.days else frozenset(range(7))
        return light_mod.schedule(on, off, hours, days, start, duration, temperature_K, source)


class PVTable(HarvesterCommon):
    preset: Optional[str] = None
    area: Quantity("area", positive=True)
    light: LightTable
    cells_in_series: Count(1, 1000)
    photocurrent_density: Quantity("current_per_area", positive=True)
    saturation_current_density: Quantity("current_per_area", positive=True)
    ideality: float = Field(gt=0.0, le=10.0)
    series_resistance_area: Quantity("resistance_area", non_negative=True) = 0.0
    shunt_resistance_area: Quantity("resistance_area", positive=True, allow_inf=True) = math.inf
    bandgap: Quantity("energy", positive=True) = 1.121 * ELECTRON_VOLT
    isc_temp_coeff_per_K: float = Field(default=0.0005, ge=-0.01, le=0.01)
    ideality_temp_coeff_per_K: float = Field(default=0.0, ge=-0.01, le=0.01)
    spectral_factors: dict[str, float] = Field(default_factory=dict)
    #: responsivity under the light source relative to AM1.5G; overrides spectral_factors
    spectral_factor: Optional[float] = Field(default=None, gt=0.0, le=10.0)
    #: cell temperature for lux, irradiance and trace light (default: the ambient, else 25 °C)
    temperature: Optional[Quantity("temperature", positive=True)] = None
    #: forward drop of the series diode when wired straight to the storage
    diode_drop: Quantity("voltage", non_negative=True) = 0.2

    @field_validator("spectral_factors")
    @classmethod
    def _factors(cls, v):
        for key, value in v.items():
            if key not in light_mod.LUMINOUS_EFFICACY:
                raise ValueError(f"unknown light source {key!r}; known: {', '.join(light_mod.LUMINOUS_EFFICACY)}")
            if not 0.0 < value <= 10.0:
                raise ValueError(f"spectral factor for {key} must lie in (0, 10], got {value:g}")
        return v

    def cell(self) -> PVCellParameters:
        return PVCellParameters(self.cells_in_series, self.photocurrent_density, self.saturation_current_density,
                                self.ideality, self.series_resistance_area, self.shunt_resistance_area,
                                self.bandgap / ELECTRON_VOLT, self.ideality_temp_coeff_per_K, self.isc_temp_coeff_per_K,
                                dict(self.spectral_factors))

    def build(self, ctx, name: str):
        from sysim.errors import ScenarioError

        ambient = getattr(ctx.scenario.simulation, "ambient_temperature", None)
        temperature = self.temperature or ambient or 298.15
        series = self.light.series(ctx, temperature)
        factor = self.spectral_factor
        if factor is None and series.source not in self.spectral_factors:
            raise ScenarioError(ctx.scenario.source, f"{name}.spectral_factors",
                                f"no spectral factor for light source {series.source!r}; give spectral_factor")
        return PVHarvester(name, PVModule(self.cell(), self.area), series, self.diode_drop, factor, ctx.duration)


register_harvester("pv", PVTable)
