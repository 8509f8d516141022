"""The component panel: generated from the registered tables, validated as scenario files are,
and a scenario round trip through the GUI gives back the same node."""
from __future__ import annotations

from typing import Literal

import numpy as np
import pytest
from pydantic import Field

import sysim
from gui.component_panel import ComponentPanel
from gui.main_window import MainWindow
from gui.schema_info import table_fields
from gui.tomlio import read_scenario
from gui_helpers import EXPECTED
from sysim.commands.run import default_scenario_path
from sysim.scenario import registry
from sysim.scenario.fields import Quantity
from loads.config import LoadCommon


@pytest.fixture
def panel(qtbot):
    p = ComponentPanel()
    qtbot.addWidget(p)
    return p


def message_for(data: dict) -> str:
    with pytest.raises(sysim.ScenarioError) as info:
        sysim.from_dict(data, source="<gui>")
    return info.value


def test_a_newly_registered_table_gets_a_form_with_units(qtbot, monkeypatch):
    class BlinkTable(LoadCommon):
        #: LED current while lit
        current: Quantity("current", positive=True)
        blink_every: Quantity("time", positive=True) = 2.0
        colour: Literal["red", "green"] = "red"
        pattern: list[tuple[float, Quantity("time", positive=True)]] = Field(default_factory=list)

    monkeypatch.setitem(registry.LOADS, "blink", BlinkTable)
    panel = ComponentPanel()
    qtbot.addWidget(panel)
    form = panel.loads.add(type_="blink")
    common = [k for k in LoadCommon.model_fields if k not in ("type", "preset")]  # type/preset: choosers
    assert list(form.editors) == common + ["current", "blink_every", "colour", "pattern"]
    specs = {s.key: s for s in table_fields(BlinkTable)}
    assert (specs["current"].kind, specs["current"].unit, specs["current"].doc) == ("quantity", "A", "LED current while lit")
    assert specs["colour"].choices == ("red", "green")
    assert [c.unit for c in specs["pattern"].columns] == ["", "s"]
    assert form.editor("blink_every").line.placeholderText() == "default: 2 s"
    assert form.editor("current").line.placeholderText() == "required"
    form.editor("current").set_text("3 mA")
    form.editor("colour").choose("green")
    form.editor("pattern").add_row(["0.5", "10 ms"])
    assert form.data() == {"type": "blink", "current": "3 mA", "colour": "green", "pattern": [[0.5, "10 ms"]]}


def test_errors_are_the_loader_messages_next_to_their_fields(panel):
    data = {**EXPECTED, "storage": {**EXPECTED["storage"], "capacitance": "10 mV"}}
    panel.set_scenario_data(data)
    assert panel.scenario is None
    expected = message_for(data)
    assert panel.errors[0].message == expected.message
    assert panel.storage.editor("capacitance").error_label.text() == expected.reason == \
        "'10 mV' is not a capacitance (it is a voltage)"
    # several tables wrong at once: each message at its own field
    phases = [{"current": "5 mA", "duration": "3 parsecs"}]
    data["load"] = [{**EXPECTED["load"][0], "phases": phases}, EXPECTED["load"][1]]
    data["simulation"] = {"duration": "-1 h"}
    panel.set_scenario_data(data)
    keys = {e.key for e in panel.errors}
    assert keys == {"storage.capacitance", "load[0].phases[0].duration", "simulation.duration"}
    assert "phases[0].duration" in panel.loads.forms[0].editor("phases").error_label.text()
    assert panel.simulation.editor("duration").error_label.text() == message_for(
        {**EXPECTED, "simulation": {"duration": "-1 h"}}).reason
    # cross-table problems come from sysim.from_dict itself
    twin = {**EXPECTED, "load": [EXPECTED["load"][0], {**EXPECTED["load"][1], "name": "radio"}]}
    panel.set_scenario_data(twin)
    assert [e.message for e in panel.errors] == [message_for(twin).message]
    # fixed by typing: valid again, and the message is gone
    panel.loads.forms[1].editor("name").set_text("mcu")
    assert panel.validate() is not None
    assert panel.loads.forms[1].editor("name").error_label.text() == ""


def test_keys_the_panel_has_no_field_for_are_kept_and_reported(panel):
    data = {**EXPECTED, "storage": {**EXPECTED["storage"], "capacitence": "1 F"}, "extra_table": {"a": 1}}
    panel.set_scenario_data(data)
    assert panel.scenario_data() == data
    reasons = {e.key: e.reason for e in panel.errors}
    assert reasons["storage.capacitence"] == "unknown key"
    assert panel.storage.other.error_label.text() == "capacitence: unknown key"
    assert panel.storage.other.line.text() == '{ capacitence = "1 F" }'
    assert "<gui>: extra_table: unknown key" in panel.banner.text()


def test_presets_fill_hints_and_stay_out_of_the_file(panel, monkeypatch):
    preset = registry.Preset("test-cap", "storage", "a test capacitor",
                             {"model": "supercap", "capacitance": "22 mF", "esr": "1 ohm"}, source="test")
    monkeypatch.setitem(registry.PRESETS, preset.name, preset)
    panel.set_scenario_data({"simulation": {"duration": "1 h"}, "storage": {"preset": "test-cap"}})
    assert panel.storage.editor("capacitance").line.placeholderText() == "preset: 22 mF"
    assert panel.storage.select_combo.currentData() == "supercap"
    panel.storage.editor("esr").set_text("2 ohm")  # an explicit key overrides the preset
    data = panel.scenario_data()
    assert data["storage"] == {"preset": "test-cap", "esr": "2 ohm"}
    scenario = panel.validate()
    assert scenario.storage.capacitance == pytest.approx(0.022) and scenario.storage.esr == pytest.approx(2.0)


def test_scenario_round_trip_through_the_gui(qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    source = default_scenario_path()
    window.open_file(source)
    original = read_scenario(source)
    assert window.panel.scenario_data() == original
    saved = window.save(tmp_path / "copy.toml")
    assert sysim.load(saved).data == sysim.load(source).data
    # a second window opens the saved file to the same panel, and saves the same text again
    again = MainWindow()
    qtbot.addWidget(again)
    again.open_file(saved)
    assert again.panel.scenario_data() == original
    again.save(tmp_path / "again.toml")
    assert (tmp_path / "again.toml").read_text() == saved.read_text()
    # the same node: the same numbers
    a = sysim.simulate(sysim.load(source), duration=6 * 3600)
    b = sysim.simulate(sysim.load(saved), duration=6 * 3600)
    np.testing.assert_array_equal(a.rows, b.rows)
    # an edit made in the GUI is in the file
    window.panel.storage.editor("capacitance").set_text("80 mF")
    window.save()
    assert sysim.load(saved).storage.capacitance == pytest.approx(0.08)


def test_opening_a_file_with_a_syntax_error_says_where(qtbot, tmp_path):
    window = MainWindow()
    qtbot.addWidget(window)
    bad = tmp_path / "bad.toml"
    bad.write_text("[storage\nmodel = 1\n")
    with pytest.raises(sysim.ScenarioError) as info:
        window.open_file(bad)
    assert info.value.message.startswith(f"{bad}: TOML syntax error")
