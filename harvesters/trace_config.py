"""Scenario table for ``[[harvester]] type = "trace"``: a CSV of power or current against time.

```toml
[[harvester]]
type = "trace"
file = "harvest.csv"            # time_<unit>, power_<unit> or current_<unit>
interpolation = "linear"        # or "hold" (default)
voltage = "0.5 V"               # the source's voltage, needed behind a [pmic]
```
"""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from sysim.scenario.fields import Quantity
from sysim.scenario.registry import register_harvester
from sysim.scenario.schema import FilePath

from .config import HarvesterCommon
from .trace import TraceHarvester, read_trace


class TraceHarvesterTable(HarvesterCommon):
    file: FilePath
    interpolation: Literal["hold", "linear"] = "hold"
    #: largest deviation of the stepped stand-in from the linear interpolation, relative to max|y|
    tolerance: float = Field(default=0.01, gt=0.0, le=0.5)
    voltage: Optional[Quantity("voltage", positive=True)] = None

    def build(self, ctx, name: str):
        t, values, kind = read_trace(self.file)
        return TraceHarvester(name, t, values, kind, self.interpolation, self.tolerance, self.voltage)


register_harvester("trace", TraceHarvesterTable)
