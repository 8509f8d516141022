"""The storage example scenarios run, close their energy ledger, and show what they say they show."""
from pathlib import Path

import numpy as np
import pytest

import sysim
from conftest import balance_ok

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_nimc_office_sensor_charges_by_day_and_sags_after_the_charge():
    res = sysim.simulate(EXAMPLES / "nimc-office-sensor.toml", duration=86400.0, record_every=120.0)
    balance_ok(res)
    t, v = res.column("time_s"), res.column("voltage_V")
    day = (t > 8 * 3600) & (t < 18 * 3600)
    assert v[day].max() > 3.3  # the day's harvest fills it towards v_max
    quiet = res.column("current_A") < 1e-6  # samples between the sensor's pulses
    evening = (t > 18 * 3600 + 600) & (t < 20 * 3600) & quiet
    assert np.all(np.diff(v[evening]) < 0)  # redistribution and leakage after the charge stops
    assert "branch1_V" in res.columns


def test_thin_film_cell_browns_out_only_while_it_is_cold():
    res = sysim.simulate(EXAMPLES / "thin-film-cold-snap.toml", duration=18.5 * 3600.0, record_every=300.0)
    balance_ok(res)
    assert res.summary["brownouts"] > 0
    assert res.summary["first_brownout_s"] == pytest.approx(18 * 3600.0, abs=60.0)  # the first burst at -10 °C


def test_mismatched_pack_example_shows_both_cells_and_balancing_holds_them():
    res = sysim.simulate(EXAMPLES / "dmh-pack-balancing.toml", duration=2 * 86400.0)
    balance_ok(res)
    v1, v2 = res.column("cell1_V"), res.column("cell2_V")
    np.testing.assert_allclose(v1 + v2, res.column("voltage_V"), rtol=1e-9)
    scenario = sysim.load(EXAMPLES / "dmh-pack-balancing.toml")
    drifting = sysim.simulate(scenario.with_changes({"storage.balancing_resistance": None}), duration=2 * 86400.0)
    balance_ok(drifting)
    assert abs(drifting.column("cell1_V")[-1] - drifting.column("cell2_V")[-1]) > 3 * abs(v1[-1] - v2[-1])
