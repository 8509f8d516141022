"""The lean path of planned stretches (sysim.engine.cycleplan, sysim.engine.leanjump) gives what
the general path gives for the same plans, and really takes a charging ramp's stretches."""
import numpy as np
import pytest

from conftest import balance_ok, run
from test_fast_forward import _assert_same, _pv_pmic_node

from sysim.engine import leanjump


def _bright_days(folder, record_every="1 h"):
    """Three days of strong hourly light on a 1 cm² cell through a BQ25570 into a 0.22 F + 0.1 F
    two-branch store under 1 s BLE pulses: each morning a ramp up to the hold, in whole-cycle
    stretches and, while a cycle moves the voltage too much, runs of phases; brown-outs at night."""
    hours = np.arange(72)
    irradiance = 1000.0 * np.clip(np.sin(np.pi * ((hours % 24) - 6) / 12), 0, None)
    return _pv_pmic_node(folder, "h", hours, irradiance, ("0.22 F", "0.1 F", "3.0 V"), "3 d", record_every)


def _counting(monkeypatch, enabled=True):
    """Count the lean jumps taken, whole cycles and runs of phases; ``enabled=False`` makes every
    plan go to the general path instead."""
    taken = {"cycles": 0, "phases": 0, "declined": 0}
    original = leanjump.jump

    def jump(stepper, plan, watches):
        done = enabled and original(stepper, plan, watches)
        taken["declined" if not done else ("cycles" if plan.phases is None else "phases")] += 1
        return done

    monkeypatch.setattr(leanjump, "jump", jump)
    return taken


def test_lean_jumps_equal_the_general_path_on_the_same_plans(tmp_path, monkeypatch):
    data = _bright_days(tmp_path)
    taken = _counting(monkeypatch)
    lean = run(data)
    assert taken["cycles"] > 40 and taken["phases"] > 3  # both kinds of ramp stretch were jumped
    assert lean.summary["brownouts"] > 0 and lean.summary["max_voltage_V"] > 4.0
    monkeypatch.undo()
    skipped = _counting(monkeypatch, enabled=False)
    general = run(data)
    assert skipped["declined"] == taken["cycles"] + taken["phases"] + taken["declined"]
    assert np.max(np.abs(lean.column("voltage_V") - general.column("voltage_V"))) <= 1e-9
    for key in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J", "final_voltage_V",
                "min_voltage_V", "max_voltage_V"):
        assert lean.summary[key] == pytest.approx(general.summary[key], rel=1e-9, abs=1e-12), key
    assert lean.summary["events"] == general.summary["events"]
    assert set(lean.ledger) == set(general.ledger)
    for account, energy in general.ledger.items():
        assert lean.ledger[account] == pytest.approx(energy, rel=1e-9, abs=1e-12), account
    balance_ok(lean)


def test_lean_path_declines_stretches_with_samples_and_still_equals_event_stepping(tmp_path, monkeypatch):
    """Recorded every minute, most ramp stretches hold a sample and go to the general path;
    fast-forward still equals event stepping, which never takes the lean path."""
    data = _bright_days(tmp_path, record_every="1 min")
    taken = _counting(monkeypatch)
    ff = run({**data, "simulation": dict(data["simulation"], method="fast-forward")})
    assert taken["declined"] > taken["cycles"] + taken["phases"] > 0
    before = dict(taken)
    event = run({**data, "simulation": dict(data["simulation"], method="event")})
    assert taken == before  # the event path plans the same stretches but never jumps them
    _assert_same(event, ff)


def test_ramp_stretches_taken_in_one_step_equal_one_step_each(tmp_path, monkeypatch):
    """The integrator plans and jumps a ramp's next stretches on the table and watches of its
    first (sysim.engine.simulation._integrator); a step callback (the dashboard's) makes it take
    one stretch per step, rebuilding both. The two give the same numbers to the last bit."""
    import sysim
    from sysim.api import prepare
    from sysim.result import Result

    scenario = sysim.from_dict(_bright_days(tmp_path, record_every="1 d"))
    steps = {"looped": 0, "single": 0}
    tables = {"looped": 0, "single": 0}
    stretch, table = sysim.engine.simulation.Simulation._stretch, sysim.engine.simulation.Simulation._table

    def counting(kind):
        def counted_stretch(self, *args):
            steps[kind] += 1
            return stretch(self, *args)

        def counted_table(self, *args, **kwargs):
            tables[kind] += 1
            return table(self, *args, **kwargs)
        monkeypatch.setattr(sysim.engine.simulation.Simulation, "_stretch", counted_stretch)
        monkeypatch.setattr(sysim.engine.simulation.Simulation, "_table", counted_table)

    counting("looped")
    looped = Result(prepare(scenario).run(), scenario)
    counting("single")
    single = Result(prepare(scenario, on_step=lambda sim: None).run(), scenario)
    assert steps["looped"] == steps["single"] > 100  # the same stretches, with fewer tables built
    assert tables["looped"] < 0.7 * tables["single"], tables
    np.testing.assert_array_equal(looped.column("voltage_V"), single.column("voltage_V"))
    for key in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J", "final_voltage_V",
                "min_voltage_V", "max_voltage_V", "events", "brownouts"):
        assert looped.summary[key] == single.summary[key], key
    assert looped.ledger == pytest.approx(single.ledger, rel=1e-12, abs=1e-12)
    balance_ok(looped)
