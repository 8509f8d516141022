"""A sweep file expanded into points, each identified by a stable hash of its parameters.

Grid axes combine as a Cartesian product (the last axis varies fastest). With a ``[monte_carlo]``
table every grid cell is repeated ``samples`` times; sample ``i`` draws its random values from
``numpy.random.default_rng([seed, i])`` in axis order, so every grid cell sees the same random
draws (common random numbers: differences between cells are not sampling noise) and adding
samples keeps the earlier ones.

A point's id is the first 16 hex digits of the SHA-256 of its scenario changes (and its sample
number), as canonical JSON. It does not depend on the order of the axes or on the other points, so
extending an axis or adding samples reuses every finished point. What all points share (the
scenario's data, ``[fixed]``, the ENO settings) goes into the sweep's fingerprint instead.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sysim.errors import ScenarioError
from sysim.scenario.loader import Scenario, load
from sysim.sizing.parameter import convert_to_unit, number_and_unit, integer_key

from .spec import AxisTable, RandomAxisTable, SweepFile, flatten

MAX_POINTS = 5_000_000
VALIDATE_SAMPLES = 200


@dataclass(frozen=True)
class Point:
    id: str
    labels: dict[str, Any]     # axis name -> value shown (the value, the case name, the random draw)
    changes: dict[str, Any]    # dotted scenario key -> value
    sample: int | None = None


@dataclass
class Axis:
    label: str
    kind: str                  # "values" | "range" | "cases" | "random"
    key: str | None
    entries: list[tuple[Any, dict]] = field(default_factory=list)   # (label, changes) for grid axes
    scale: str = "linear"


@dataclass
class Study:
    spec: SweepFile
    source: str
    scenario: Scenario         # the base scenario with [fixed] applied
    fixed: dict[str, Any]
    axes: list[Axis]
    points: list[Point]
    fingerprint: str

    @property
    def name(self) -> str:
        return self.spec.name


def point_id(changes: dict, sample: int | None) -> str:
    canonical = json.dumps({"changes": changes, "sample": sample}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def fingerprint(scenario: Scenario, fixed: dict, spec: SweepFile) -> str:
    shared = {"scenario": scenario.data, "fixed": fixed, "eno": spec.eno,
              "autonomy_limit_s": spec.autonomy_limit if spec.eno else None}
    canonical = json.dumps(shared, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def expand(spec: SweepFile, source: str) -> Study:
    """Validate every axis value against the scenario and list the points."""
    base = load(spec.scenario)
    fixed = flatten(spec.fixed)
    scenario = _apply(base, fixed, source, "fixed")
    axes = [_grid_axis(a, i, scenario, source) for i, a in enumerate(spec.axis)]
    _distinct_keys(spec, axes, source)
    count = math.prod(len(a.entries) for a in axes) * (spec.monte_carlo.samples if spec.monte_carlo else 1)
    if count > MAX_POINTS:
        raise ScenarioError(source, "axis", f"{count:,} points is more than {MAX_POINTS:,}; split the study")
    draws = _random_draws(spec, scenario, source)
    points = []
    for combo in itertools.product(*(a.entries for a in axes)):
        labels = {a.label: entry[0] for a, entry in zip(axes, combo)}
        changes: dict[str, Any] = {}
        for _, c in combo:
            changes.update(c)
        if draws is None:
            points.append(Point(point_id(changes, None), labels, changes))
            continue
        for i, (random_labels, random_changes) in enumerate(draws):
            all_changes = {**changes, **random_changes}
            points.append(Point(point_id(all_changes, i), {**labels, **random_labels}, all_changes, i))
    if spec.monte_carlo:
        axes += [Axis(r.label, "random", r.key) for r in spec.monte_carlo.vary]
    ids = [p.id for p in points]
    if len(set(ids)) != len(ids):
        raise ScenarioError(source, "axis", "two points set the same values (an axis repeats a value, or two "
                            "axes set the same key); every point must differ")
    return Study(spec, source, scenario, fixed, axes, points, fingerprint(base, fixed, spec))


def _distinct_keys(spec: SweepFile, axes: list[Axis], source: str) -> None:
    """No scenario key may be set by two axes (the later one would silently win)."""
    owner: dict[str, str] = {}
    sets = [(f"axis[{i}]", {k for _, changes in a.entries for k in changes}) for i, a in enumerate(axes)]
    if spec.monte_carlo:
        sets += [(f"monte_carlo.vary[{i}]", {r.key}) for i, r in enumerate(spec.monte_carlo.vary)]
    for where, keys in sets:
        for key in sorted(keys):
            if key in owner:
                raise ScenarioError(source, where, f"{key} is also set by {owner[key]}; each key belongs to one axis")
            owner[key] = where


def _apply(scenario: Scenario, changes: dict, source: str, where: str) -> Scenario:
    try:
        return scenario.with_changes(changes)
    except ScenarioError as exc:
        key = f"{exc.key}: " if exc.key else ""
        raise ScenarioError(source, where, f"the scenario rejects it: {key}{exc.reason}") from None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ScenarioError(source, where, f"cannot apply it to the scenario ({type(exc).__name__}: {exc})") from None


def _grid_axis(a: AxisTable, i: int, scenario: Scenario, source: str) -> Axis:
    where = f"axis[{i}]"
    if a.cases is not None:
        entries = [(name, flatten(case)) for name, case in a.cases.items()]
        for name, changes in entries:
            _apply(scenario, changes, source, f"{where}.cases.{name}")
        return Axis(a.label, "cases", None, entries)
    if a.values is not None:
        values, kind = list(a.values), "values"
    else:
        values, kind = _range_values(a, scenario, source, where), "range"
    entries = []
    for j, value in enumerate(values):
        _apply(scenario, {a.key: value}, source, f"{where}.values[{j}]" if kind == "values" else where)
        label = value if isinstance(value, (str, int, float, bool)) else json.dumps(value, sort_keys=True)
        entries.append((label, {a.key: value}))
    return Axis(a.label, kind, a.key, entries, a.scale)


def _range_values(a: AxisTable, scenario: Scenario, source: str, where: str) -> list:
    def number(value, name):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ScenarioError(source, f"{where}.{name}", "expected a number or a string with a unit")
        return _quantity(str(value), None, source, f"{where}.{name}")

    low, unit = number(a.start, "from")
    high = _quantity(str(a.stop), unit, source, f"{where}.to")[0]
    if a.scale == "log" and not (low > 0 and high > 0):
        raise ScenarioError(source, f"{where}.scale", "a log scale needs from and to above zero")
    grid = np.geomspace(low, high, a.steps) if a.scale == "log" else np.linspace(low, high, a.steps)
    if integer_key(scenario, a.key):
        if unit:
            raise ScenarioError(source, f"{where}.from", f"{a.key} is a whole number; give from and to without a unit")
        return sorted({int(round(v)) for v in grid})
    return [f"{v:.12g} {unit}" if unit else float(f"{v:.12g}") for v in grid]


def _quantity(text: str, unit: str | None, source: str, where: str) -> tuple[float, str]:
    """``text`` as a number in ``unit`` (None: its own unit, returned)."""
    try:
        if unit is None:
            return number_and_unit(text, where)
        return convert_to_unit(text, unit, where), unit
    except ScenarioError as exc:
        raise ScenarioError(source, where, exc.reason) from None


# --- Monte Carlo ------------------------------------------------------------------------------
@dataclass
class _Random:
    axis: RandomAxisTable
    unit: str
    integer: bool
    numbers: dict[str, float]

    def draw(self, rng: np.random.Generator):
        a, n = self.axis, self.numbers
        if a.distribution == "choice":
            return a.values[int(rng.integers(len(a.values)))]
        if a.distribution == "uniform":
            x = rng.uniform(n["low"], n["high"])
        elif a.distribution == "loguniform":
            x = math.exp(rng.uniform(math.log(n["low"]), math.log(n["high"])))
        else:
            lo, hi = n.get("low", -math.inf), n.get("high", math.inf)
            for _ in range(1000):  # truncated normal by rejection
                x = rng.normal(n["mean"], n["std"])
                if lo <= x <= hi:
                    break
            else:
                raise ScenarioError(None, None, "the normal distribution almost never falls inside [low, high]")
        if self.integer:
            return int(round(x))
        return f"{x:.12g} {self.unit}" if self.unit else float(f"{x:.12g}")


def _random_axis(a: RandomAxisTable, i: int, scenario: Scenario, source: str) -> _Random:
    where = f"monte_carlo.vary[{i}]"
    integer = integer_key(scenario, a.key)
    if a.distribution == "choice":
        return _Random(a, "", integer, {})
    first = "mean" if a.distribution == "normal" else "low"
    value, unit = _quantity(str(getattr(a, first)), None, source, f"{where}.{first}")
    numbers = {first: value}
    for name in ("low", "high", "mean"):
        given = getattr(a, name)
        if given is not None and name != first:
            numbers[name] = _quantity(str(given), unit, source, f"{where}.{name}")[0]
    if a.std is not None:
        std_text = str(a.std).strip()
        if std_text.endswith("%"):
            numbers["std"] = abs(numbers["mean"]) * _quantity(std_text[:-1], None, source, f"{where}.std")[0] / 100
        else:
            numbers["std"] = _quantity(std_text, unit, source, f"{where}.std")[0]
        if not numbers["std"] > 0:
            raise ScenarioError(source, f"{where}.std", "must be positive")
    if a.distribution in ("uniform", "loguniform") and not numbers["high"] > numbers["low"]:
        raise ScenarioError(source, f"{where}.high", "must be above low")
    if a.distribution == "loguniform" and not numbers["low"] > 0:
        raise ScenarioError(source, f"{where}.low", "a log-uniform distribution needs low above zero")
    if integer and unit:
        raise ScenarioError(source, f"{where}.{first}", f"{a.key} is a whole number; give it without a unit")
    return _Random(a, unit, integer, numbers)


def _random_draws(spec: SweepFile, scenario: Scenario, source: str):
    """[(labels, changes)] for each sample, or None without [monte_carlo]."""
    mc = spec.monte_carlo
    if mc is None:
        return None
    axes = [_random_axis(a, i, scenario, source) for i, a in enumerate(mc.vary)]
    draws = []
    for i in range(mc.samples):
        rng = np.random.default_rng([mc.seed, i])
        try:
            values = [r.draw(rng) for r in axes]
        except ScenarioError as exc:
            raise ScenarioError(source, "monte_carlo.vary", exc.reason) from None
        changes = {r.axis.key: v for r, v in zip(axes, values)}
        if i < VALIDATE_SAMPLES:  # later samples that the scenario rejects are recorded as errors
            _apply(scenario, changes, source, f"monte_carlo (sample {i})")
        draws.append(({r.axis.label: v for r, v in zip(axes, values)}, changes))
    return draws
