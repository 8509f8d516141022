"""The scenario file's own tables: ``[simulation]`` and the keys every ``[storage]`` table shares.

Component tables (storage models, harvesters, PMICs, loads, firmware) live in their packages and
register in :mod:`sysim.scenario.registry`. Contract: DESIGN.md "Scenario file".
"""
from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BeforeValidator, Field, ValidationInfo, model_validator

from .fields import Count, Quantity, Table


def _file_path(value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a file name")
    base = (info.context or {}).get("base_dir", ".")
    path = Path(value).expanduser()
    if not path.is_absolute():
        path = Path(base) / path
    if not path.exists():
        raise ValueError(f"file not found: {path}")
    if not path.is_file():
        raise ValueError(f"not a file: {path}")
    if not os.access(path, os.R_OK):
        raise ValueError(f"file is not readable: {path}")
    return str(path)


#: a file name resolved against the scenario's folder; must exist and be readable
FilePath = Annotated[str, BeforeValidator(_file_path)]


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date and time like 2026-01-01T00:00:00, got {value!r}")


DateTime = Annotated[dt.datetime, BeforeValidator(_datetime)]


class SimulationTable(Table):
    duration: Quantity("time", positive=True)
    record_every: Optional[Quantity("time", positive=True)] = None
    start: Optional[DateTime] = None
    #: "auto" picks fast-forward where it applies; "event" forces event-by-event stepping
    method: Literal["auto", "event", "fast-forward"] = "auto"
    seed: Count(0, 2 ** 31) = 0
    #: largest relative change of the storage's internal voltage over one stretch in which
    #: constant-power draws (a PMIC's output, loads behind a regulator) are held at one current
    #: (sysim/engine/freeze.py); smaller is slower and closer to the exact constant-power solution.
    #: None: the engine's default, 3 % (POWER_TOLERANCE_REL)
    power_tolerance: Optional[Quantity("dimensionless", positive=True, maximum=0.5)] = None
    ambient_temperature: Optional[Quantity("temperature", positive=True)] = None

    @model_validator(mode="after")
    def _sampling(self):
        if self.record_every is None:
            self.record_every = self.duration / 1000.0
        if self.duration / self.record_every > 50_000_000:
            raise ValueError("record_every is so short that the trace would exceed 50 million rows")
        if self.record_every > self.duration:
            raise ValueError("record_every is longer than the duration")
        return self


class StorageCommon(Table):
    """Keys every storage table accepts, whatever its model."""

    preset: Optional[str] = None
    model: Optional[str] = None
    area: Optional[Quantity("area", positive=True)] = None
    series: Count(1, 1000) = 1
    parallel: Count(1, 1000) = 1
    initial_voltage: Optional[Quantity("voltage", non_negative=True)] = None
    initial_soc: Optional[Annotated[float, Field(ge=0.0, le=1.0)]] = None
    v_min: Optional[Quantity("voltage", non_negative=True)] = None
    v_max: Optional[Quantity("voltage", positive=True)] = None
    v_min_hysteresis: Quantity("voltage", non_negative=True) = 0.05
    v_max_hysteresis: Quantity("voltage", non_negative=True) = 0.05
    restart_delay: Quantity("time", positive=True) = 1e-3

    @model_validator(mode="after")
    def _limits(self):
        if self.v_min is not None and self.v_max is not None and self.v_min >= self.v_max:
            raise ValueError(f"v_min ({self.v_min:g} V) must be below v_max ({self.v_max:g} V)")
        if self.initial_voltage is not None and self.initial_soc is not None:
            raise ValueError("give initial_voltage or initial_soc, not both")
        cell_v = self.initial_voltage / self.series if self.initial_voltage is not None else None
        if cell_v is not None and self.v_max is not None and cell_v > self.v_max * (1 + 1e-9):
            raise ValueError(f"initial_voltage ({self.initial_voltage:g} V) is above v_max × series "
                             f"({self.v_max * self.series:g} V)")
        return self

    def initial_cell_voltage(self, default: float) -> float:
        """Initial voltage of one cell (V): ``initial_voltage / series``, or ``default``."""
        return self.initial_voltage / self.series if self.initial_voltage is not None else default

    def build(self, ctx):  # pragma: no cover - every model overrides it
        raise NotImplementedError


def finite(value: float) -> bool:
    return math.isfinite(value)
