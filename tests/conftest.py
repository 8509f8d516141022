"""Shared helpers for the test-suite: small scenarios built as dicts, run in-process."""
from __future__ import annotations

import copy
import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MPLBACKEND", "Agg")

import sysim  # noqa: E402

BASE = {
    "simulation": {"duration": "1 h", "record_every": "1 min"},
    "storage": {"model": "supercap", "capacitance": "10 mF", "initial_voltage": "3 V"},
}


def scenario(**tables):
    """A scenario dict: BASE with tables replaced or merged (``storage={...}`` merges keys)."""
    data = copy.deepcopy(BASE)
    for key, value in tables.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
            data[key] = {k: v for k, v in data[key].items() if v is not None}  # None removes a key
        else:
            data[key] = value
    return data


def run(data, **kwargs):
    return sysim.simulate(sysim.from_dict(data), **kwargs)


def balance_ok(result, rel=1e-9):
    s = result.summary
    throughput = abs(s["energy_harvested_J"]) + abs(s["energy_to_loads_J"]) + abs(s["energy_lost_J"]) + \
        abs(s["energy_stored_end_J"] - s["energy_stored_start_J"])
    assert throughput > 0
    assert abs(s["energy_balance_error_J"]) <= rel * throughput, (s["energy_balance_error_J"], throughput)


@pytest.fixture
def python_exe():
    return sys.executable
