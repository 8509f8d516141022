"""The parameter a sizing run varies: a dotted scenario key and a range ``"LOW..HIGH"``.

Values keep the unit the user wrote for LOW (``"1 mF..1 F"`` searches in mF and hands the
scenario strings like ``"60.03 mF"``), so the scenario's own validation checks the dimension.
Keys the schema declares as whole numbers (``storage.parallel``, ``storage.series``) are
searched over integers.
"""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass

from sysim.errors import ScenarioError
from sysim.scenario.loader import Scenario, _split_key
from sysim.units import check_expression, ureg

NUMBER_WITH_UNIT = re.compile(r"^\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Parameter:
    key: str
    low: float            # in ``unit`` (an int for integer keys)
    high: float
    unit: str             # the unit text of LOW ("mF"), "" for bare SI numbers
    integer: bool

    def value(self, x: float):
        """What to put into the scenario for ``x``: an int, a bare SI float, or ``"x unit"``."""
        if self.integer:
            return int(x)
        return f"{x:.12g} {self.unit}" if self.unit else float(f"{x:.12g}")

    def display(self, x: float, digits: int = 5) -> str:
        if self.integer:
            return str(int(x))
        return f"{x:.{digits}g} {self.unit}".rstrip()

    @property
    def log_scale(self) -> bool:
        return (not self.integer) and self.low > 0 and self.high / self.low >= 4.0


def parse_range(text: str, key: str, scenario: Scenario, option: str = "--range") -> Parameter:
    """``"1 mF..1 F"`` for ``key`` of ``scenario``; ScenarioError naming ``option`` if unreadable."""
    if not isinstance(text, str) or ".." not in text:
        raise ScenarioError(None, option, f'expected "LOW..HIGH" (e.g. "1 mF..1 F"), got {text!r}')
    low_text, high_text = (part.strip() for part in text.split("..", 1))
    integer = integer_key(scenario, key)
    if integer:
        try:
            low, high = int(low_text), int(high_text)
        except ValueError:
            raise ScenarioError(None, option, f"{key} is a whole number; give a range like \"1..16\", "
                                f"got {text!r}") from None
        unit = ""
    else:
        low, unit = number_and_unit(low_text, option)
        high = convert_to_unit(high_text, unit, option)
    if not high > low:
        raise ScenarioError(None, option, f"HIGH must be above LOW, got {text!r}")
    return Parameter(key, low, high, unit, integer)


def number_and_unit(text: str, option: str) -> tuple[float, str]:
    match = NUMBER_WITH_UNIT.match(text)
    if not match:
        raise ScenarioError(None, option, f"cannot read {text!r} as a number with a unit")
    number, unit = float(match.group(1)), match.group(2)
    if unit:
        try:
            check_expression(unit)  # pint would evaluate "s**9**9**9" for hours
            ureg.Quantity(1.0, unit.replace("µ", "u").replace("μ", "u"))
        except Exception:
            raise ScenarioError(None, option, f"unknown unit {unit!r} in {text!r}") from None
    return number, unit


def convert_to_unit(text: str, unit: str, option: str) -> float:
    """``text`` (a number with a unit) expressed in ``unit``."""
    number, its_unit = number_and_unit(text, option)
    if its_unit == unit:
        return number
    if not unit or not its_unit:
        raise ScenarioError(None, option, "give both ends of the range with units, or both without")
    try:
        q = ureg.Quantity(number, its_unit.replace("µ", "u").replace("μ", "u"))
        return float(q.to(unit.replace("µ", "u").replace("μ", "u")).magnitude)
    except Exception:
        raise ScenarioError(None, option, f"{text!r} cannot be expressed in {unit} (LOW's unit)") from None


def integer_key(scenario: Scenario, key: str) -> bool:
    """Whether the schema declares ``key`` a whole number (``Count`` fields such as ``parallel``)."""
    field = _field(scenario, key)
    if field is None:
        return False
    annotation = field.annotation
    if typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else annotation
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation is int


def _field(scenario: Scenario, key: str):
    """The pydantic field behind ``key`` in the typed scenario, or None if it cannot be found."""
    try:
        parts = _split_key(key)
    except (ValueError, IndexError):
        raise ScenarioError(None, "--vary", f"cannot read the key {key!r} (e.g. storage.capacitance, "
                            f"load[0].period)") from None
    if not parts or not isinstance(parts[0], str):
        return None
    head, rest = parts[0], parts[1:]
    if head in ("harvester", "load"):
        items = scenario.harvesters if head == "harvester" else scenario.loads
        if not rest or not isinstance(rest[0], int) or not 0 <= rest[0] < len(items):
            return None
        node, rest = items[rest[0]][1], rest[1:]
    else:
        node = {"storage": scenario.storage, "simulation": scenario.simulation, "pmic": scenario.pmic,
                "firmware": scenario.firmware}.get(head, scenario.extra.get(head))
    if node is None or not rest:
        return None
    for part in rest[:-1]:
        try:
            node = node[part] if isinstance(part, int) else getattr(node, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    last = rest[-1]
    fields = getattr(type(node), "model_fields", None)
    if not isinstance(last, str) or fields is None:
        return None
    return fields.get(last)
