"""Threshold events, brown-out/over-voltage protection with hysteresis, and exact extremes."""
import math

import pytest

from conftest import balance_ok, run, scenario


def test_brownout_and_restore_follow_the_hysteresis_exactly():
    # net -50 µA with the load on, +50 µA with it off: 0.1 V of hysteresis takes 20 s each way
    res = run(scenario(storage={"capacitance": "10 mF", "initial_voltage": "1.85 V", "v_min": "1.8 V",
                                "v_min_hysteresis": "0.1 V", "restart_delay": "1 us"},
                       harvester=[{"type": "current", "current": "50 uA"}],
                       load=[{"type": "constant", "current": "100 uA"}],
                       simulation={"duration": "200 s", "record_every": "1 s"}))
    s = res.summary
    assert s["first_brownout_s"] == pytest.approx(10.0, rel=1e-9)
    assert s["brownouts"] == 5  # at 10, 50, 90, 130, 170 s
    assert s["uptime_fraction"] == pytest.approx(0.5, rel=1e-6)
    assert s["min_voltage_V"] == pytest.approx(1.8, rel=1e-9)
    assert s["max_voltage_V"] == pytest.approx(1.9, rel=1e-9)
    loads_on = res.column("loads_on")
    t = res.column("time_s")
    assert loads_on[(t > 11) & (t < 29)].max() == 0 and loads_on[(t > 31) & (t < 49)].min() == 1
    balance_ok(res)


def test_esr_step_at_switch_on_is_a_brownout_at_that_instant():
    # node at 2.0 V, 100 Ω ESR, a 5 mA pulse at t = 3 s drops the terminal to 1.5 V at once
    res = run(scenario(storage={"capacitance": "1 F", "esr": "100 ohm", "initial_voltage": "2 V", "v_min": "1.8 V"},
                       load=[{"type": "periodic", "period": "10 s", "offset": "3 s",
                              "phases": [{"current": "5 mA", "duration": "1 ms"}]}],
                       simulation={"duration": "5 s", "record_every": "1 s"}))
    assert res.summary["first_brownout_s"] == pytest.approx(3.0, abs=1e-12)
    assert res.summary["min_voltage_V"] == pytest.approx(2.0 - 0.5, rel=1e-9)


def test_exact_minimum_includes_the_esr_dip_of_the_shortest_pulse():
    c, esr, v0, i_p, t_p, i_b = 0.01, 20.0, 3.0, 8e-3, 0.2e-3, 1e-6
    res = run(scenario(storage={"capacitance": c, "esr": esr},
                       load=[{"type": "periodic", "period": "1 s", "base_current": i_b, "offset": "0.5 s",
                              "phases": [{"current": i_p, "duration": t_p}]}],
                       simulation={"duration": "100.9 s", "record_every": "10 s"}))
    # deepest point: end of the last pulse (t = 100.5 s + t_p), after 101 pulses
    t_end_pulse = 100.5 + t_p
    charge = 101 * i_p * t_p + i_b * (t_end_pulse - 101 * t_p)
    expected = v0 - charge / c - i_p * esr
    assert res.summary["min_voltage_V"] == pytest.approx(expected, rel=1e-9)
    # the sampled trace never sees the pulse; the exact minimum does
    assert res.column("voltage_V").min() > expected + 0.1


def test_overvoltage_throttles_the_harvest_to_the_load():
    res = run(scenario(storage={"capacitance": "10 mF", "initial_voltage": "3.0 V", "v_max": "3.3 V"},
                       harvester=[{"type": "current", "current": "200 uA"}],
                       load=[{"type": "periodic", "period": "1 s", "base_current": "2 uA",
                              "phases": [{"current": "5 mA", "duration": "4 ms"}]}],
                       simulation={"duration": "2 h", "record_every": "1 min"}))
    s = res.summary
    t, v = res.column("time_s"), res.column("voltage_V")
    assert s["overvoltage_events"] >= 1
    late = t > 1800
    assert v[late].max() <= 3.3 + 0.01 and v[late].min() >= 3.3 - 0.05
    # once full, harvest only covers the load: stored energy no longer grows
    stored = res.column("stored_energy_J")
    assert abs(stored[-1] - stored[late][0]) < 0.5 * 0.01 * (3.3 ** 2 - 3.25 ** 2)
    assert res.column("charging")[-1] == 0.0
    balance_ok(res)


def test_constant_power_load_matches_the_closed_form():
    # models-and-numerics.md §5.3 item 1: C = 0.1 F, R = 10 Ω, P = 3 mW, 3.0 -> 1.8 V in 94.491 s
    c, r, p = 0.1, 10.0, 3e-3

    def f(e):
        s = math.sqrt(e * e - 4 * r * p)
        return e * e / 2 + 0.5 * (e * s - 4 * r * p * math.log(e + s))
    e_threshold = 1.8 + r * p / 1.8
    expected = c / (2 * p) * (f(3.0) - f(e_threshold))
    assert expected == pytest.approx(94.491, abs=1e-3)
    res = run(scenario(storage={"capacitance": c, "esr": r, "v_min": "1.8 V"},
                       load=[{"type": "constant", "power": p}],
                       simulation={"duration": "200 s", "record_every": "1 s"}))
    assert res.summary["first_brownout_s"] == pytest.approx(expected, rel=1e-4)
    # the delivered energy is P times the time it ran
    assert res.summary["energy_to_loads_J"] == pytest.approx(p * expected, rel=1e-4)
    balance_ok(res)


def test_battery_crosses_ocv_pieces_and_browns_out_at_the_knee():
    ocv = [[0.0, 2.8], [0.1, 3.4], [0.9, 3.9], [1.0, 4.1]]
    res = run(scenario(storage={"model": "battery", "capacity": "1 mAh", "ocv": ocv, "r0": "10 ohm",
                                "initial_soc": 0.95, "v_min": "3.0 V", "capacitance": None,
                                "initial_voltage": None},
                       load=[{"type": "constant", "current": "1 mA"}],
                       simulation={"duration": "1 h", "record_every": "1 min"}))
    s = res.summary
    # OCV - I·R0 = 3.0 V inside the lowest piece: OCV = 3.01 V at soc = 0.1·(3.01-2.8)/0.6
    soc_at = 0.1 * (3.01 - 2.8) / 0.6
    assert s["first_brownout_s"] == pytest.approx((0.95 - soc_at) * 3.6 / 1e-3, rel=1e-9)
    assert s["threshold_crossings"] >= 3  # two OCV knees and the brown-out
    balance_ok(res)


@pytest.mark.parametrize("series,parallel", [(2, 1), (1, 3), (3, 2)])
def test_identical_cell_packs_collapse_exactly(series, parallel):
    c, i = 0.01, 1e-3
    res = run(scenario(storage={"capacitance": c, "esr": "1 ohm", "series": series, "parallel": parallel,
                                "initial_voltage": 2.5 * series},
                       load=[{"type": "constant", "current": i}],
                       simulation={"duration": "10 s", "record_every": "1 s"}))
    c_pack, r_pack = c * parallel / series, 1.0 * series / parallel
    t, v = res.column("time_s"), res.column("voltage_V")
    expected = 2.5 * series - i * t / c_pack - i * r_pack
    assert v[1:] == pytest.approx(expected[1:], rel=1e-9)
    assert res.summary["energy_stored_start_J"] == pytest.approx(0.5 * c_pack * (2.5 * series) ** 2, rel=1e-12)
    balance_ok(res)
