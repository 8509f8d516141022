"""Quantity strings with units, parsed by pint into SI floats with a dimension check.

A scenario value is either a string with a unit (``"10 mF"``, ``"3 ms"``, ``"2.5 %/yr"``) or a bare
number already in SI base units. :func:`parse_quantity` returns the SI float and refuses a value
whose unit has the wrong dimension (``"10 mV"`` where a capacitance is expected).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import pint

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
# Spellings engineers write that pint does not know out of the box.
ureg.define("Ohm = ohm")
ureg.define("Ω = ohm")
ureg.define("percent_per_year = percent / year = %/yr")

#: Named dimensions used by the scenario schema, as pint dimensionality strings.
DIMENSIONS: dict[str, str] = {
    "dimensionless": "",
    "time": "[time]",
    "frequency": "1/[time]",
    "rate": "1/[time]",
    "voltage": "[mass]*[length]**2/[time]**3/[current]",
    "current": "[current]",
    "charge": "[current]*[time]",
    "capacitance": "[current]**2*[time]**4/[mass]/[length]**2",
    "resistance": "[mass]*[length]**2/[time]**3/[current]**2",
    "power": "[mass]*[length]**2/[time]**3",
    "energy": "[mass]*[length]**2/[time]**2",
    "area": "[length]**2",
    "length": "[length]",
    "temperature": "[temperature]",
    "illuminance": "[luminosity]/[length]**2",
    "irradiance": "[mass]/[time]**3",
    "molar_energy": "[mass]*[length]**2/[time]**2/[substance]",
    "capacitance_per_area": "[current]**2*[time]**4/[mass]/[length]**4",
    "charge_per_area": "[current]*[time]/[length]**2",
    "current_per_area": "[current]/[length]**2",
    "resistance_area": "[mass]*[length]**4/[time]**3/[current]**2",
    "energy_per_area": "[mass]/[time]**2",
    "permittivity": "[current]**2*[time]**4/[mass]/[length]**3",
    "voltage_per_time": "[mass]*[length]**2/[time]**4/[current]",
    "current_per_frequency": "[current]*[time]",
    "capacitance_per_voltage": "[current]**3*[time]**7/[mass]**2/[length]**4",
}

_OFFSET_TEMPERATURE = re.compile(r"^\s*([-+]?[0-9.eE+-]+)\s*(°C|degC|celsius|°F|degF)\s*$")
#: pint evaluates ``**`` and ``^`` with Python integers, so ``"9**9**9 s"`` would compute for hours:
#: an exponent must be a plain number of at most two digits (``m**2``, ``s^-1``), never another power,
#: and a power applies to a number or a unit, not to a parenthesised group
_POWER = re.compile(r"(\*\*|\^)\s*")
_SMALL_EXPONENT = re.compile(r"[-+]?\s*[0-9]{1,2}(?:\.[0-9]*)?(?![0-9.eE])\s*")
MAX_QUANTITY_CHARS = 200


class UnitError(ValueError):
    """A quantity string that cannot be read, or has the wrong dimension."""


def check_expression(text: str) -> None:
    """Refuse a unit expression pint could not evaluate in bounded time (UnitError): longer than
    :data:`MAX_QUANTITY_CHARS`, or with a power whose exponent is not a small plain number."""
    if len(text) > MAX_QUANTITY_CHARS:
        raise UnitError(f"quantity string longer than {MAX_QUANTITY_CHARS} characters")
    for match in _POWER.finditer(text):
        exponent = _SMALL_EXPONENT.match(text, match.end())
        if (exponent is None or _POWER.match(text, exponent.end())
                or text[:match.start()].rstrip().endswith(")")):  # ((10**99)**99)**99...: no powers of groups
            raise UnitError(f"cannot read {text[:60]!r} as a quantity (a power needs a plain exponent "
                            f"from -99 to 99 on a unit or number, like m**2 or s^-1)")


@lru_cache(maxsize=None)
def _dimensionality(dimension: str):
    return ureg.get_dimensionality(DIMENSIONS[dimension]) if DIMENSIONS[dimension] else ureg.get_dimensionality("")


def parse_quantity(value: object, dimension: str) -> float:
    """Return ``value`` as a float in SI base units, checking that it has ``dimension``.

    ``value`` may be a string with units (``"10 mF"``), a bare int/float (taken as SI), or a
    string holding a bare number. Temperatures with offset units (``"25 degC"``) give kelvin.
    Raises :class:`UnitError` with a one-line reason.
    """
    if dimension not in DIMENSIONS:
        raise KeyError(f"unknown dimension {dimension!r}")
    if isinstance(value, bool):
        raise UnitError(f"expected a {dimension.replace('_', ' ')}, got a boolean")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_string(value, dimension)
    else:
        raise UnitError(f"expected a {dimension.replace('_', ' ')} as a number or a string with a unit, "
                        f"got {type(value).__name__}")
    if not math.isfinite(number):
        raise UnitError(f"{value!r} is not a finite number")
    return number


@lru_cache(maxsize=8192)  # pint takes ~0.5 ms a string; a sweep validates the same strings per point
def _parse_string(text: str, dimension: str) -> float:
    stripped = text.strip()
    if not stripped:
        raise UnitError("empty quantity string")
    try:
        return float(stripped)  # a bare number in a string: SI, like a bare TOML number
    except ValueError:
        pass
    match = _OFFSET_TEMPERATURE.match(stripped)
    if match:
        if dimension != "temperature":
            raise UnitError(f"{text!r} is a temperature, expected a {dimension.replace('_', ' ')}")
        quantity = ureg.Quantity(float(match.group(1)), match.group(2).replace("°C", "degC").replace("°F", "degF"))
        return float(quantity.to("kelvin").magnitude)
    check_expression(stripped)
    try:
        quantity = ureg.Quantity(stripped.replace("µ", "u").replace("μ", "u"))
    except Exception as exc:  # pint raises many types; the message is what matters
        raise UnitError(f"cannot read {text!r} as a quantity ({type(exc).__name__}: {exc})") from None
    if not isinstance(quantity, pint.Quantity):
        return float(quantity)
    if quantity.dimensionality != _dimensionality(dimension):
        wanted = "a ratio" if dimension == "dimensionless" else f"a {dimension.replace('_', ' ')}"
        raise UnitError(f"{text!r} is not {wanted} (it is {_describe(quantity)})")
    try:
        return float(quantity.to_base_units().magnitude)
    except Exception as exc:
        raise UnitError(f"cannot convert {text!r} to SI ({exc})") from None


def _describe(quantity) -> str:
    for name in DIMENSIONS:
        if name not in ("rate",) and quantity.dimensionality == _dimensionality(name):
            return "dimensionless" if name == "dimensionless" else f"a {name.replace('_', ' ')}"
    return f"in {quantity.to_base_units().units:~}"


def format_quantity(value_si: float, unit: str, digits: int = 4) -> str:
    """Format an SI float with an engineering prefix for display, e.g. ``0.01, "F" -> "10 mF"``."""
    if value_si == 0 or not math.isfinite(value_si):
        return f"{value_si:g} {unit}"
    prefixes = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G"}
    exponent = int(math.floor(math.log10(abs(value_si)) / 3) * 3)
    exponent = max(-15, min(9, exponent))
    scaled = value_si / 10.0 ** exponent
    return f"{scaled:.{digits}g} {prefixes[exponent]}{unit}"


_TIME_SCALES = ((86400.0 * 2, 86400.0, "days"), (7200.0, 3600.0, "hours"), (120.0, 60.0, "minutes"),
                (0.0, 1.0, "seconds"))


def time_scale(duration_s: float) -> tuple[float, str]:
    """A readable unit for a time axis spanning ``duration_s``: (seconds per unit, unit name)."""
    for limit, scale, label in _TIME_SCALES:
        if duration_s >= limit:
            return scale, label
    return 1.0, "seconds"


def format_duration(seconds: float) -> str:
    """``13140 -> "3.65 h"``."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0), ("s", 1.0)):
        if abs(seconds) >= size or unit == "s":
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:g} s"
