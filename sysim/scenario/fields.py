"""Pydantic field types for quantities with units, and the base class of every config table.

``Quantity("capacitance", positive=True)`` is an annotated float type: it accepts ``"10 mF"`` or a
bare SI number, checks the dimension with pint (sysim.units) and the sign, and stores SI.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

from sysim.units import UnitError, format_quantity, parse_quantity

#: no scenario quantity is larger in SI units (F, Ω, s, J...); beyond it the arithmetic overflows
MAX_MAGNITUDE_SI = 1e30
#: nor (when not zero) smaller than this: denormal numbers divide to inf
MIN_MAGNITUDE_SI = 1e-100

_UNIT_FOR = {"capacitance": "F", "resistance": "Ω", "voltage": "V", "current": "A", "time": "s",
             "power": "W", "energy": "J", "charge": "C", "area": "m²", "frequency": "Hz", "length": "m"}


@dataclass(frozen=True)
class QuantitySpec:
    """What a :func:`Quantity` field holds, for tools that introspect the tables (the GUI shows
    the unit next to the field). Pydantic ignores it."""

    dimension: str
    unit: str
    positive: bool = False
    non_negative: bool = False
    allow_inf: bool = False


def Quantity(dimension: str, *, positive: bool = False, non_negative: bool = False,
             maximum: float | None = None, allow_inf: bool = False):
    """Annotated float type for a quantity of ``dimension`` (see sysim.units.DIMENSIONS)."""

    def parse(value: Any) -> float:
        if allow_inf and isinstance(value, str) and value.strip().lower() in ("inf", "infinity", "none"):
            return math.inf
        try:
            number = parse_quantity(value, dimension)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        # a ratio reads as a plain number: 0.8, not "800 m"
        shown = f"{number:g}" if dimension == "dimensionless" else format_quantity(number, _UNIT_FOR.get(dimension, ""))
        if abs(number) > MAX_MAGNITUDE_SI:  # 1e301 s became inf ns in the schedules (OverflowError)
            raise ValueError(f"{shown} is beyond any physical value (|value| must be at most {MAX_MAGNITUDE_SI:g} "
                             f"in SI units)")
        if 0 < abs(number) < MIN_MAGNITUDE_SI:  # 5e-324 m² of PV area became a division by zero
            raise ValueError(f"{number:g} is too small to compute with (a value that is not zero must be at least "
                             f"{MIN_MAGNITUDE_SI:g} in SI units)")
        if positive and not number > 0:
            raise ValueError(f"must be positive, got {shown}")
        if non_negative and number < 0:
            raise ValueError(f"must not be negative, got {shown}")
        if maximum is not None and number > maximum:
            raise ValueError(f"must be at most {maximum:g}, got {number:g}")
        return number

    spec = QuantitySpec(dimension, _UNIT_FOR.get(dimension, ""), positive, non_negative, allow_inf)
    return Annotated[float, BeforeValidator(parse), spec]


def Count(minimum: int = 1, maximum: int = 10_000):
    """Annotated int type: a whole count within bounds (rejects floats like 1.5 and booleans)."""

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be a whole number, got {value!r}")
        if not minimum <= value <= maximum:
            raise ValueError(f"must be between {minimum} and {maximum}, got {value}")
        return value

    return Annotated[int, BeforeValidator(parse)]


class Table(BaseModel):
    """A scenario table: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False,
                              arbitrary_types_allowed=True)
