"""Samples inside a jumped range are closed forms (sysim.engine.jumpsamples): every row of a run
recorded every 37 s (so that the samples fall on every part of the 60 s cycle) equals the event
path's, its cumulative energy columns included, and each
row balances on its own (harvested − to loads − lost = stored − stored at the start)."""
import numpy as np
import pytest

import sysim.engine.fastforward as fastforward
from conftest import run, scenario

BLE = {"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
       "phases": [{"current": "3 mA", "duration": "0.3 ms"}, {"current": "5.3 mA", "duration": "1.2 ms"},
                  {"current": "3 mA", "duration": "0.5 ms"}]}
SENSOR = {"type": "periodic", "name": "sensor", "period": "60 s", "phases": [{"current": "0.7 mA", "duration": "10 ms"}]}
STORE = {"capacitance": "0.2 F", "esr": "2 ohm", "leakage_resistance": "1 Mohm",
         "branches": [{"capacitance": "0.1 F", "resistance": "100 ohm"}], "v_min": "1.8 V", "initial_voltage": "3.0 V"}

CASES = {
    # a harvester by day, darkness after 5 h: hours of cycles that are jumped whole
    "current-source-then-dark": scenario(
        storage=STORE, harvester=[{"type": "current", "current": "40 uA", "steps": [{"at": "5 h", "current": "0 A"}]}],
        load=[BLE, SENSOR], simulation={"duration": "12 h", "record_every": "37 s"}),
    # a constant-power load: its stretches are frozen, and samples inside them sit on the curve
    "constant-power": scenario(
        storage=STORE, harvester=[{"type": "current", "current": "10 uA"}],
        load=[{"type": "constant", "power": "5 uW"}, BLE],
        simulation={"duration": "6 h", "record_every": "37 s"}),
}


def _counted(monkeypatch):
    taken = []
    original = fastforward.take_samples

    def counting(ff, cycles):
        before = ff.st.sampler.rows_recorded
        original(ff, cycles)
        taken.append(ff.st.sampler.rows_recorded - before)

    monkeypatch.setattr(fastforward, "take_samples", counting)
    return taken


@pytest.mark.parametrize("name", list(CASES))
def test_rows_inside_jumps_equal_the_event_path_and_balance(name, monkeypatch):
    data = CASES[name]
    event = run({**data, "simulation": dict(data["simulation"], method="event")})
    taken = _counted(monkeypatch)
    ff = run({**data, "simulation": dict(data["simulation"], method="fast-forward")})
    assert sum(taken) > 0.8 * len(ff.rows)  # nearly every row came from the closed forms
    hours = {"current-source-then-dark": 12, "constant-power": 6}[name]
    assert len(ff.rows) == len(event.rows) == hours * 3600 // 37 + 2  # and a row at the end
    np.testing.assert_array_equal(ff.column("time_s"), event.column("time_s"))
    assert np.max(np.abs(ff.column("voltage_V") - event.column("voltage_V"))) <= 1e-6
    for key in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J", "stored_energy_J"):
        a, b = ff.column(key), event.column(key)
        scale = np.max(np.abs(b))
        assert scale > 0, key
        assert np.max(np.abs(a - b)) <= 1e-7 * scale, key
    stored0 = ff.summary["energy_stored_start_J"]
    for result in (ff, event):
        balance = (result.column("energy_harvested_J") - result.column("energy_to_loads_J")
                   - result.column("energy_lost_J") - (result.column("stored_energy_J") - stored0))
        assert np.max(np.abs(balance)) <= 1e-9 * stored0
