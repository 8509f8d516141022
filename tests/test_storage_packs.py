"""Packs of individual cells: cell-to-cell spread, per-cell protection, parallel current sharing,
passive balancing, and the exact equality with the identical-cell collapse when there is no spread."""
import math

import numpy as np
import pytest

import sysim
from conftest import balance_ok
from device_models.base import IdenticalPack
from device_models.battery import Battery, BatteryParameters, RCPair
from device_models.pack import Pack, Spread
from device_models.supercap import Branch, Supercap, SupercapParameters
from harvesters.current import CurrentHarvester
from loads.basic import PeriodicLoad
from sysim.errors import ScenarioError
from storage_helpers import balance_error, run_components, storage_model


def _pack_run(storage, simulation, **tables):
    return sysim.simulate(sysim.from_dict({"simulation": simulation, "storage": storage, **tables}))


def test_series_pair_with_capacitance_spread_the_smaller_cell_reaches_v_max_first():
    seed = 2
    f1, f2 = (f["capacitance"] for f in Spread(capacitance=0.05, seed=seed).factors(2))
    assert abs(f1 - f2) > 0.02  # a visible spread for this seed
    c, i, v_max = 0.01, 1e-3, 2.5
    res = _pack_run({"model": "supercap", "capacitance": c, "esr": "1 ohm", "series": 2, "initial_voltage": "0 V",
                     "v_max": v_max, "mismatch": {"capacitance": "5 %", "seed": seed}},
                    {"duration": "80 s", "record_every": "1 s"},
                    harvester=[{"type": "current", "current": i}])
    assert "cell1_V" in res.columns and "cell2_V" in res.columns
    small, large = ("cell1_V", "cell2_V") if f1 < f2 else ("cell2_V", "cell1_V")
    # cells in one string carry the same current: each rises as I·t/C_k exactly
    t_ov = c * min(f1, f2) * v_max / i
    ov = [e for e in res.events if "over-voltage" in e.message]
    assert ov and ov[0].t == pytest.approx(t_ov, rel=1e-9)
    t = res.column("time_s")
    after = t > t_ov + 1
    v_small, v_large = res.column(small), res.column(large)
    assert np.all(v_small[after] == pytest.approx(v_max, abs=1e-9))  # charging stopped at the first cell
    assert np.all(v_large[after] < v_max - 0.05)
    before = t < t_ov
    np.testing.assert_allclose(v_small[before], i * t[before] / (c * min(f1, f2)) + i * 1.0, rtol=1e-9, atol=1e-12)
    balance_ok(res)


def test_brownout_is_judged_on_the_weakest_cell():
    # a 3s battery string with a capacity spread: the pack browns out exactly when its weakest
    # cell alone would, while the average cell is still well above v_min
    storage = {"model": "battery", "capacity": "1 mAh", "chemistry": "lco-lipon", "r0": "20 ohm", "series": 3,
               "v_min": "3.5 V", "mismatch": {"capacity": "8 %", "seed": 3}}
    res = _pack_run(storage, {"duration": "2 h", "record_every": "1 min"},
                    load=[{"type": "constant", "current": "1 mA"}])
    factors = [f["capacity"] for f in Spread(capacity=0.08, seed=3).factors(3)]
    weakest = {"model": "battery", "capacity": 3.6 * min(factors), "chemistry": "lco-lipon", "r0": "20 ohm",
               "v_min": "3.5 V"}
    alone = _pack_run(weakest, {"duration": "2 h", "record_every": "1 min"},
                      load=[{"type": "constant", "current": "1 mA"}])
    assert res.summary["first_brownout_s"] == pytest.approx(alone.summary["first_brownout_s"], rel=1e-9)
    t_b = res.summary["first_brownout_s"]
    row = np.searchsorted(res.column("time_s"), t_b) - 1
    assert res.column("voltage_V")[row] / 3 > 3.55
    balance_ok(res)


def test_parallel_strings_share_current_by_their_resistances():
    # 1s2p: C1 = 10 mF / R1 = 1 Ω and C2 = 20 mF / R2 = 3 Ω under a constant current. The pack's
    # instantaneous resistance is R1‖R2; in steady state each cell carries I·C_k/(C1 + C2), so the
    # node voltages differ by I·(C1·R1 − C2·R2)/(C1 + C2)
    cells = [Supercap(SupercapParameters(0.01, 1.0), 3.0), Supercap(SupercapParameters(0.02, 3.0), 3.0)]
    pack = Pack(cells, 1, 2)
    assert pack.modal().series_resistance == pytest.approx(0.75, rel=1e-12)
    i = 1e-3
    load = PeriodicLoad("load", 1.0, i, [])
    sim, raw = run_components(pack, [load], 600.0)
    z = sim.stepper.z
    system = pack.modal()
    nodes = [system.output(f"cell{k}.node").value(z) for k in (1, 2)]
    assert nodes[0] - nodes[1] == pytest.approx(i * (0.01 * 1.0 - 0.02 * 3.0) / 0.03, rel=1e-6)
    assert raw.summary["final_voltage_V"] == pytest.approx(3.0 - i * 600 / 0.03 - i * 0.75 + i * (0.75 - 0.75), abs=1e-3)
    assert balance_error(raw) < 1e-9


def test_balancing_resistors_hold_a_leaky_string_together():
    # two cells whose leakage differs 2×, 2 days on open circuit: without balancing they drift
    # apart; a 10× smaller balancing resistor across each cell holds them together. Each cell
    # decays on its own here: v = v0·exp(-t/(C·(R_leak ‖ (R_b + ESR))))
    def cell(r_leak):
        return Supercap(SupercapParameters(0.1, 0.5, r_leak), 2.5)
    duration = 2 * 86400.0
    for r_bal in (math.inf, 1e5):
        pack = Pack([cell(1e6), cell(2e6)], 2, 1, r_bal)
        sim, raw = run_components(pack, [], duration)
        system = pack.modal()
        v = [system.output(f"cell{k}").value(sim.stepper.z) for k in (1, 2)]
        for volts, r_leak in zip(v, (1e6, 2e6)):
            g = 1 / r_leak + (0.0 if math.isinf(r_bal) else 1 / (r_bal + 0.5))
            assert volts == pytest.approx(2.5 * math.exp(-duration * g / 0.1), rel=1e-9)
        spread = abs(v[0] - v[1])
        if math.isinf(r_bal):
            assert spread > 0.3
        else:
            assert spread < 0.01
        assert balance_error(raw) < 1e-9


def _supercap(v0=2.4):
    return Supercap(SupercapParameters(0.01, 2.0, 5e5, (Branch(0.005, 300.0),)), v0)


def _lfp(hysteresis=True):
    params = BatteryParameters(3.6, ((0.0, 2.5), (0.1, 3.2), (0.5, 3.3), (0.9, 3.34), (1.0, 3.6)), 10.0,
                               (RCPair(20.0, 5.0),), 0.02, 0.015 if hysteresis else 0.0, 20.0 if hysteresis else 0.0,
                               0.001)
    return Battery(params, 0.6)


@pytest.mark.parametrize("make,series,parallel", [
    (_supercap, 2, 2),                          # coupled network
    (_supercap, 3, 1),                          # uncoupled string
    (lambda: _lfp(True), 3, 1),                 # string with hysteresis and fade
    (lambda: _lfp(False), 1, 3),                # parallel batteries with fade
])
def test_a_pack_of_identical_cells_equals_the_exact_collapse(make, series, parallel):
    count = series * parallel
    runs = []
    for model in (IdenticalPack(make(), series, parallel), Pack([make() for _ in range(count)], series, parallel)):
        scale = series * 2.4
        parts = [CurrentHarvester("source", 2e-3, [(0.0, 2e-3), (900.0, 0.0)]),
                 PeriodicLoad("sink", 10.0, 1e-4, [(3e-3 * parallel, 1.0)])]
        sim, raw = run_components(model, parts, 3600.0, record_every=60.0)
        assert balance_error(raw) < 1e-9
        runs.append((raw, scale))
    (a, _), (b, _) = runs
    np.testing.assert_allclose(b.rows[:, 1], a.rows[:, 1], rtol=1e-9)  # terminal voltage
    for key in ("min_voltage_V", "max_voltage_V", "energy_lost_J", "energy_stored_end_J"):
        assert b.summary[key] == pytest.approx(a.summary[key], rel=1e-9), key


def test_zero_mismatch_collapses_and_seeds_are_reproducible():
    base = {"model": "supercap", "capacitance": "10 mF", "esr": "1 ohm", "series": 2, "parallel": 2}
    model, _ = storage_model({**base, "mismatch": {"capacitance": "0 %"}})
    assert isinstance(model, IdenticalPack)
    a, _ = storage_model({**base, "mismatch": {"capacitance": "10 %", "seed": 4}})
    b, _ = storage_model({**base, "mismatch": {"capacitance": "10 %", "seed": 4}})
    c, _ = storage_model({**base, "mismatch": {"capacitance": "10 %", "seed": 5}})
    caps = [[cell.params.capacitance for cell in m.cells] for m in (a, b, c)]
    assert caps[0] == caps[1] and caps[0] != caps[2]
    assert len(set(caps[0])) == 4


def test_hysteresis_cannot_be_shared_between_parallel_strings():
    with pytest.raises(ScenarioError, match="hysteresis"):
        storage_model({"model": "battery", "capacity": "1 mAh", "chemistry": "lfp", "r0": "1 ohm", "parallel": 2,
                       "hysteresis": {"voltage": "10 mV", "rate": 20}, "mismatch": {"capacity": "5 %"}})


def test_parallel_nonlinear_cells_through_a_temperature_step_close_the_ledger():
    # two mismatched NTO//AG cells (C(v) knots on each) in parallel, cycled through a step from
    # 25 °C to 47 °C: knot events of either cell, re-linearised pack, exact ledger
    from storage_helpers import gcd
    storage = {"preset": "nto-ag-nimc", "parallel": 2,
               "mismatch": {"capacitance": "10 %", "resistance": "10 %", "leakage": "20 %", "seed": 5}}
    cycler, raw = gcd(storage, 0.6e-3, 0.2, 3.3, cycles=2, temperature=[(0.0, 298.15), (2000.0, 320.0)])
    assert raw.summary["threshold_crossings"] > 500
    assert balance_error(raw) < 1e-9
    # warmer: lower resistances, more of the slow branch reachable, longer discharge
    assert cycler.discharges[-1][0] > cycler.discharges[0][0]
