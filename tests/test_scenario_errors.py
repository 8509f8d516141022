"""Every kind of scenario mistake: a one-line message naming file, key and reason; exit code 2."""
import subprocess
import sys

import pytest

import sysim
from sysim.errors import ScenarioError

GOOD = """
name = "t"
[simulation]
duration = "1 h"
[storage]
model = "supercap"
capacitance = "10 mF"
initial_voltage = "3 V"
v_min = "1.8 V"
v_max = "3.3 V"
[[load]]
type = "periodic"
name = "radio"
period = "1 s"
phases = [{ current = "5 mA", duration = "4 ms" }]
"""

MISTAKES = [
    # (replace this, with that, expected key, fragment of the reason)
    ('capacitance = "10 mF"', 'capacitance = "10 mF"\ncolour = "red"', "storage.colour", "unknown key"),
    ('name = "t"', 'name = "t"\nsimulaton = {}', "simulaton", "did you mean 'simulation'"),
    ('"10 mF"', '"10 mV"', "storage.capacitance", "is not a capacitance (it is a voltage)"),
    ('"10 mF"', '"-10 mF"', "storage.capacitance", "must be positive"),
    ('"10 mF"', '"ten mF"', "storage.capacitance", "cannot read"),
    ('v_min = "1.8 V"', 'v_min = "3.5 V"', "storage", "v_min (3.5 V) must be below v_max (3.3 V)"),
    ('initial_voltage = "3 V"', 'initial_voltage = "4 V"', "storage", "above v_max"),
    ('duration = "1 h"', 'duration = "0 s"', "simulation.duration", "must be positive"),
    ('duration = "1 h"', 'duration = "nan s"', "simulation.duration", "not a finite number"),
    ('duration = "1 h"', '', "simulation.duration", "missing required key"),
    ('capacitance = "10 mF"', '', "storage.capacitance", "missing required key"),
    ('model = "supercap"', 'model = "supercapacitor"', "storage.model", "did you mean 'supercap'"),
    ('type = "periodic"', 'type = "pulsed"', "load[0].type", "unknown type 'pulsed'"),
    ('duration = "4 ms"', 'duration = "2 s"', "load[0]", "longer than the period"),
    ('current = "5 mA"', 'current = 5e-3, volts = 3', "load[0].phases[0].volts", "unknown key"),
    ('period = "1 s"', 'period = true', "load[0].period", "boolean"),
    ('name = "radio"', 'name = "radio"\noffset = "-1 s"', "load[0].offset", "must not be negative"),
    ('[[load]]', 'series = 1.5\n[[load]]', "storage.series", "whole number"),
    ('[[load]]', '[[harvester]]\ntype = "current"\nname = "radio"\ncurrent = "1 uA"\n[[load]]', "load[0].name",
     "already used"),
    ('[[load]]', 'record_every = "2 h"\n[[load]]', "storage.record_every", "unknown key"),
    ('duration = "1 h"', 'duration = "1 h"\npower_tolerance = "80 %"', "simulation.power_tolerance",
     "must be at most 0.5, got 0.8"),
    ('duration = "1 h"', 'duration = "1 h"\npower_tolerance = 0', "simulation.power_tolerance", "must be positive, got 0"),
    ('duration = "1 h"', 'duration = "1 h"\npower_tolerance = "3 V"', "simulation.power_tolerance",
     "'3 V' is not a ratio (it is a voltage)"),
]


def _error(text):
    with pytest.raises(ScenarioError) as info:
        sysim.loads(text, source="node.toml")
    return info.value


def test_the_good_scenario_is_valid():
    scenario = sysim.loads(GOOD, source="node.toml")
    assert scenario.storage.capacitance == pytest.approx(0.01)


@pytest.mark.parametrize("old,new,key,fragment", MISTAKES)
def test_each_mistake_names_the_key_and_the_reason(old, new, key, fragment):
    assert old in GOOD
    error = _error(GOOD.replace(old, new, 1))
    assert error.file == "node.toml"
    assert error.key == key, error.message
    assert fragment in error.reason, error.message
    assert "\n" not in error.message


def test_toml_syntax_and_duplicated_keys():
    assert "TOML syntax error" in _error(GOOD + "\n[storage\n").message
    error = _error(GOOD.replace('duration = "1 h"', 'duration = "1 h"\nduration = "2 h"'))
    assert "duplicated key" in error.message


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        sysim.load(tmp_path / "nothere.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        sysim.load(binary)
    with pytest.raises(ScenarioError, match="not a file"):
        sysim.load(tmp_path)


@pytest.mark.parametrize("old,new,key", [
    ('"10 mF"', '"10 mV"', "storage.capacitance"),
    ('v_min = "1.8 V"', 'v_min = "3.5 V"', "storage"),
    ('type = "periodic"', 'type = "pulsed"', "load[0].type"),
])
def test_cli_exits_2_with_one_line_and_no_traceback(tmp_path, old, new, key):
    path = tmp_path / "node.toml"
    path.write_text(GOOD.replace(old, new, 1))
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert f"node.toml: {key}:" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "out" / "summary.json").exists()


def test_cli_rejects_a_bad_duration_option(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", "--duration", "3 apples", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "--duration" in proc.stderr and "Traceback" not in proc.stderr
