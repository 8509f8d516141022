"""Harvesting PMIC: cold start, power good with hysteresis, MPPT sampling and converter ledger."""
import math

import numpy as np
import pytest

import sysim
from conftest import balance_ok
from harvest_helpers import run
from harvesters.pmic import Pmic
from harvesters.teng import TengHarvester
from sysim.node import build_node


def source_csv(tmp_path, rows, name="in.csv"):
    f = tmp_path / name
    f.write_text("time_s,power_uW\n" + "\n".join(f"{t},{p}" for t, p in rows) + "\n")
    return str(f)


def scenario(tmp_path, rows, storage, pmic=None, loads=(), duration="3 h", record="1 min", voltage="0.5 V"):
    return {"simulation": {"duration": duration, "record_every": record},
            "storage": {"model": "supercap", **storage},
            "harvester": [{"type": "trace", "name": "src", "file": source_csv(tmp_path, rows), "voltage": voltage}],
            "pmic": {"preset": "bq25570", **(pmic or {})},
            "load": list(loads)}


def preset_pmic(data) -> Pmic:
    return next(c for c in build_node(sysim.from_dict(data)).components if isinstance(c, Pmic))


def test_cold_start_until_the_threshold_then_normal_charging(tmp_path):
    c = 10e-3
    data = scenario(tmp_path, [(0, 20)], {"capacitance": c, "initial_voltage": "0 V"},
                    {"v_ov": "3.3 V", "v_pg_on": "3.0 V", "v_pg_off": "2.5 V"}, duration="8 h")
    res = run(data)
    p = preset_pmic(data).p
    # cold start: η_cs·P_in into a bare capacitor, C·V·dV/dt = P  ->  t = C·V²/(2P)
    t_cs = c * p.v_chgen ** 2 / (2 * p.cold_start_efficiency * 20e-6)
    assert res.summary["pmic_cold_start_end_s"] == pytest.approx(t_cs, rel=1e-4)
    t, state = res.column("time_s"), res.column("pmic_state")
    t_ov = next(e.t for e in res.events if "over-voltage" in e.message)
    assert np.all(state[t < t_cs - 1] == 0) and np.all(state[(t > t_cs + 1) & (t < t_ov)] == 1)
    assert np.all(state[t > t_ov + 1] >= 1)                      # full / charging, never cold start again
    # then the boost at η(V_in, P_in), minus the 256 ms of every 16 s spent sampling V_oc (with the
    # quiescent current drawn then): power good at 3.0 V follows from W = V²
    eta = p.boost(0.5, 20e-6)
    assert 0.3 < eta < 0.5                                       # the measured BQ25570 at 40 µA, 0.5 V
    duty = 1 - p.mppt_sample_time / p.mppt_period
    p_net = eta * 20e-6 * duty - p.quiescent_current * 2.4 * (1 - duty)
    t_pg = t_cs + c * (3.0 ** 2 - p.v_chgen ** 2) / (2 * p_net)
    on = [e.t for e in res.events if "power good at" in e.message]
    assert on and on[0] == pytest.approx(t_pg, rel=2e-3)
    balance_ok(res)
    # a source below the 5 µW cold-start power never starts the converter
    weak = run(scenario(tmp_path, [(0, 4)], {"capacitance": c, "initial_voltage": "0 V"}, duration="8 h"))
    assert weak.summary["final_voltage_V"] == 0.0 and weak.summary["energy_harvested_J"] == 0.0
    assert weak.summary["pmic_state_final"] == "cold_start"


def test_power_good_toggles_with_the_stated_hysteresis(tmp_path):
    c = 10e-3
    data = scenario(tmp_path, [(0, 40)], {"capacitance": c, "initial_voltage": "3.2 V"},
                    {"v_ov": "3.5 V", "v_pg_on": "3.0 V", "v_pg_off": "2.5 V"}, duration="3 h", record="10 s", voltage="1 V",
                    loads=[{"type": "constant", "name": "node", "current": "20 uA", "rail": "pmic"}])
    res = run(data)
    events = [(e.t, e.message) for e in res.events if e.source == "pmic" and "power good" in e.message]
    offs = [t for t, m in events if "lost" in m]
    ons = [t for t, m in events if "lost" not in m]
    assert len(offs) >= 3 and len(ons) >= 3 and offs[0] < ons[0] < offs[1] < ons[1]
    assert res.summary["pmic_power_good_off_events"] == len(offs)
    # the storage's open-circuit voltage is exactly at the threshold whenever power good changes
    sim = sysim.api.prepare(sysim.from_dict(data))
    pmic = next(c for c in sim.components if isinstance(c, Pmic))
    seen, original = [], pmic.on_watch

    def spy(simulation, key):
        seen.append((key, simulation.stepper.open_circuit()))
        original(simulation, key)

    pmic.on_watch = spy
    sim.run()
    levels = {"pg_on": 3.0, "pg_off": 2.5, "ov_on": 3.5}
    pg = [(k, v) for k, v in seen if k in levels]
    assert len(pg) >= 6
    for key, v in pg:
        assert v == pytest.approx(levels[key], abs=1e-12), key
    # inside the band the rail stays as it was: off while recharging from 2.5 V, on while discharging from 3.0 V
    t, v, pg, i_load = (res.column(k) for k in ("time_s", "voltage_V", "pmic_power_good", "node_A"))
    rising = (t > offs[0] + 1) & (t < ons[0] - 1)
    falling = (t > ons[0] + 1) & (t < offs[1] - 1)
    assert np.all(pg[rising] == 0) and np.all(i_load[rising] == 0) and np.all(np.diff(v[rising]) > 0)
    assert np.all(pg[falling] == 1) and np.all(i_load[falling] > 0) and np.all(np.diff(v[falling]) < 0)
    assert v[rising].min() >= 2.5 - 1e-9 and v[falling].max() <= 3.0 + 1e-9
    # on from t = 0 (the store starts at 3.2 V) until the first loss, then between each recovery and loss
    on_time = offs[0] + sum(b - a for a, b in zip(ons, offs[1:])) + \
        (res.summary["duration_s"] - ons[-1] if len(ons) == len(offs) else 0.0)
    assert res.summary["pmic_power_good_fraction"] == pytest.approx(on_time / res.summary["duration_s"], rel=1e-9)
    balance_ok(res)


def test_ledger_books_converter_mppt_sampling_quiescent_and_buck_losses(tmp_path):
    p_in, hours = 500e-6, 1.0
    data = scenario(tmp_path, [(0, 500)], {"capacitance": "1 F", "initial_voltage": "2.9 V"},
                    {"v_pg_on": "2.6 V", "v_pg_off": "2.3 V"}, duration="1 h", voltage="1 V",
                    loads=[{"type": "constant", "name": "mcu", "current": "100 uA", "rail": "pmic"}])
    res = run(data)
    led = res.ledger
    p = preset_pmic(data).p
    t = hours * 3600.0
    periods = t / p.mppt_period
    eta = p.boost(1.0, p_in)
    sampling = p_in * p.mppt_sample_time * periods
    assert led["lost/mppt_sampling/pmic"] == pytest.approx(sampling, rel=1e-12)
    assert led["harvested/src"] == pytest.approx(p_in * t, rel=1e-4)
    boost_in = led["harvested/src"] - sampling
    assert led["lost/converter/pmic"] == pytest.approx(boost_in * (1 - eta), rel=1e-12)
    assert led["lost/quiescent/pmic"] == pytest.approx(p.quiescent_current * 3.0 * p.mppt_sample_time * periods, rel=0.05)
    eta_buck = p.buck(100e-6)
    assert led["to_loads/mcu"] == pytest.approx(1.8 * 100e-6 * t, rel=1e-4)
    assert led["lost/converter/pmic.buck"] == pytest.approx(led["to_loads/mcu"] * (1 / eta_buck - 1), rel=1e-12)
    s = res.summary
    assert s["pmic_input_operating_energy_J"] == pytest.approx(p_in * t, rel=1e-12)
    balance_ok(res)


def test_pv_through_pmic_harvests_at_the_fraction_of_open_circuit_voltage():
    data = {"simulation": {"duration": "2 h", "record_every": "10 min"},
            "storage": {"model": "supercap", "capacitance": "0.5 F", "initial_voltage": "2.8 V"},
            "harvester": [{"type": "pv", "name": "cell", "preset": "indoor-asi", "area": "20 cm^2", "light": {"lux": 500}}],
            "pmic": {"preset": "bq25570"}}
    res = run(data)
    node = build_node(sysim.from_dict(data))
    assert len(node.components) == 1           # the PV is wrapped by the PMIC, not a component of its own
    pmic = node.components[0]
    seg = pmic.inputs
    p_op = float(seg.p_in[0])
    assert seg.v_in[0] == pytest.approx(0.8 * seg.v_oc[0])
    assert res.ledger["harvested/cell"] == pytest.approx(p_op * 7200, rel=1e-4)
    assert res.summary["pmic_input_mpp_energy_J"] >= res.summary["pmic_input_operating_energy_J"] > 0
    balance_ok(res)


def test_what_may_feed_a_pmic(tmp_path):
    base = {"simulation": {"duration": "1 h"}, "storage": {"model": "supercap", "capacitance": "1 F", "initial_voltage": "3 V"},
            "pmic": {"preset": "bq25570"}}
    with pytest.raises(sysim.errors.ScenarioError, match="cannot feed a PMIC"):
        build_node(sysim.from_dict({**base, "harvester": [{"type": "current", "current": "10 uA"}]}))
    with pytest.raises(sysim.errors.ScenarioError, match="needs a voltage"):
        build_node(sysim.from_dict({**base, "harvester": [{"type": "trace", "file": source_csv(tmp_path, [(0, 5)])}]}))
    mixed = {**base, "harvester": [{"type": "pv", "preset": "indoor-asi", "area": "5 cm^2", "light": {"lux": 300}},
                                   {"type": "teng", "name": "steps", "preset": "teng-cs-4cm2", "frequency": "1 Hz"}]}
    components = build_node(sysim.from_dict(mixed)).components
    assert isinstance(components[0], Pmic) and isinstance(components[1], TengHarvester)
    with pytest.raises(sysim.errors.ScenarioError, match="v_pg_off"):
        sysim.from_dict({**base, "pmic": {"preset": "bq25570", "v_pg_on": "2.5 V", "v_pg_off": "2.6 V"}})
    with pytest.raises(sysim.errors.ScenarioError, match="buck_voltage"):
        sysim.from_dict({**base, "pmic": {"preset": "bq25570", "v_pg_off": "1.7 V", "v_pg_on": "2.0 V"}})


def test_presets_carry_their_sources():
    from sysim.scenario.registry import PRESETS

    for name in ("bq25570", "aem10941", "adp5091", "indoor-asi", "indoor-csi", "indoor-opv", "teng-cs-4cm2"):
        preset = PRESETS[name]
        assert preset.source and len(preset.source) > 40, name
    assert PRESETS["bq25570"].verified and not PRESETS["aem10941"].verified
    bq = sysim.from_dict({"simulation": {"duration": "1 h"}, "storage": {"model": "supercap", "capacitance": "1 F"},
                          "harvester": [{"type": "trace", "file": __file__, "voltage": "1 V"}] * 0,
                          "pmic": {"preset": "bq25570"}}).pmic
    assert bq.quiescent_current == pytest.approx(488e-9) and bq.cold_start_voltage == pytest.approx(0.33)
    assert bq.mppt_period == 16.0 and bq.mppt_sample_time == pytest.approx(0.256)
    assert math.isclose(bq.v_chgen, 1.73)


def test_boost_table_for_many_segments_equals_the_scalar_lookup(tmp_path):
    # the BQ25570 preset's measured table (current axis): inside, on and beyond its edges, dark
    # and impossible inputs
    table = preset_pmic(scenario(tmp_path, [(0, 100)], {"capacitance": "1 F", "initial_voltage": "3 V"})).p.boost
    rng = np.random.default_rng(7)
    v_in = np.concatenate([rng.uniform(0.05, 3.0, 400), list(table.input_voltage), [0.0, -1.0, 0.5, 0.5, 10.0]])
    p_in = np.concatenate([10 ** rng.uniform(-7, 0, 400), np.full(len(table.input_voltage), 1e-3),
                           [1e-3, 1e-3, 0.0, -1e-3, 1e-3]])
    many = table.many(v_in, p_in)
    one = np.array([table(float(v), float(p)) for v, p in zip(v_in, p_in)])
    assert np.allclose(many, one, rtol=1e-12, atol=0.0)
    assert np.all(many[-5:-1] == 0.0) and np.all((many[:400] > 0.0) & (many[:400] <= 1.0))
    assert len(set(np.round(many[:400], 6))) > 100  # the lookup is not flat: it interpolates
    # a power axis, one input voltage, and a constant
    from harvesters.pmic_tables import BoostEfficiency
    for other in (BoostEfficiency((1.0,), (1e-6, 1e-3, 1.0), ((0.3, 0.7, 0.9),), "power"), BoostEfficiency.constant(0.8)):
        assert np.allclose(other.many(v_in, p_in), [other(float(v), float(p)) for v, p in zip(v_in, p_in)],
                           rtol=1e-12, atol=0.0)
