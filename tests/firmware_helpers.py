"""Helpers for the firmware-bridge tests: a scenario around a firmware script written to tmp_path."""
from __future__ import annotations

import copy
import textwrap

import sysim
from firmware_bridge.api import run

BASE = {
    "simulation": {"duration": "60 s", "record_every": "1 s"},
    "storage": {"model": "supercap", "capacitance": "10 mF", "initial_voltage": "3 V"},
    "load": [{"type": "constant", "name": "radio", "current": "5 mA"}],
}


def firmware_scenario(tmp_path, script: str, *, firmware=None, **tables) -> sysim.Scenario:
    """A validated scenario whose [firmware] runs ``script`` (dedented) from ``tmp_path``."""
    (tmp_path / "fw.py").write_text(textwrap.dedent(script).lstrip("\n"), encoding="utf-8")
    data = copy.deepcopy(BASE)
    for key, value in tables.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    data["firmware"] = {"script": "fw.py", "pins": {"5": "radio"}, **(firmware or {})}
    return sysim.from_dict(data, source=str(tmp_path / "scenario.toml"), base_dir=str(tmp_path))


def run_firmware(tmp_path, script: str, runner: str = "cpython", firmware=None, **tables):
    return run(firmware_scenario(tmp_path, script, firmware=firmware, **tables), runner=runner)


def prints(fw_run) -> list[str]:
    return [d for _, k, d in fw_run.timeline if k == "print"]


def comparable(timeline) -> list:
    """The timeline without traceback text (CPython and MicroPython word them differently)."""
    return [(t, k, None if k == "exception" else d) for t, k, d in timeline]
