"""The dashboard's non-Qt parts: decimation, streamed series, rows_since, TOML text, and a guard
against the PySide6 release that breaks Python 3.11."""
from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pytest

import sysim
from gui.decimate import envelope
from gui.rundata import RunData
from gui.tomlio import MISSING, dumps_scenario, inline_toml, parse_inline, text_to_value, value_to_text
from gui_helpers import EXPECTED
from sysim.api import prepare


def test_envelope_keeps_every_extreme_and_is_exact_when_few_samples_show():
    rng = np.random.default_rng(1)
    x = np.arange(525_600) * 60.0
    y = rng.normal(size=len(x))
    y[123_457] = -40.0  # a one-sample brown-out dip
    ex, ey = envelope(x, y, x[0], x[-1], 2000)
    assert len(ex) <= 2000 + 2 * (len(x) // 1000 + 1)
    assert ey.min() == -40.0 and ey.max() == y.max()
    assert np.all(np.diff(ex) >= 0)
    block = -(-len(x) // 1000)
    k = 123_457 // block  # the block holding the dip shows it at the block's first time
    assert ex[2 * k] == x[k * block] and ey[2 * k] == -40.0
    zx, zy = envelope(x, y, x[1000], x[1500], 2000)
    np.testing.assert_array_equal(zx, x[999:1502])
    np.testing.assert_array_equal(zy, y[999:1502])


def test_streamed_rows_give_the_same_series_as_the_whole_trace():
    scenario = sysim.from_dict({**EXPECTED, "simulation": {"duration": "6 h", "record_every": "53 s"}})
    seen = []

    def on_step(sim):  # what the dashboard's run process sends: rows since the last batch
        seen.append(sim.recorder.rows_since(sum(len(r) for r in seen)))

    sim = prepare(scenario, chunk_s=600.0, on_step=on_step)
    raw = sim.run()
    streamed = np.concatenate([r for r in seen if len(r)] + [raw.rows[sum(len(r) for r in seen):]])
    np.testing.assert_array_equal(streamed, raw.rows)
    assert sim.recorder.rows_recorded == len(raw.rows)
    data = RunData(raw.columns, dict(sim.kinds))
    for batch in np.array_split(raw.rows, 37):
        data.append(batch)
    t, e, v = raw.rows[:, 0], raw.rows[:, raw.columns.index("energy_to_loads_J")], raw.rows[:, 1]
    tp, p = data.mean_power("energy_to_loads_J")
    np.testing.assert_array_equal(tp, t[1:])
    np.testing.assert_allclose(p, np.diff(e) / np.diff(t), rtol=1e-12)
    _, i = data.mean_load_current()
    np.testing.assert_allclose(i, np.diff(e) / np.diff(t) / (0.5 * (v[1:] + v[:-1])), rtol=1e-12)
    assert data.load_columns() == ["radio_A", "mcu_A"]
    np.testing.assert_array_equal(data.rows, raw.rows)


def test_rows_since_refuses_rows_already_streamed_to_a_file(tmp_path):
    scenario = sysim.from_dict({**EXPECTED, "simulation": {"duration": "2 h", "record_every": "1 s"}})
    sim = prepare(scenario, stream_trace_to=str(tmp_path / "trace.csv"))
    sim.run()
    with pytest.raises(ValueError, match="streamed"):
        sim.recorder.rows_since(0)


@pytest.mark.parametrize("value", ["10 mF", 0.01, 3, 1e-300, -2.5, float("inf"), True, [1, "2 s"],
                                   {"a": {"b": [1.5, "x y"]}}, dt.datetime(2026, 1, 1, 8, 30), "with \"quotes\""])
def test_values_survive_the_text_of_a_field(value):
    kind = "quantity" if isinstance(value, (str, int, float)) and not isinstance(value, bool) else "value"
    text = value_to_text(value)
    back = text_to_value(text, kind)
    if kind == "quantity" and isinstance(value, float) and value == float("inf"):
        assert back == "inf"  # a quantity string the allow_inf fields accept
    elif kind == "quantity" and isinstance(value, str) and value.startswith("with"):
        assert back == value
    else:
        assert back == value and type(back) is type(value)
    assert text_to_value("   ", kind) is MISSING
    if not isinstance(value, str):
        assert parse_inline(inline_toml(value)) == value


def test_saved_toml_is_what_the_loader_reads():
    text = dumps_scenario(EXPECTED)
    assert sysim.loads(text).data == EXPECTED
    assert text.index("[simulation]") < text.index("[[harvester]]") < text.index("[[load]]")


def test_this_pyside6_keeps_the_reference_count_of_true():
    """PySide6 6.12.0 drops a reference to True on every signal emit; Python 3.11 then aborts
    ("bool_dealloc") after a few thousand emits. pyproject excludes it; this catches a release that
    does the same."""
    from PySide6 import QtCore

    class Emitter(QtCore.QObject):
        signal = QtCore.Signal(object)

    emitter = Emitter()
    received = []
    emitter.signal.connect(received.append)
    before = sys.getrefcount(True)
    for k in range(300):
        emitter.signal.emit(k)
    assert len(received) == 300
    assert abs(sys.getrefcount(True) - before) < 50


def test_run_process_streams_rows_events_and_the_levels_components_watch(monkeypatch):
    """The run side (normally in its own process) driven in-process through a fake pipe, with a
    PMIC-like component that watches a power-good level on the storage terminal."""
    from gui.sim_process import SharedControl, _Run
    from sysim.engine.component import Component, ComponentWatch
    from sysim.scenario import registry
    from sysim.scenario.fields import Quantity, Table

    class PowerGood(Component):
        kind = "source"
        name = "pmic"

        def __init__(self, level):
            self.level, self.good = level, True

        def watches(self, sim):
            return [ComponentWatch("terminal", self.level, "falling" if self.good else "rising", "power-good")]

        def on_watch(self, sim, key):
            self.good = not self.good
            sim.log(self.name, "power good" if self.good else "power not good")

    class TestPmic(Table):
        model: str
        v_good: Quantity("voltage", positive=True)

        def build(self, ctx, harvesters):
            return [*harvesters, PowerGood(self.v_good)]

    monkeypatch.setitem(registry.PMICS, "test-pmic", TestPmic)
    scenario = sysim.from_dict({**EXPECTED, "pmic": {"model": "test-pmic", "v_good": "2.2 V"}})

    class Pipe:
        def __init__(self):
            self.messages = []

        def send(self, message):
            self.messages.append(message)

    class Flag:
        def __init__(self, value):
            self.value = value

    pipe = Pipe()
    _Run(pipe, scenario, SharedControl(Flag(0), Flag(0), Flag(0.0), Flag(0)), 0.0).run()
    kinds = [k for k, _ in pipe.messages]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    rows = np.concatenate([p for k, p in pipe.messages if k == "rows"])
    api = sysim.simulate(scenario)
    assert len(rows) == len(api.rows) == dict(pipe.messages)["finished"]["rows"]
    levels = [p for k, p in pipe.messages if k == "thresholds"][-1]
    assert levels["pmic: power-good"] == ("terminal", 2.2)
    events = [e for k, p in pipe.messages if k == "events" for e in p]
    assert [(e.source, e.message) for e in events] == [(e.source, e.message) for e in api.events]
    assert any(e.message == "power not good" for e in events)
