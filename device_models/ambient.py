"""Ambient temperature from a trace file: the ``[ambient]`` scenario table.

A constant ambient is ``[simulation] ambient_temperature = "0 degC"``. A varying one is::

    [ambient]
    temperature_trace = "ambient.csv"

a CSV file with a header naming the units, ``time_s`` (or ``time_min``, ``time_h``, ``time_d``) and
``temperature_C`` (or ``temperature_K``), one row per change, the first at time 0; each value holds
until the next row (the last until the end). Lines starting with ``#`` are comments. The engine
applies each value through ``StorageModel.set_temperature`` (Arrhenius resistances and leakage,
device_models.temperature), exactly at the row times. Mistakes name the file and the line.
"""
from __future__ import annotations

import csv
import math

from pydantic import PrivateAttr, model_validator

from sysim.errors import InputFileError, ScenarioError, not_utf8
from sysim.node import TEMPERATURE_SOURCES
from sysim.scenario.fields import Table
from sysim.scenario.registry import register_scenario_check, register_top_level_table
from sysim.scenario.schema import FilePath

TIME_UNITS = {"time_s": 1.0, "time_min": 60.0, "time_h": 3600.0, "time_d": 86400.0}
TEMPERATURE_UNITS = {"temperature_C": 273.15, "temperature_K": 0.0}
#: plausible ambient range (K): -100 °C … +200 °C
KELVIN_RANGE = (173.15, 473.15)
MAX_ROWS = 5_000_000


def read_temperature_trace(path: str) -> list[tuple[float, float]]:
    """``[(t_s, kelvin), ...]`` from a trace file, strictly increasing in time from 0."""
    steps: list[tuple[float, float]] = []
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read the file ({exc.strerror})") from None
    with fh:
        rows = ((n, row) for n, row in enumerate(csv.reader(fh), start=1)
                if row and not row[0].lstrip().startswith("#") and any(c.strip() for c in row))
        try:
            line, header = next(rows)
        except StopIteration:
            raise InputFileError(path, None, "empty file: expected a header and rows") from None
        except UnicodeDecodeError:
            raise not_utf8(path) from None
        except csv.Error as exc:
            raise InputFileError(path, "line 1", f"not a CSV text file ({exc})") from None
        names = [h.strip() for h in header]
        if len(names) != 2 or names[0] not in TIME_UNITS or names[1] not in TEMPERATURE_UNITS:
            raise InputFileError(path, f"line {line}", f"header must be a time column ({', '.join(TIME_UNITS)}) "
                                 f"and a temperature column ({', '.join(TEMPERATURE_UNITS)}), got {','.join(names)}")
        t_scale, offset = TIME_UNITS[names[0]], TEMPERATURE_UNITS[names[1]]
        try:
            for line, row in rows:
                if len(row) != 2:
                    raise InputFileError(path, f"line {line}", f"expected 2 values, got {len(row)}")
                try:
                    t, temp = float(row[0]) * t_scale, float(row[1]) + offset
                except ValueError:
                    raise InputFileError(path, f"line {line}", f"not a number: {','.join(row)}") from None
                if not (math.isfinite(t) and math.isfinite(temp)):
                    raise InputFileError(path, f"line {line}", "values must be finite")
                if not steps and t != 0.0:
                    raise InputFileError(path, f"line {line}", f"the first row must be at time 0, got {row[0].strip()}")
                if steps and t <= steps[-1][0]:
                    raise InputFileError(path, f"line {line}", "times must increase")
                if not KELVIN_RANGE[0] <= temp <= KELVIN_RANGE[1]:
                    raise InputFileError(path, f"line {line}", f"temperature {temp - 273.15:.6g} °C is outside "
                                         "-100 … 200 °C")
                steps.append((t, temp))
                if len(steps) > MAX_ROWS:
                    raise InputFileError(path, f"line {line}", f"more than {MAX_ROWS} rows")
        except UnicodeDecodeError:
            raise not_utf8(path) from None
        except csv.Error as exc:
            raise InputFileError(path, None, f"not a CSV text file ({exc})") from None
    if not steps:
        raise InputFileError(path, None, "no rows after the header")
    return steps


class AmbientTable(Table):
    temperature_trace: FilePath
    _steps: list = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _read(self):
        self._steps = read_temperature_trace(self.temperature_trace)
        return self

    @property
    def steps(self) -> list[tuple[float, float]]:
        return list(self._steps)


def _one_source(scenario) -> None:
    if "ambient" in scenario.extra and scenario.simulation.ambient_temperature is not None:
        raise ScenarioError(None, "ambient.temperature_trace",
                            "give [simulation] ambient_temperature or [ambient] temperature_trace, not both")


def _temperature(scenario, temperature):
    table = scenario.extra.get("ambient")
    return table.steps if table is not None else temperature


register_top_level_table("ambient", AmbientTable)
register_scenario_check(_one_source)
if _temperature not in TEMPERATURE_SOURCES:
    TEMPERATURE_SOURCES.append(_temperature)
