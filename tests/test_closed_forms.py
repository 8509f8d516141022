"""The engine against closed-form solutions (models-and-numerics.md §1.1, §1.3, §2.1, §5.2): 1e-9 relative."""
import math

import numpy as np
import pytest

from conftest import balance_ok, run, scenario

REL = 1e-9


def test_capacitor_under_constant_current_falls_linearly():
    c, i, v0 = 0.01, 1e-3, 3.0
    res = run(scenario(storage={"capacitance": c}, load=[{"type": "constant", "current": i}],
                       simulation={"duration": "10 s", "record_every": "1 s"}))
    t, v = res.column("time_s"), res.column("voltage_V")
    np.testing.assert_allclose(v, v0 - i * t / c, rtol=REL)
    assert res.summary["final_voltage_V"] == pytest.approx(v0 - i * 10 / c, rel=REL)
    balance_ok(res)


def test_rc_leak_decays_exponentially():
    c, rp, v0 = 0.01, 1e4, 3.0
    res = run(scenario(storage={"capacitance": c, "leakage_resistance": rp},
                       simulation={"duration": "500 s", "record_every": "10 s"}))
    t, v = res.column("time_s"), res.column("voltage_V")
    np.testing.assert_allclose(v, v0 * np.exp(-t / (rp * c)), rtol=REL)
    # energy dissipated in the leak equals the energy the capacitor lost: ½C(v0² - v²)
    lost = res.summary["energy_lost_J"]
    assert lost == pytest.approx(0.5 * c * (v0 ** 2 - v[-1] ** 2), rel=REL)
    balance_ok(res)


def _two_branch_charge(c0, c1, r, i, t):
    """Node and branch voltages of C0 ‖ (R + C1), both empty, charged at constant current i."""
    ctot, tau = c0 + c1, r * c0 * c1 / (c0 + c1)
    mean = i * t / ctot
    diff = i * tau / c0 * (1 - math.exp(-t / tau))
    return mean + diff * c1 / ctot, mean - diff * c0 / ctot


def test_two_branch_supercap_sags_to_the_charge_weighted_mean_after_charging():
    c0, c1, r, esr, i, t_charge = 0.01, 0.02, 200.0, 1.0, 2e-3, 10.0
    res = run(scenario(
        storage={"capacitance": c0, "esr": esr, "branches": [{"capacitance": c1, "resistance": r}],
                 "initial_voltage": "0 V"},
        harvester=[{"type": "current", "current": i, "steps": [{"at": t_charge, "current": 0}]}],
        simulation={"duration": "100 s", "record_every": "2 s"}))
    v0_stop, v1_stop = _two_branch_charge(c0, c1, r, i, t_charge)
    mean = (c0 * v0_stop + c1 * v1_stop) / (c0 + c1)
    tau = r * c0 * c1 / (c0 + c1)
    t, v = res.column("time_s"), res.column("voltage_V")
    charging = t < t_charge
    expected_charge = np.array([_two_branch_charge(c0, c1, r, i, tt)[0] for tt in t[charging]]) + i * esr
    np.testing.assert_allclose(v[charging][1:], expected_charge[1:], rtol=REL)
    after = t >= t_charge
    expected_after = mean + (v0_stop - mean) * np.exp(-(t[after] - t_charge) / tau)
    np.testing.assert_allclose(v[after], expected_after, rtol=REL)
    # the sag is real: the terminal ends well below where charging left it, at the mean
    assert v[-1] < v0_stop - 0.05
    assert v[-1] == pytest.approx(mean, rel=1e-6)
    balance_ok(res)


def test_two_branch_supercap_rebounds_after_a_discharge():
    res = run(scenario(
        storage={"capacitance": "10 mF", "esr": "1 ohm", "branches": [{"capacitance": "10 mF", "resistance": "100 ohm"}]},
        load=[{"type": "periodic", "period": "100 s", "phases": [{"current": "5 mA", "duration": "10 s"}]}],
        simulation={"duration": "99 s", "record_every": "1 s"}))
    t, v = res.column("time_s"), res.column("voltage_V")
    after = v[t >= 11]
    assert np.all(np.diff(after[:8]) > 0)  # rebounds while the charge redistributes
    assert after[0] < after[-1] - 0.01
    assert after[-1] == pytest.approx(3.0 - 5e-3 * 10 / 0.02, rel=1e-4)  # to the mean after the pulse


def test_battery_under_constant_current_inside_one_ocv_piece():
    cap = 3.6 * 10  # 10 mAh in C
    r0, r1, c1, r2, c2, i = 20.0, 30.0, 10.0, 50.0, 200.0, 2e-3
    ocv = [[0.0, 3.0], [0.2, 3.5], [0.9, 4.0], [1.0, 4.2]]
    res = run(scenario(storage={"model": "battery", "capacity": "10 mAh", "ocv": ocv, "r0": r0,
                                "rc": [{"resistance": r1, "capacitance": c1}, {"resistance": r2, "capacitance": c2}],
                                "initial_soc": 0.8, "capacitance": None, "initial_voltage": None},
                       load=[{"type": "constant", "current": i}],
                       simulation={"duration": "1 h", "record_every": "1 min"}))
    t, v = res.column("time_s"), res.column("voltage_V")
    slope = (4.0 - 3.5) / (0.7 * cap)
    q = 0.8 * cap - i * t
    expected = 3.5 + slope * (q - 0.2 * cap) - i * r0 - i * r1 * (1 - np.exp(-t / (r1 * c1))) \
        - i * r2 * (1 - np.exp(-t / (r2 * c2)))
    np.testing.assert_allclose(v, expected, rtol=REL)
    assert res.column("soc")[-1] == pytest.approx((0.8 * cap - i * 3600) / cap, rel=REL)
    balance_ok(res)


def test_battery_self_discharge_follows_the_stated_loss_per_year():
    res = run(scenario(storage={"model": "battery", "capacity": "1 mAh", "ocv": [[0, 3.0], [1, 4.0]],
                                "self_discharge": "10 %/yr", "initial_soc": 1.0, "capacitance": None,
                                "initial_voltage": None},
                       simulation={"duration": "365.25 d", "record_every": "1 d"}))
    assert res.column("soc")[-1] == pytest.approx(0.9, rel=REL)
    balance_ok(res)


def test_brownout_time_under_constant_current_equals_the_closed_form():
    c, esr, i, v0, vmin = 0.01, 5.0, 1e-3, 3.0, 1.8
    res = run(scenario(storage={"capacitance": c, "esr": esr, "v_min": vmin},
                       load=[{"type": "constant", "current": i}],
                       simulation={"duration": "30 s", "record_every": "1 s"}))
    expected = c * (v0 - i * esr - vmin) / i
    assert res.summary["first_brownout_s"] == pytest.approx(expected, rel=REL)
    assert res.summary["brownouts"] == 1


def test_brownout_time_with_leakage_equals_the_closed_form():
    c, rp, i, v0, vmin = 0.01, 2e3, 0.5e-3, 3.0, 1.8
    res = run(scenario(storage={"capacitance": c, "leakage_resistance": rp, "v_min": vmin},
                       load=[{"type": "constant", "current": i}],
                       simulation={"duration": "60 s", "record_every": "1 s"}))
    v_inf = -i * rp
    expected = rp * c * math.log((v0 - v_inf) / (vmin - v_inf))
    assert res.summary["first_brownout_s"] == pytest.approx(expected, rel=REL)
