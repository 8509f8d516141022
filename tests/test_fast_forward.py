"""Fast-forward equals event-by-event stepping (issue 6): every recorded sample within 1e-6 V,
the first brown-out within one load period, and the same ledger; with crossings inside
fast-forwarded stretches."""
import numpy as np
import pytest

from conftest import balance_ok, run, scenario

BLE = {"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
       "phases": [{"current": "3 mA", "duration": "0.3 ms"}, {"current": "5.3 mA", "duration": "1.2 ms"},
                  {"current": "3 mA", "duration": "0.5 ms"}]}
SENSOR = {"type": "periodic", "name": "sensor", "period": "60 s", "phases": [{"current": "0.7 mA", "duration": "10 ms"}]}
TWO_BRANCH = {"capacitance": "0.2 F", "esr": "2 ohm", "leakage_resistance": "1 Mohm",
              "branches": [{"capacitance": "0.1 F", "resistance": "100 ohm"}]}

CASES = {
    # a long discharge: the brown-out falls inside a fast-forwarded stretch of thousands of cycles
    "brownout-inside-stretch": scenario(
        storage={**TWO_BRANCH, "v_min": "1.8 V", "initial_voltage": "3.0 V"},
        load=[BLE], simulation={"duration": "2 d", "record_every": "10 min"}),
    # charge by day, over-voltage throttling, brown-out at night, two duty cycles merged (60 s)
    "charge-overvoltage-night": scenario(
        storage={"capacitance": "0.05 F", "esr": "2 ohm", "leakage_resistance": "1 Mohm",
                 "branches": [{"capacitance": "0.02 F", "resistance": "500 ohm"}], "v_min": "1.8 V",
                 "v_max": "3.3 V", "initial_voltage": "2.0 V"},
        harvester=[{"type": "current", "current": "60 uA",
                    "steps": [{"at": "10 h", "current": "0 A"}, {"at": "20 h", "current": "60 uA"}]}],
        load=[BLE, SENSOR], simulation={"duration": "2 d", "record_every": "7 min"}),
    # a thin-film-like battery: OCV knees are crossings inside stretches, then a brown-out loop
    "battery-knees": scenario(
        storage={"model": "battery", "capacity": "0.05 mAh", "r0": "100 ohm",
                 "ocv": [[0, 3.0], [0.1, 3.6], [0.5, 3.85], [0.9, 4.0], [1, 4.1]],
                 "rc": [{"resistance": "200 ohm", "capacitance": "1 mF"}, {"resistance": "500 ohm", "capacitance": "0.5 F"}],
                 "initial_soc": 0.95, "v_min": "3.0 V", "capacitance": None, "initial_voltage": None},
        load=[{"type": "periodic", "period": "10 s", "base_current": "1 uA", "phases": [{"current": "0.5 mA", "duration": "5 ms"}]}],
        simulation={"duration": "2 d", "record_every": "13 min"}),
    # constant-power load behind a converter: stretches with frozen power, same on both paths
    "constant-power-pulses": scenario(
        storage={**TWO_BRANCH, "v_min": "1.8 V", "initial_voltage": "3.0 V"},
        load=[{"type": "constant", "power": "20 uW"}, BLE],
        simulation={"duration": "1 d", "record_every": "9 min"}),
    # a 3-series pack judged per cell
    "pack": scenario(
        storage={"capacitance": "0.1 F", "esr": "1 ohm", "series": 3, "parallel": 2, "initial_voltage": "8 V",
                 "v_min": "2.0 V", "v_max": "2.8 V"},
        harvester=[{"type": "current", "current": "30 uA"}], load=[BLE],
        simulation={"duration": "1 d", "record_every": "11 min"}),
}


def _both(data):
    out = {}
    for method in ("event", "fast-forward"):
        d = dict(data)
        d["simulation"] = dict(data["simulation"], method=method)
        out[method] = run(d)
    return out["event"], out["fast-forward"]


@pytest.mark.parametrize("name", list(CASES))
def test_fast_forward_equals_event_stepping(name):
    _assert_same(*_both(CASES[name]))


def test_fast_forward_equals_event_stepping_with_minute_light_through_a_pmic(tmp_path):
    """Minute light segments are 3.75 cycles of a BQ25570's 16 s MPPT cycle merged with 1 s BLE
    pulses: each segment ends with a part-cycle whose whole phases the fast-forward jumps; the
    morning charge reaches the over-voltage hold and the evening brings the store down again."""
    minutes = np.arange(6 * 60)
    rng = np.random.default_rng(6)
    irradiance = np.clip(700.0 * np.sin(np.pi * minutes / len(minutes)) * rng.uniform(0.4, 1.2, len(minutes)), 0, None)
    irradiance[:20] = 0.0
    data = _pv_pmic_node(tmp_path, "min", minutes, irradiance, ("22 mF", "10 mF", "2.6 V"), "6 h", "7 min")
    event, ff = _both(data)
    _assert_same(event, ff)
    assert ff.summary["events_stepped"] < ff.summary["events"] / 20
    assert ff.summary["max_voltage_V"] > 4.0  # the hold was reached


def test_samples_in_jumped_cycles_and_on_light_boundaries(tmp_path):
    """Recorded every 10 min under hourly light through a PMIC: samples fall inside cycles the
    fast-forward jumps (taken from the closed-form state), and a sample at a light change belongs
    to the new light level on both paths, also when a threshold crossing started the regime at a
    time off the nanosecond grid."""
    hours = np.arange(240)
    rng = np.random.default_rng(11)
    daylight = np.clip(np.sin(np.pi * ((hours % 24) - 6) / 12), 0, None)
    irradiance = 800.0 * daylight * rng.uniform(0.2, 1.0, len(hours))
    data = _pv_pmic_node(tmp_path, "h", hours, irradiance, ("47 mF", "20 mF", "2.2 V"), "10 d", "10 min")
    event, ff = _both(data)
    _assert_same(event, ff)
    assert ff.summary["events_stepped"] < ff.summary["events"] / 100
    for result in (event, ff):
        t, p_in = result.column("time_s"), result.column("pmic_input_W")
        on_hour = np.flatnonzero(np.isclose(t[:-1] % 3600, 0.0))
        assert len(on_hour) == 240
        np.testing.assert_array_equal(p_in[on_hour], p_in[on_hour + 1])


def _pv_pmic_node(folder, unit, times, irradiance, caps, duration, record_every):
    """A 1 cm² c-Si cell on a light trace (``time_<unit>``) through a BQ25570 into a two-branch
    supercap (``caps``: main and branch capacitance, initial voltage) under the BLE load."""
    trace = folder / "light.csv"
    trace.write_text(f"time_{unit},irradiance_W_m2\n" + "".join(f"{t},{v:.3f}\n" for t, v in zip(times, irradiance)))
    main, branch, v0 = caps
    return scenario(
        storage={"capacitance": main, "esr": "0.5 ohm", "leakage_resistance": "500 kohm",
                 "branches": [{"capacitance": branch, "resistance": "50 ohm"}], "v_min": "2.0 V",
                 "v_max": "4.2 V", "initial_voltage": v0},
        harvester=[{"type": "pv", "name": "pv", "preset": "indoor-csi", "area": "1 cm^2",
                    "light": {"trace": str(trace), "source": "sun"}}],
        pmic={"preset": "bq25570", "v_ov": "4.1 V"}, load=[BLE],
        simulation={"duration": duration, "record_every": record_every})


def _assert_same(event, ff):
    assert event.columns == ff.columns and len(event.rows) == len(ff.rows)
    np.testing.assert_array_equal(event.column("time_s"), ff.column("time_s"))
    assert np.max(np.abs(event.column("voltage_V") - ff.column("voltage_V"))) <= 1e-6
    se, sf = event.summary, ff.summary
    assert se["brownouts"] == sf["brownouts"]
    if se["first_brownout_s"] is not None:
        assert abs(se["first_brownout_s"] - sf["first_brownout_s"]) < 1.0  # within one load period
    for key in ("final_voltage_V", "min_voltage_V", "max_voltage_V"):
        assert sf[key] == pytest.approx(se[key], abs=1e-6), key
    for key in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J"):
        assert sf[key] == pytest.approx(se[key], rel=1e-7, abs=1e-12), key
    # the same segments; a crossing the two paths place a few ps apart may fall either side of a
    # phase edge and split it into one more segment (a skipped cycle would be 17+ segments off)
    assert abs(sf["events"] - se["events"]) <= len(event.events)
    balance_ok(event)
    balance_ok(ff)


def test_fast_forward_really_jumps_and_finds_the_crossing_inside():
    event, ff = _both(CASES["brownout-inside-stretch"])
    assert event.summary["events_stepped"] == event.summary["events"]
    assert ff.summary["events_stepped"] < ff.summary["events"] / 20
    assert 0 < ff.summary["first_brownout_s"] < 2 * 86400
    assert ff.summary["first_brownout_s"] == pytest.approx(event.summary["first_brownout_s"], abs=1e-6)
