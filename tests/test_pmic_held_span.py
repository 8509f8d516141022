"""A store held full by a PMIC across light changes (harvesters.pmic, Pmic.held_span): while every
light segment can cover what the hold delivers, the segments are one regime. The store must then
follow the same trajectory as under constant light (the hold delivers the same power), and the
bookkeeping must still be each segment's own: converter loss at that segment's efficiency, MPPT
sampling loss at its input power for the sampling time that falls in it."""
import numpy as np
import pytest

import sysim
from conftest import balance_ok
from harvesters.pmic import Pmic
from sysim.node import build_node

MINUTES = 180
BLE = {"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
       "phases": [{"current": "3 mA", "duration": "0.3 ms"}, {"current": "5.3 mA", "duration": "1.2 ms"},
                  {"current": "3 mA", "duration": "0.5 ms"}]}


def _node(tmp_path, name, power_uW):
    trace = tmp_path / f"{name}.csv"
    trace.write_text("time_min,power_uW\n" + "".join(f"{m},{p}\n" for m, p in enumerate(power_uW)))
    return {"simulation": {"duration": f"{MINUTES} min", "record_every": "1 min"},
            "storage": {"model": "supercap", "capacitance": "0.1 F", "esr": "0.5 ohm",
                        "leakage_resistance": "500 kohm", "branches": [{"capacitance": "0.05 F", "resistance": "50 ohm"}],
                        "initial_voltage": "4.1 V", "v_min": "2.0 V", "v_max": "4.2 V"},
            "harvester": [{"type": "trace", "name": "src", "file": str(trace), "voltage": "1 V"}],
            "pmic": {"preset": "bq25570", "v_ov": "4.1 V"}, "load": [BLE]}


def _run(data):
    scenario = sysim.from_dict(data)
    pmic = next(c for c in build_node(scenario).components if isinstance(c, Pmic))
    return sysim.simulate(scenario), pmic.p


def test_held_store_follows_constant_light_and_books_each_segment(tmp_path):
    steady, _ = _run(_node(tmp_path, "steady", [500.0] * MINUTES))
    power_uW = np.where(np.arange(MINUTES) % 3 == 0, 500.0, np.where(np.arange(MINUTES) % 3 == 1, 900.0, 700.0))
    varying, p = _run(_node(tmp_path, "varying", power_uW))
    for res in (steady, varying):
        assert res.summary["pmic_state_final"] == "full"
        balance_ok(res)
    # the hold delivers what the loads and the leak need, whatever the light above that
    v_steady, v_varying = steady.column("voltage_V"), varying.column("voltage_V")
    assert np.max(np.abs(v_varying - v_steady)) < 5e-6
    assert abs(v_varying[-1] - v_steady[-1]) < 1e-6
    # every light level shows in the trace at its own minute
    np.testing.assert_array_equal(varying.column("pmic_input_W")[:-1], power_uW * 1e-6)

    led = varying.ledger
    t = np.arange(MINUTES + 1) * 60.0
    p_in = power_uW * 1e-6
    # MPPT sampling: the first mppt_sample_time of every mppt_period, at each minute's input power
    def sampled_before(x):
        whole = np.floor(x / p.mppt_period)
        return whole * p.mppt_sample_time + np.minimum(x - whole * p.mppt_period, p.mppt_sample_time)
    sampling = float(np.sum(p_in * np.diff(sampled_before(t))))
    assert led["lost/mppt_sampling/pmic"] == pytest.approx(sampling, rel=1e-12)
    # the boost delivers a constant power, so each minute gets 1/MINUTES of it, at its efficiency
    # (the first minute is its own regime: the hold's power is known only after it, and differs
    # from the held run's by parts in 1e-7; a wrong weighting would be off by percents)
    converter = led["lost/converter/pmic"]
    delivered = led["harvested/src"] - sampling - converter
    inv_eta = np.array([1.0 / p.boost(1.0, q) for q in p_in])
    assert converter == pytest.approx(delivered / MINUTES * float(np.sum(inv_eta - 1.0)), rel=1e-6)
    # and the store received what it received under constant light
    steady_delivered = steady.ledger["harvested/src"] - steady.ledger["lost/mppt_sampling/pmic"] \
        - steady.ledger["lost/converter/pmic"]
    assert delivered == pytest.approx(steady_delivered, rel=1e-6)


def test_a_dim_minute_ends_the_held_run(tmp_path):
    """A minute too dim to cover the hold: the store falls through it, as it would if each minute
    were its own regime; the held run resumes after it."""
    power_uW = [600.0] * 60 + [0.5] * 30 + [600.0] * 90
    res, p = _run(_node(tmp_path, "dim", power_uW))
    v = res.column("voltage_V")
    assert v[89] < v[59] - 1e-4          # the dark half hour drains the store
    assert v[-1] > v[89]                 # and the light after it brings it back
    assert np.all(np.diff(v[61:90]) < 0)
    balance_ok(res)


@pytest.mark.parametrize("chunk_s", [600.0, 37.0])
def test_regimes_cut_inside_a_held_run_book_each_segment(tmp_path, chunk_s):
    """A live display's chunks (or firmware wake-ups, or crossings) end regimes inside a held run:
    each regime's part is booked with its own segments' figures, so the bookkeeping does not depend
    on where the regimes end (a run's mean over the whole run would be off by 1e-3 here)."""
    from sysim.api import prepare

    power_uW = np.where(np.arange(MINUTES) % 3 == 0, 500.0, np.where(np.arange(MINUTES) % 3 == 1, 900.0, 700.0))
    scenario = sysim.from_dict(_node(tmp_path, "varying", power_uW))
    whole = prepare(scenario).run()
    cut = prepare(scenario, chunk_s=chunk_s).run()
    assert cut.ledger["lost/mppt_sampling/pmic"] == pytest.approx(whole.ledger["lost/mppt_sampling/pmic"], rel=1e-12)
    for account in ("harvested/src", "lost/converter/pmic", "to_loads/ble"):
        assert cut.ledger[account] == pytest.approx(whole.ledger[account], rel=2e-5), account
    # (constant-power stretches frozen over other spans: microvolts)
    assert np.max(np.abs(cut.rows[:, 1] - whole.rows[:, 1])) < 1e-5


def test_a_load_change_inside_a_held_run_books_each_part_at_its_power(tmp_path, monkeypatch):
    """A load that runs for the second hour changes what the hold delivers in the middle of a held
    run; the converter loss of each part must use that part's delivered power and segments, as a
    run of one regime per minute does."""
    import harvesters.pmic as pmic_module

    power_uW = [500.0] * 60 + [900.0] * 60 + [700.0] * 60
    data = _node(tmp_path, "hours", power_uW)
    burst = tmp_path / "burst.csv"
    burst.write_text("time_s,current_A\n0,30e-6\n3600,0\n")
    data["load"].append({"type": "trace", "name": "burst", "file": str(burst), "repeat": False, "offset": "1 h"})
    runs, _ = _run(data)
    monkeypatch.setattr(pmic_module, "HELD_POWER_MARGIN", 1e9)  # no held runs: a regime per minute
    minutes, _ = _run(data)
    for res in (runs, minutes):
        balance_ok(res)
    assert runs.ledger["lost/mppt_sampling/pmic"] == pytest.approx(minutes.ledger["lost/mppt_sampling/pmic"], rel=1e-12)

    def converter_per_delivered(led):
        delivered = led["harvested/src"] - led["lost/mppt_sampling/pmic"] - led["lost/converter/pmic"]
        return led["lost/converter/pmic"] / delivered

    # the split of the delivered energy by efficiency: 1.3e-7 apart (1.6e-2 if the run's mean were
    # booked for every part); the energies themselves differ by what re-solving the throttle
    # every minute does to the trajectory (parts in 1e-5)
    assert converter_per_delivered(runs.ledger) == pytest.approx(converter_per_delivered(minutes.ledger), rel=1e-6)
    for account in ("harvested/src", "lost/converter/pmic", "to_loads/burst"):
        assert runs.ledger[account] == pytest.approx(minutes.ledger[account], rel=1e-4), account
