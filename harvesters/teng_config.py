"""Scenario table for ``[[harvester]] type = "teng"`` (contact-separation TENG through a bridge).

```toml
[[harvester]]
type = "teng"
preset = "teng-cs-4cm2"          # or charge_density, area, gap, dielectric_thickness/_permittivity
frequency = "2 Hz"               # or motion = "footsteps.csv" (time_<unit> column, one row per step)
```
"""
from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from sysim.errors import InputFileError
from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_harvester
from sysim.scenario.schema import FilePath

from . import csvdata
from .config import HarvesterCommon
from .teng import TengHarvester, TengParameters


class DielectricTable(Table):
    thickness: Quantity("length", positive=True)
    permittivity: float = Field(ge=1.0, le=10_000.0)


class TengTable(HarvesterCommon):
    preset: Optional[str] = None
    charge_density: Quantity("charge_per_area", positive=True)
    area: Quantity("area", positive=True)
    gap: Quantity("length", positive=True)
    dielectric_thickness: Optional[Quantity("length", positive=True)] = None
    dielectric_permittivity: Optional[float] = Field(default=None, ge=1.0, le=10_000.0)
    #: several dielectric layers between the electrodes (instead of the two keys above)
    dielectrics: list[DielectricTable] = Field(default_factory=list, max_length=10)
    frequency: Optional[Quantity("frequency", positive=True)] = None
    motion: Optional[FilePath] = None
    contact_time: Quantity("time", positive=True) = 0.2
    pulse_width: Quantity("time", positive=True) = 1e-3
    diode_drop: Quantity("voltage", non_negative=True) = 0.0

    @model_validator(mode="after")
    def _check(self):
        single = self.dielectric_thickness is not None or self.dielectric_permittivity is not None
        if single and self.dielectrics:
            raise ValueError("give dielectric_thickness/dielectric_permittivity or dielectrics, not both")
        if single and (self.dielectric_thickness is None or self.dielectric_permittivity is None):
            raise ValueError("give both dielectric_thickness and dielectric_permittivity")
        if not single and not self.dielectrics:
            raise ValueError("give dielectric_thickness and dielectric_permittivity (or dielectrics)")
        if (self.frequency is None) == (self.motion is None):
            raise ValueError("give frequency or motion (a CSV of motion events), one of them")
        if self.frequency is not None and 2.0 * self.pulse_width >= 1.0 / self.frequency:
            raise ValueError(f"pulse_width {self.pulse_width:g} s does not fit twice into one period")
        if self.contact_time <= self.pulse_width:
            raise ValueError("contact_time must be longer than pulse_width")
        return self

    def parameters(self) -> TengParameters:
        layers = ((self.dielectric_thickness, self.dielectric_permittivity),) if self.dielectric_thickness else \
            tuple((d.thickness, d.permittivity) for d in self.dielectrics)
        return TengParameters(self.charge_density, self.area, self.gap, layers, self.diode_drop, self.pulse_width)

    def build(self, ctx, name: str):
        events = None
        if self.motion is not None:
            table = csvdata.read_table(self.motion)
            t = csvdata.times(table)
            gaps = t[1:] - t[:-1]
            bad = [k for k, g in enumerate(gaps) if g <= self.contact_time + self.pulse_width]
            if bad:
                line = table.lines[bad[0] + 1]
                raise InputFileError(self.motion, f"line {line}",
                                     f"motion events {gaps[bad[0]]:g} s apart overlap: each needs contact_time + "
                                     f"pulse_width = {self.contact_time + self.pulse_width:g} s")
            events = [float(x) for x in t if x < ctx.duration]
        return TengHarvester(name, self.parameters(), self.frequency, events, self.contact_time)


register_harvester("teng", TengTable)
