
import pytest

from sysim.units import UnitError, format_duration, format_quantity, parse_quantity


@pytest.mark.parametrize("text,dimension,expected", [
    ("10 mF", "capacitance", 0.01),
    ("3 ms", "time", 0.003),
    ("7 d", "time", 604800.0),
    ("1.12 cm^2", "area", 1.12e-4),
    ("50 uAh", "charge", 0.18),
    ("0.7 mAh", "charge", 2.52),
    ("10 mOhm", "resistance", 0.01),
    ("2 Mohm", "resistance", 2e6),
    ("1 MΩ", "resistance", 1e6),
    ("200 lx", "illuminance", 200.0),
    ("25 degC", "temperature", 298.15),
    ("-20 °C", "temperature", 253.15),
    ("5 %", "dimensionless", 0.05),
    ("3 mW", "power", 0.003),
    ("4.7", "time", 4.7),
    (12, "current", 12.0),
])
def test_quantities_become_si(text, dimension, expected):
    assert parse_quantity(text, dimension) == pytest.approx(expected, rel=1e-12)


def test_percent_per_year_is_a_rate():
    per_second = parse_quantity("2.5 %/yr", "rate")
    assert per_second * 365.25 * 86400 == pytest.approx(0.025, rel=1e-12)


@pytest.mark.parametrize("text,dimension,fragment", [
    ("10 mV", "capacitance", "is not a capacitance (it is a voltage)"),
    ("3 kg", "time", "is not a time"),
    ("abc", "time", "cannot read"),
    ("", "time", "empty"),
    ("nan", "voltage", "not a finite number"),
    ("inf V", "voltage", "not a finite number"),
    ("25 degC", "voltage", "is a temperature"),
])
def test_wrong_quantities_are_refused_with_a_reason(text, dimension, fragment):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dimension)
    assert fragment in str(info.value)


@pytest.mark.parametrize("value", [True, None, [1], {"a": 1}])
def test_non_numbers_are_refused(value):
    with pytest.raises(UnitError):
        parse_quantity(value, "time")


def test_formatting_for_people():
    assert format_quantity(0.0123, "F") == "12.3 mF"
    assert format_quantity(1.2e-6, "A") == "1.2 µA"
    assert format_duration(13140) == "3.65 h"
    assert format_duration(2.5) == "2.5 s"
