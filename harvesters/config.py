"""Scenario tables of the harvesters package: the keys every [[harvester]] shares and
``type = "current"`` (an ideal current source); the PV, TENG, trace and PMIC tables live in their
own modules, imported at the end so they register too."""
from __future__ import annotations

from typing import Optional

from pydantic import Field, field_validator

from sysim.scenario.fields import Quantity, Table
from sysim.scenario.registry import register_harvester

from .current import CurrentHarvester


class HarvesterCommon(Table):
    """Keys every [[harvester]] table has."""

    type: str
    name: Optional[str] = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class StepTable(Table):
    at: Quantity("time", non_negative=True)
    current: Quantity("current", non_negative=True)


class CurrentHarvesterTable(HarvesterCommon):
    current: Quantity("current", non_negative=True)
    #: optional changes of the current over time: [{at = "8 h", current = "0 A"}, ...]
    steps: list[StepTable] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _sorted(cls, steps):
        times = [s.at for s in steps]
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError("step times must increase")
        return steps

    def build(self, ctx, name: str):
        steps = None
        if self.steps:
            points = {0.0: self.current}
            points.update({s.at: s.current for s in self.steps})
            steps = sorted(points.items())
        return CurrentHarvester(name, self.current, steps)


register_harvester("current", CurrentHarvesterTable)

# The other harvester tables, the PMIC table and the preset library register on import.
from . import pmic_config, presets, pv_config, teng_config, trace_config  # noqa: E402,F401
