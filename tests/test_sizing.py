"""`size`: bisection answers against closed forms and a brute-force grid.

The reference node: an ideal capacitor C (no ESR, no leakage) at V0 = 3 V feeds a constant
I = 100 µA load; the harvester is dark for t_dark = 600 s, then delivers 200 µA. With brown-out at
v_min = 2 V the capacitor bridges the dark period iff C ≥ I·t_dark/(V0 − v_min) = 60 mF.
"""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import sysim
from sysim.errors import ScenarioError
from sysim.sizing import parse_goal, size
from sysim.sizing.goals import Goal
from sysim.sizing.parameter import Parameter
from sysim.sizing.search import Evaluation, search

I_LOAD, I_HARVEST, T_DARK, V0, V_MIN, DURATION = 100e-6, 200e-6, 600.0, 3.0, 2.0, 900.0
C_BRIDGE = I_LOAD * T_DARK / (V0 - V_MIN)  # 60 mF
TOL = 1e-3


def bridge(capacitance="10 mF", esr="0 ohm", **storage):
    data = {
        "name": "capacitor bridging a dark period",
        "simulation": {"duration": DURATION, "record_every": "10 s"},
        "storage": {"model": "supercap", "capacitance": capacitance, "esr": esr, "initial_voltage": V0,
                    "v_min": V_MIN, "v_max": "3.3 V", **storage},
        "harvester": [{"type": "current", "name": "light", "current": "0 A",
                       "steps": [{"at": T_DARK, "current": I_HARVEST}]}],
        "load": [{"type": "constant", "name": "node", "current": I_LOAD}],
    }
    return sysim.from_dict(data)


def test_no_brownout_matches_closed_form_and_brute_force_grid():
    result = size(bridge(), "storage.capacitance", "1 mF..1 F", "no-brownout", tolerance=TOL)
    assert result.status == "ok" and result.direction == "smallest"
    answer_F = result.answer * 1e-3  # the range was given in mF
    # the promise: the reported value meets the goal and is within TOL above the exact threshold
    assert C_BRIDGE * (1 - 1e-9) <= answer_F <= C_BRIDGE * (1 + TOL)
    assert result.failing * 1e-3 < C_BRIDGE
    assert result.answer_evaluation.met and result.answer_evaluation.summary["brownouts"] == 0

    # brute force: every value on a 1 mF grid (offset by 0.5 mF so none sits on the threshold)
    grid_mF = np.arange(40.5, 80.0, 1.0)
    met = [sysim.simulate(bridge(f"{c} mF")).summary["brownouts"] == 0 for c in grid_mF]
    assert met == [c * 1e-3 >= C_BRIDGE for c in grid_mF]  # the closed form is the truth
    smallest_passing = grid_mF[met.index(True)]
    assert smallest_passing - 1.0 < result.answer <= smallest_passing


def test_margin_goal_with_esr_matches_closed_form():
    # terminal = v − I·ESR, so a margin m needs C = I·t/(V0 − v_min − m − I·ESR)
    esr, margin = 400.0, 0.2  # I·ESR = 40 mV stays below the 50 mV restore hysteresis: no brown-out loop
    expected = I_LOAD * T_DARK / (V0 - V_MIN - margin - I_LOAD * esr)
    result = size(bridge(esr=esr), "storage.capacitance", "30 mF..3 F", f"margin:{margin}V", tolerance=TOL)
    answer_F = result.answer * 1e-3
    assert expected * (1 - 1e-9) <= answer_F <= expected * (1 + TOL)
    assert result.answer_evaluation.voltage_margin_V == pytest.approx(margin, abs=2e-3)
    assert result.answer_evaluation.voltage_margin_V >= margin - 1e-12


def test_uptime_goal_matches_closed_form():
    # below C_BRIDGE: brown-out at C·(V0−v_min)/I, loads back when the harvest has lifted the store by
    # the 50 mV hysteresis, C·h/I_h after the light returns: downtime = t_dark + C·h/I_h − C·(V0−v_min)/I
    hysteresis, uptime = 0.05, 0.95
    expected = (T_DARK - (1 - uptime) * DURATION) / ((V0 - V_MIN) / I_LOAD - hysteresis / I_HARVEST)
    result = size(bridge(), "storage.capacitance", "1 mF..1 F", "uptime:95%", tolerance=TOL)
    answer_F = result.answer * 1e-3
    assert expected * (1 - 1e-9) <= answer_F <= expected * (1 + TOL)
    assert result.answer_evaluation.summary["uptime_fraction"] >= uptime
    assert result.answer_evaluation.summary["brownouts"] == 1  # it still browns out, but briefly enough


def test_integer_key_bisects_on_whole_numbers():
    # 7 mF cells in parallel: 8 give 56 mF (fails), 9 give 63 mF (meets)
    result = size(bridge("7 mF"), "storage.parallel", "1..40", "no-brownout")
    assert result.parameter.integer
    assert result.answer == math.ceil(C_BRIDGE / 7e-3) == 9 and result.failing == 8
    assert all(isinstance(e.x, int) for e in result.evaluations)


def test_goal_that_gets_harder_reports_the_largest_value():
    # 40 mF bridges the dark period for load currents up to C·(V0−v_min)/t_dark = 66.7 µA
    data = bridge("40 mF").data
    scenario = sysim.from_dict(data)
    limit = 40e-3 * (V0 - V_MIN) / T_DARK
    result = size(scenario, "load[0].current", "1 uA..1 mA", "no-brownout", tolerance=TOL)
    assert result.direction == "largest"
    assert limit * (1 - TOL) <= result.answer * 1e-6 <= limit * (1 + 1e-9)


def _fake(met_of_x):
    def evaluate(x, complete):
        return Evaluation(x, met_of_x(x), {"uptime_fraction": 1.0}, True, 0.0, "grid")
    return evaluate


def test_search_refuses_a_goal_that_is_not_monotone():
    p = Parameter("k", 1.0, 100.0, "", False)
    result = search(_fake(lambda x: 3 <= x <= 30), p, Goal("no-brownout"), grid_points=9)
    assert result.status == "not-monotone" and result.answer is None
    everywhere = search(_fake(lambda x: True), p, Goal("no-brownout"))
    assert everywhere.status == "met-everywhere" and everywhere.answer == 1.0
    nowhere = search(_fake(lambda x: False), p, Goal("no-brownout"))
    assert nowhere.status == "met-nowhere" and nowhere.answer is None


def test_linear_search_converges_to_the_tolerance():
    p = Parameter("k", -5.0, 5.0, "", False)
    result = search(_fake(lambda x: x >= 1.2345), p, Goal("no-brownout"), tolerance=1e-4)
    assert 1.2345 <= result.answer <= 1.2345 * (1 + 1e-4)


@pytest.mark.parametrize("text, goal", [("no-brownout", Goal("no-brownout")), ("margin:200 mV", Goal("margin", margin_V=0.2)),
                                        ("margin:0.2V", Goal("margin", margin_V=0.2)),
                                        ("uptime:99%", Goal("uptime", uptime=0.99)), ("uptime:0.9", Goal("uptime", uptime=0.9))])
def test_goal_parsing(text, goal):
    parsed = parse_goal(text)
    assert parsed.kind == goal.kind
    assert parsed.margin_V == pytest.approx(goal.margin_V) and parsed.uptime == pytest.approx(goal.uptime)


@pytest.mark.parametrize("text", ["no-brownouts", "margin:0.2 A", "uptime:120%", "uptime:", "margin"])
def test_bad_goals_are_errors(text):
    with pytest.raises(ScenarioError) as info:
        parse_goal(text)
    assert info.value.key == "--goal"


def test_goal_needs_a_brownout_level():
    scenario = sysim.from_dict(_without_v_min())
    with pytest.raises(ScenarioError) as info:
        size(scenario, "storage.capacitance", "1 mF..1 F", "no-brownout")
    assert info.value.key == "storage.v_min"


def _without_v_min():
    data = bridge().data
    del data["storage"]["v_min"]
    return data


def _cli(tmp_path, *args):
    scenario = tmp_path / "bridge.toml"
    scenario.write_text(_toml())
    return subprocess.run([sys.executable, "-m", "sysim", "size", str(scenario), "--out", str(tmp_path / "out"), *args],
                          capture_output=True, text=True, timeout=300)


def _toml():
    return f"""
name = "capacitor bridging a dark period"
[simulation]
duration = "{DURATION} s"
record_every = "10 s"
[storage]
model = "supercap"
capacitance = "10 mF"
initial_voltage = "{V0} V"
v_min = "{V_MIN} V"
v_max = "3.3 V"
[[harvester]]
type = "current"
name = "light"
current = "0 A"
steps = [{{ at = "{T_DARK} s", current = "{I_HARVEST} A" }}]
[[load]]
type = "constant"
name = "node"
current = "{I_LOAD} A"
"""


def test_cli_prints_the_answer_and_writes_the_margin_curve(tmp_path):
    proc = _cli(tmp_path, "--vary", "storage.capacitance", "--range", "1 mF..1 F", "--goal", "no-brownout")
    assert proc.returncode == 0, proc.stderr
    assert "smallest storage.capacitance" in proc.stdout and "voltage margin" in proc.stdout
    report = json.loads((tmp_path / "out" / "size.json").read_text())
    assert C_BRIDGE <= report["answer"] * 1e-3 <= C_BRIDGE * (1 + TOL)
    assert report["status"] == "ok" and report["unit"] == "mF"
    assert sum(e["stage"] == "grid" for e in report["evaluations"]) == 7
    png = (tmp_path / "out" / "size.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["size.json", "size.png"]  # no temporaries


@pytest.mark.parametrize("args, key, reason", [
    (["--vary", "storage.capacitance", "--range", "1 mV..1 V"], "storage.capacitance", "not a capacitance"),
    (["--vary", "storage.capacitanse", "--range", "1 mF..1 F"], "storage.capacitanse", "unknown key"),
    (["--vary", "storage.capacitance", "--range", "1 F..1 mF"], "--range", "HIGH must be above LOW"),
    (["--vary", "storage.capacitance", "--range", "1 mF"], "--range", "LOW..HIGH"),
    (["--vary", "storage.parallel", "--range", "1.5..4"], "--range", "whole number"),
    (["--vary", "storage.capacitance", "--range", "1 mF..1 F", "--goal", "always"], "--goal", "unknown goal"),
    (["--vary", "storage.capacitance", "--range", "1 mF..10 mF"], "--range", "widen the range"),
])
def test_cli_bad_input_exits_2_naming_the_key(tmp_path, capsys, args, key, reason):
    from sysim.cli import main

    scenario = tmp_path / "bridge.toml"
    scenario.write_text(_toml())
    code = main(["size", str(scenario), "--out", str(tmp_path / "out"), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert key in err and reason in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
