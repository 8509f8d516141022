"""The sweep file: a TOML description of a grid or Monte-Carlo study over one scenario.

    name = "Beacon: store × duty cycle × light"
    scenario = "beacon.toml"                 # relative to the sweep file
    outputs = ["min_voltage_V", "uptime_fraction"]   # CSV columns (every summary number is stored)
    eno = false                              # true: also eno_ratio, deficit_days, autonomy_days per point

    [fixed]                                  # applied to every point
    "simulation.duration" = "2 d"

    [[axis]]                                 # grid axis: explicit values ...
    key = "storage.capacitance"
    values = ["10 mF", "22 mF", "47 mF"]

    [[axis]]                                 # ... or a range ...
    key = "load[0].period"
    from = "10 s"
    to = "10 min"
    steps = 5
    scale = "log"                            # "linear" | "log"

    [[axis]]                                 # ... or named cases, each setting several keys
    name = "light"
    cases = { office = { "harvester[0].current" = "40 uA" }, dim = { "harvester[0].current" = "10 uA" } }

    [monte_carlo]                            # random axes, drawn `samples` times per grid cell
    samples = 20
    seed = 1
    vary = [{ key = "storage.esr", distribution = "uniform", low = "1 ohm", high = "5 ohm" }]

    [[plot]]
    x = "storage.capacitance"
    y = "load[0].period"
    z = "uptime_fraction"
    kind = "heatmap"                         # "heatmap" | "contour" | "line" | "scatter"
    reduce = "mean"                          # over the other axes: "mean" | "min" | "max" | "median"

Values are data only: nothing in a sweep file is ever evaluated as code. Mistakes raise
:class:`sysim.errors.ScenarioError` naming the sweep file, the key path and the reason.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import Field, model_validator

from sysim.errors import ScenarioError
from sysim.scenario.fields import Count, Quantity, Table
from sysim.scenario.loader import MAX_FILE_BYTES, _suggest, parse_toml, validate
from sysim.scenario.schema import FilePath

Scalar = Any  # a TOML value for a scenario key: number, string with a unit, boolean, array or table

EXTRA_OUTPUTS = ("eno_ratio", "energy_neutral", "deficit_days", "worst_day_net_J", "autonomy_days")


class AxisTable(Table):
    key: Optional[str] = Field(default=None, min_length=1)
    name: Optional[str] = Field(default=None, min_length=1, max_length=80)
    values: Optional[list[Scalar]] = Field(default=None, min_length=1, max_length=100_000)
    start: Optional[Scalar] = Field(default=None, alias="from")
    stop: Optional[Scalar] = Field(default=None, alias="to")
    steps: Optional[Count(2, 100_000)] = None
    scale: Literal["linear", "log"] = "linear"
    cases: Optional[dict[str, dict[str, Scalar]]] = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k, on in (("values", self.values is not None),
                                 ("from/to/steps", self.start is not None or self.stop is not None or self.steps is not None),
                                 ("cases", self.cases is not None)) if on]
        if len(kinds) != 1:
            raise ValueError("give exactly one of values, from/to/steps, or cases"
                             + (f" (got {' and '.join(kinds)})" if kinds else ""))
        if kinds[0] == "from/to/steps" and (self.start is None or self.stop is None or self.steps is None):
            raise ValueError("a range axis needs from, to and steps")
        if self.cases is not None:
            if self.key is not None:
                raise ValueError("an axis of cases names the keys inside each case; give name, not key")
            if self.name is None:
                raise ValueError("an axis of cases needs a name")
        elif self.key is None:
            raise ValueError("missing key (the dotted scenario key this axis varies)")
        return self

    @property
    def label(self) -> str:
        return self.name or self.key


class RandomAxisTable(Table):
    key: str = Field(min_length=1)
    name: Optional[str] = Field(default=None, min_length=1, max_length=80)
    distribution: Literal["uniform", "loguniform", "normal", "choice"]
    low: Optional[Scalar] = None
    high: Optional[Scalar] = None
    mean: Optional[Scalar] = None
    std: Optional[Scalar] = None
    values: Optional[list[Scalar]] = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _parameters(self):
        need = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "normal": ("mean", "std"),
                "choice": ("values",)}[self.distribution]
        allowed = set(need) | ({"low", "high"} if self.distribution == "normal" else set())
        for name in ("low", "high", "mean", "std", "values"):
            given = getattr(self, name) is not None
            if name in need and not given:
                raise ValueError(f"distribution {self.distribution!r} needs {' and '.join(need)}")
            if given and name not in allowed:
                raise ValueError(f"{name} does not apply to distribution {self.distribution!r} (it takes "
                                 f"{', '.join(sorted(allowed))})")
        return self

    @property
    def label(self) -> str:
        return self.name or self.key


class MonteCarloTable(Table):
    samples: Count(1, 1_000_000)
    seed: Count(0, 2 ** 32 - 1) = 0
    vary: list[RandomAxisTable] = Field(min_length=1)


class PlotTable(Table):
    z: str = Field(min_length=1)
    x: str = Field(min_length=1)
    y: Optional[str] = None
    kind: Optional[Literal["heatmap", "contour", "line", "scatter"]] = None
    reduce: Literal["mean", "min", "max", "median"] = "mean"
    file: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+\.png$")

    @model_validator(mode="after")
    def _kind(self):
        if self.kind is None:
            self.kind = "heatmap" if self.y else "line"
        if self.kind in ("heatmap", "contour", "scatter") and not self.y:
            raise ValueError(f"a {self.kind} plot needs y")
        if self.kind == "line" and self.y:
            raise ValueError("a line plot has no y (it draws z against x, one line per value of the other axes "
                             "after reduction); use heatmap, contour or scatter")
        return self

    @property
    def filename(self) -> str:
        return self.file or "-".join(_safe(p) for p in (self.z, self.x, self.y) if p) + ".png"


class SweepFile(Table):
    name: Optional[str] = None
    description: str = ""
    scenario: FilePath
    fixed: dict[str, Scalar] = Field(default_factory=dict)
    axis: list[AxisTable] = Field(default_factory=list, max_length=32)
    monte_carlo: Optional[MonteCarloTable] = None
    outputs: Optional[list[str]] = None
    eno: bool = False
    autonomy_limit: Quantity("time", positive=True) = 365.0 * 86400.0
    plot: list[PlotTable] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _consistent(self):
        if not self.axis and self.monte_carlo is None:
            raise ValueError("nothing to sweep: give at least one [[axis]] or a [monte_carlo] table")
        return self


def _safe(text: str) -> str:
    text = text.replace("[", "").replace("]", "")
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text).strip("_")


def flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """Nested tables to dotted keys, down to the leaves: ``{"load[0]": {"period": "1 s"}}`` ->
    ``{"load[0].period": "1 s"}`` (TOML writes ``simulation.duration = ...`` as a nested table)."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, dotted))
        else:
            out[dotted] = value
    return out


def read_sweep_file(path: str | os.PathLike) -> tuple[SweepFile, str]:
    """Parse and validate the sweep file; returns the table and the path as given (for errors)."""
    source = os.fspath(path)
    file = Path(source)
    if not file.is_file():
        raise ScenarioError(source, None, "file not found" if not file.exists() else "not a file")
    raw = file.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(source, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, None, f"not UTF-8 text (byte {exc.start})") from None
    data = parse_toml(text, source)
    known = set(SweepFile.model_fields)
    for key in data:
        if key not in known:
            raise ScenarioError(source, key, f"unknown key{_suggest(key, known)}")
    context = {"base_dir": str(file.resolve().parent), "source": source}
    try:
        table = validate(SweepFile, data, source, "", context)
    except ScenarioError as exc:  # key paths start at the top of the file: no leading dot
        raise ScenarioError(source, (exc.key or "").lstrip(".") or None,
                            exc.reason.replace(" in [])", ")")) from None
    if table.name is None:
        table.name = file.stem
    _check_names(table, source)
    return table, source


def _check_names(table: SweepFile, source: str) -> None:
    seen: dict[str, str] = {}
    named = [(f"axis[{i}]", a.label) for i, a in enumerate(table.axis)]
    if table.monte_carlo is not None:
        named += [(f"monte_carlo.vary[{i}]", a.label) for i, a in enumerate(table.monte_carlo.vary)]
    for where, label in named:
        if label in seen:
            raise ScenarioError(source, f"{where}.name", f"{label!r} is already the name of {seen[label]}; "
                                "give this axis a different name")
        seen[label] = where
    random_names = {label for where, label in named if where.startswith("monte")}
    for i, plot in enumerate(table.plot):
        for axis_key in ("x", "y"):
            label = getattr(plot, axis_key)
            if label is not None and label not in seen:
                raise ScenarioError(source, f"plot[{i}].{axis_key}",
                                    f"no axis named {label!r}; axes: {', '.join(repr(s) for s in seen)}")
            if label in random_names and plot.kind in ("heatmap", "contour"):
                raise ScenarioError(source, f"plot[{i}].kind", f"{label!r} is a random axis, which has no grid; "
                                    "use kind = \"scatter\"")
        if plot.x == plot.y:
            raise ScenarioError(source, f"plot[{i}].y", "x and y must be different axes")
    if not math.isfinite(table.autonomy_limit):
        raise ScenarioError(source, "autonomy_limit", "must be finite")
