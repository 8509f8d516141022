"""Scenario table ``type = "trace"``: a measured current trace from a power-profiler CSV.

    [[load]]
    type = "trace"
    file = "ppk2-capture.csv"      # Timestamp(ms),Current(uA),... (units from the header)
    repeat = true                  # loop the capture (default); false: play it once
    period = "10 s"                # optional: one capture every period (idle_current in the gap)
    idle_current = "1.5 uA"        # after a one-time capture, and in the gap of a longer period
    resample = "100 us"            # optional charge-preserving averaging into bins
"""
from __future__ import annotations

from typing import Optional, Union

from pydantic import Field, PrivateAttr, field_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Quantity
from sysim.scenario.registry import register_load
from sysim.scenario.schema import FilePath
from sysim.units import UnitError, parse_quantity

from .config import LoadCommon, load_key
from .states import LoadEvent, RailState, Timeline
from .trace import read_current_trace

#: most states simulated per capture (a PPK2 records 100 000 samples a second)
MAX_TRACE_STATES = 200_000


class TraceLoadTable(LoadCommon):
    file: FilePath
    time_column: Optional[Union[int, str]] = None
    current_column: Optional[Union[int, str]] = None
    time_unit: Optional[str] = None
    current_unit: Optional[str] = None
    scale: float = Field(default=1.0, ge=0.0, le=1e6)  # inf or 1e308 overflowed the engine
    clip_negative: bool = False
    resample: Optional[Quantity("time", positive=True)] = None
    repeat: bool = True
    period: Optional[Quantity("time", positive=True)] = None
    idle_current: Quantity("current", non_negative=True) = 0.0
    offset: Quantity("time", non_negative=True) = 0.0
    _event: Optional[LoadEvent] = PrivateAttr(default=None)

    @field_validator("time_unit", "current_unit")
    @classmethod
    def _unit(cls, unit, info):
        if unit is not None:
            dimension = "time" if info.field_name == "time_unit" else "current"
            try:
                parse_quantity(f"1 {unit}", dimension)
            except UnitError:
                raise ValueError(f"{unit!r} is not a {dimension} unit") from None
        return unit

    def _trace(self):
        trace = read_current_trace(self.file, self.time_column, self.current_column, self.time_unit,
                                   self.current_unit, self.clip_negative)
        return trace.resampled(self.resample) if self.resample else trace

    def event(self, ctx) -> LoadEvent:
        if self._event is not None:
            return self._event
        event = self._trace().event(self.scale)
        if len(event.states) > MAX_TRACE_STATES:
            raise ScenarioError(self.file, None, f"{len(event.states):,} distinct samples, more than "
                                f"{MAX_TRACE_STATES:,} simulated per capture; set resample = \"100 us\" "
                                f"(charge-preserving) or similar")
        self._event = LoadEvent(event.states, RailState(0.0, self.idle_current, label="idle"))
        return self._event

    def timeline(self, ctx) -> Timeline:
        event = self.event(ctx)
        if not self.repeat:
            segments = tuple((s.duration_s, (s,)) for s in event.states) + ((float("inf"), (event.floor,)),)
            return Timeline(segments, None, self.offset, once=True)
        period = self.period if self.period is not None else event.duration_s
        return Timeline.periodic(event, period, self.offset)

    def build(self, ctx, name: str):
        if self.period is not None:
            if not self.repeat:
                raise ScenarioError(ctx.scenario.source, load_key(ctx, name, "period"), "period needs repeat = true")
            span = self.event(ctx).duration_s
            if self.period < span * (1 - 1e-12):
                raise ScenarioError(ctx.scenario.source, load_key(ctx, name, "period"),
                                    f"{self.period:g} s is shorter than the capture ({span:g} s)")
        return super().build(ctx, name)


register_load("trace", TraceLoadTable)
