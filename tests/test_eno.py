"""Energy-neutral operation: per-day energies and days of autonomy against closed forms."""
import json
import math
import subprocess
import sys

import pytest

import sysim
from sysim.commands.run import default_scenario_path
from sysim.eno import DAY_S, days_of_autonomy, energy_neutrality

H = 3600.0


def capacitor_node(capacitance="50 mF", leakage="inf", initial="2.5 V", v_min="1.8 V", v_max="3.3 V",
                   load_A=100e-6, harvest=None, duration="1 h", record_every="7 min"):
    storage = {"model": "supercap", "capacitance": capacitance, "leakage_resistance": leakage,
               "initial_voltage": initial, "v_min": v_min}
    if v_max is not None:
        storage["v_max"] = v_max
    data = {"simulation": {"duration": duration, "record_every": record_every}, "storage": storage,
            "load": [{"type": "constant", "name": "node", "current": load_A}]}
    if harvest is not None:
        data["harvester"] = [harvest]
    return sysim.from_dict(data)


def test_autonomy_of_an_ideal_capacitor_is_c_dv_over_i():
    # the harvester (1 mA) and the half-charged start must both be ignored: full = v_max, no harvest
    node = capacitor_node(harvest={"type": "current", "name": "pv", "current": "1 mA"})
    autonomy = days_of_autonomy(node)
    assert autonomy.days * DAY_S == pytest.approx(50e-3 * (3.3 - 1.8) / 100e-6, rel=1e-9)  # 750 s
    assert autonomy.full_voltage_V == pytest.approx(3.3, rel=1e-12)
    assert "v_max" in autonomy.full_means


def test_autonomy_with_leakage_follows_the_rc_discharge():
    # C dv/dt = −I − v/R  ->  t = R·C·ln((V_full + I·R)/(v_min + I·R))   (models-and-numerics.md §1.1)
    r, c, i = 10e3, 50e-3, 100e-6
    node = capacitor_node(leakage=f"{r} ohm")
    expected = r * c * math.log((3.3 + i * r) / (1.8 + i * r))
    assert days_of_autonomy(node).days * DAY_S == pytest.approx(expected, rel=1e-9)


def test_autonomy_of_a_battery_without_v_max_starts_at_full_charge():
    # OCV linear 3.0 V (empty) .. 4.0 V (full); brown-out at 3.5 V = half the charge: t = Q/2 / I
    data = {"simulation": {"duration": "1 h"},
            "storage": {"model": "battery", "capacity": "1 mA*h", "ocv": [[0.0, "3.0 V"], [1.0, "4.0 V"]],
                        "initial_soc": 0.6, "v_min": "3.5 V"},
            "load": [{"type": "constant", "name": "node", "current": "1 mA"}]}
    autonomy = days_of_autonomy(sysim.from_dict(data))
    assert autonomy.days * DAY_S == pytest.approx(0.5 * 3.6 / 1e-3, rel=1e-9)  # 1800 s
    assert "100 %" in autonomy.full_means


def test_autonomy_limits_and_missing_brownout_level():
    node = capacitor_node(capacitance="10 F")  # 10 F·1.5 V / 100 µA = 1.74 d
    short = days_of_autonomy(node, limit_s=DAY_S)
    assert short.days is None and short.exceeds_limit and short.limit_days == 1.0
    assert days_of_autonomy(node, limit_s=2 * DAY_S).days == pytest.approx(10 * 1.5 / 100e-6 / DAY_S, rel=1e-9)
    no_vmin = sysim.from_dict({"simulation": {"duration": "1 h"},
                               "storage": {"model": "supercap", "capacitance": "1 F", "initial_voltage": "3 V"}})
    none = days_of_autonomy(no_vmin)
    assert none.days is None and not none.exceeds_limit and "v_min" in none.note


def test_per_day_energy_matches_the_closed_form_of_a_charging_capacitor():
    # ideal 10 F capacitor, 50 µA load, 150 µA harvest from 8 h to 18 h and from 31 h; 1.5 days, so the
    # last day is 12 h long. V(t) is piecewise linear, so every energy is a sum of trapezoids.
    c, v0, i_load, i_harvest = 10.0, 2.5, 50e-6, 150e-6
    steps = [{"at": "8 h", "current": i_harvest}, {"at": "18 h", "current": "0 A"}, {"at": "31 h", "current": i_harvest}]
    node = capacitor_node(capacitance=f"{c} F", initial=f"{v0} V", v_min="1 V", load_A=i_load, duration="36 h",
                          harvest={"type": "current", "name": "pv", "current": "0 A", "steps": steps})
    breaks = [0, 8 * H, 18 * H, 24 * H, 31 * H, 36 * H]
    harvesting = [False, True, False, False, True]
    volts = [v0]
    for (a, b), on in zip(zip(breaks, breaks[1:]), harvesting):
        volts.append(volts[-1] + ((i_harvest if on else 0.0) - i_load) * (b - a) / c)

    def energy(current_of_span, t0, t1):
        total = 0.0
        for k, (a, b) in enumerate(zip(breaks, breaks[1:])):
            if a >= t0 and b <= t1:
                total += current_of_span(k) * (b - a) * (volts[k] + volts[k + 1]) / 2
        return total

    report = energy_neutrality(node, autonomy=False)
    assert [(d.start_s, d.end_s, d.complete) for d in report.days] == [(0.0, DAY_S, True), (DAY_S, 1.5 * DAY_S, False)]
    for day, (t0, t1) in zip(report.days, [(0, DAY_S), (DAY_S, 1.5 * DAY_S)]):
        harvested = energy(lambda k: i_harvest if harvesting[k] else 0.0, t0, t1)
        to_loads = energy(lambda k: i_load, t0, t1)
        assert day.harvested_J == pytest.approx(harvested, rel=1e-9)
        assert day.to_loads_J == pytest.approx(to_loads, rel=1e-9)
        assert abs(day.lost_J) < 1e-12
        stored = 0.5 * c * volts[breaks.index(t1)] ** 2
        assert day.stored_end_J == pytest.approx(stored, rel=1e-12)
        assert day.net_J == pytest.approx(day.stored_end_J - day.stored_start_J, rel=1e-9)
        assert day.deficit == (harvested < to_loads)
        assert day.voltage_end_V == pytest.approx(volts[breaks.index(t1)], rel=1e-12)
    assert report.harvested_J == pytest.approx(report.result.summary["energy_harvested_J"], rel=1e-12)
    assert report.energy_neutral == (report.harvested_J >= report.consumed_J)


def test_per_day_counters_add_up_to_the_run():
    scenario = sysim.load(default_scenario_path())
    report = energy_neutrality(scenario, autonomy=False)
    s = report.result.summary
    assert len(report.days) == 3 and all(d.complete for d in report.days)
    assert sum(d.brownouts for d in report.days) == s["brownouts"]
    assert sum(d.downtime_s for d in report.days) == pytest.approx((1 - s["uptime_fraction"]) * s["duration_s"], rel=1e-9)
    for key, attr in (("energy_harvested_J", "harvested_J"), ("energy_to_loads_J", "to_loads_J"),
                      ("energy_lost_J", "lost_J")):
        assert sum(getattr(d, attr) for d in report.days) == pytest.approx(s[key], rel=1e-12)
    # the metered run is the plain run: the day boundaries do not change the physics
    plain = sysim.simulate(scenario).summary
    assert s["min_voltage_V"] == pytest.approx(plain["min_voltage_V"], rel=1e-12)
    assert s["brownouts"] == plain["brownouts"]


def test_eno_command_writes_its_files(tmp_path):
    scenario = tmp_path / "node.toml"
    scenario.write_text("""
[simulation]
duration = "2 d"
record_every = "10 min"
[storage]
model = "supercap"
capacitance = "1 F"
initial_voltage = "2.5 V"
v_min = "1.8 V"
v_max = "3.3 V"
[[harvester]]
type = "current"
name = "pv"
current = "0 A"
steps = [{ at = "8 h", current = "100 uA" }, { at = "18 h", current = "0 A" },
         { at = "32 h", current = "100 uA" }, { at = "42 h", current = "0 A" }]
[[load]]
type = "constant"
name = "node"
current = "30 uA"
""")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sysim", "eno", str(scenario), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "days of autonomy" in proc.stdout
    report = json.loads((out / "eno.json").read_text())
    assert len(report["days"]) == 2
    # 1 F from 3.3 V to 1.8 V at 30 µA: 50,000 s
    assert report["autonomy"]["days"] * DAY_S == pytest.approx(1.0 * 1.5 / 30e-6, rel=1e-9)
    assert report["eno_ratio"] == pytest.approx(report["harvested_J"] / report["consumed_J"], rel=1e-12)
    rows = (out / "eno.csv").read_text().splitlines()
    assert rows[0].startswith("day,start_s,end_s,harvested_J") and len(rows) == 3
    assert (out / "eno.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
