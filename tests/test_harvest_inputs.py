"""Bad harvester data files: an error naming the file and the line, exit code 2 on the CLI."""
import subprocess
import sys

import pytest

import sysim
from harvest_helpers import TMY3
from sysim.errors import InputFileError
from sysim.node import build_node


def pv_with(light):
    return {"simulation": {"duration": "1 d", "start": "2026-06-02T00:00:00"},
            "storage": {"model": "supercap", "capacitance": "1 F", "initial_voltage": "2 V"},
            "harvester": [{"type": "pv", "preset": "indoor-asi", "area": "5 cm^2", "light": light}]}


@pytest.mark.parametrize("text, line, reason", [
    ("time_h,lux\n0,100\n2,300\n1,0\n", "line 4", "time must increase: 1 follows 2"),
    ("time_h,lux\n0,100\n# a note\n1,-5\n", "line 4", "negative illuminance: -5"),
    ("time_h,irradiance_W_m2\n0,1\n1,-0.5\n", "line 3", "negative irradiance: -0.5"),
    ("time_h,lux\n0,100\n1,bright\n", "line 3", "illuminance is not a number: 'bright'"),
    ("time_h,lux\n0,100\n1\n", "line 3", "1 values, but the header has 2 columns"),
    ("time_h,brightness\n0,100\n", "line 1", "no illuminance or irradiance column"),
    ("t,lux\n0,100\n", "line 1", "no time column"),
])
def test_bad_light_traces_name_file_and_line(tmp_path, text, line, reason):
    f = tmp_path / "light.csv"
    f.write_text(text)
    with pytest.raises(InputFileError) as info:
        build_node(sysim.from_dict(pv_with({"trace": str(f)})))
    assert info.value.file == str(f) and info.value.key == line
    assert reason in info.value.reason


def test_bad_power_trace_and_weather_file(tmp_path):
    f = tmp_path / "harvest.csv"
    f.write_text("time_s,voltage_V\n0,1\n")
    data = pv_with({"lux": 1})
    data["harvester"] = [{"type": "trace", "file": str(f)}]
    with pytest.raises(InputFileError, match=r"harvest.csv: line 1: no power or current column"):
        build_node(sysim.from_dict(data))
    lines = TMY3.read_text().splitlines()
    fields = lines[40].split(",")
    fields[4] = "-12"                                   # GHI of the 39th hour
    lines[40] = ",".join(fields)
    bad = tmp_path / "bad-tmy3.csv"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=r"bad-tmy3.csv: line 41: negative global horizontal irradiance"):
        build_node(sysim.from_dict(pv_with({"weather": str(bad)})))


def test_cli_reports_a_bad_trace_in_one_line_with_exit_code_2(tmp_path):
    (tmp_path / "light.csv").write_text("time_h,lux\n0,100\n5,200\n3,0\n")
    (tmp_path / "node.toml").write_text(
        '[simulation]\nduration = "1 d"\n[storage]\nmodel = "supercap"\ncapacitance = "1 F"\ninitial_voltage = "2 V"\n'
        '[[harvester]]\ntype = "pv"\npreset = "indoor-asi"\narea = "5 cm^2"\nlight = { trace = "light.csv" }\n')
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", str(tmp_path / "node.toml"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "light.csv: line 4: time must increase" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_scenario_key_errors_for_light_and_pmic():
    with pytest.raises(sysim.errors.ScenarioError, match="exactly one of lux, irradiance, trace or weather"):
        sysim.from_dict(pv_with({"lux": 100, "irradiance": "1 W/m^2"}))
    with pytest.raises(sysim.errors.ScenarioError, match=r"harvester\[0\].light.tilt: .*'30 deg'"):
        sysim.from_dict(pv_with({"irradiance": "100 W/m^2", "tilt": 30}))
    with pytest.raises(sysim.errors.ScenarioError, match=r"light.days: unknown weekday"):
        sysim.from_dict(pv_with({"lux": 100, "days": "mon-fry"}))
    with pytest.raises(sysim.errors.ScenarioError, match=r"light.lux: .*not a illuminance|light.lux"):
        sysim.from_dict(pv_with({"lux": "5 W"}))
