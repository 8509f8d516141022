"""A run lets the garbage collector run less often, still collects its own reference cycles, and
leaves the collector as it found it (sysim.engine.collector)."""
import gc

import pytest

from conftest import run
from sysim.engine import collector


@pytest.fixture
def clean_collector():
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def test_relaxed_for_the_block_and_restored_after(clean_collector):
    gc.set_threshold(700, 10, 10)
    with collector.collector_relaxed():
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, 10, 10)
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # the run's own cycles are still collected
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_after_an_error(clean_collector):
    gc.set_threshold(500, 9, 8)
    with pytest.raises(RuntimeError):
        with collector.collector_relaxed():
            raise RuntimeError("interrupted run")
    assert gc.get_threshold() == (500, 9, 8)


def test_leaves_a_callers_setting_and_a_disabled_collector_alone(clean_collector):
    gc.set_threshold(50_000, 3, 4)
    with collector.collector_relaxed():
        assert gc.get_threshold() == (50_000, 3, 4)
    gc.set_threshold(700, 10, 10)
    gc.disable()
    with collector.collector_relaxed():
        assert gc.get_threshold() == (700, 10, 10) and not gc.isenabled()
    assert not gc.isenabled()


def test_a_run_relaxes_the_collector_and_restores_it(clean_collector):
    import sysim
    from sysim.api import prepare

    gc.set_threshold(700, 10, 10)
    inside = []
    data = {"name": "collector", "simulation": {"duration": "2 h", "record_every": "10 min"},
            "storage": {"model": "supercap", "capacitance": "0.1 F", "esr": "0.5 ohm", "initial_voltage": "3 V"},
            "load": [{"type": "periodic", "name": "ble", "period": "1 s", "base_current": "2 uA",
                      "phases": [{"current": "5 mA", "duration": "1 ms"}]}]}
    sim = prepare(sysim.from_dict(data), on_step=lambda s: inside.append(gc.get_threshold()))
    raw = sim.run()
    assert inside and all(t == (collector.YOUNG_THRESHOLD, 10, 10) for t in inside)
    assert raw.summary["final_voltage_V"] < 3.0
    assert gc.get_threshold() == (700, 10, 10)
    result = run(data)  # and through sysim.simulate, which also covers the node's build
    assert result.summary["final_voltage_V"] == raw.summary["final_voltage_V"]
    assert gc.get_threshold() == (700, 10, 10)
