"""Helpers for the dashboard tests: a node built through the widgets, and waiting for runs."""
from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

#: what the widget steps in :func:`build_node_through_widgets` must produce. Sample times
#: (multiples of 53 s) never coincide with the radio's pulse edges (0.137 s + 7 s·k): at such an
#: instant the terminal voltage jumps by the ESR step and the sample could take either side.
EXPECTED = {
    "name": "widget-built node",
    "simulation": {"duration": "12 h", "record_every": "53 s"},
    "storage": {"model": "supercap", "initial_voltage": "2.4 V", "v_min": "1.9 V", "v_max": "2.7 V",
                "capacitance": "15 mF", "esr": "3 ohm", "leakage_resistance": "5 Mohm",
                "branches": [{"capacitance": "5 mF", "resistance": "2 kohm"}]},
    "harvester": [{"type": "current", "name": "pv", "current": "20 uA",
                   "steps": [{"at": "4 h", "current": "0 A"}, {"at": "8 h", "current": "30 uA"}]}],
    "load": [{"type": "periodic", "name": "radio", "period": "7 s", "base_current": "1 uA",
              "phases": [{"current": "5 mA", "duration": "3 ms"}], "offset": "0.137 s"},
             {"type": "constant", "name": "mcu", "current": "4 uA"}],
}


def type_into(form, key: str, text: str) -> None:
    form.editor(key).set_text(text)


def build_node_through_widgets(window) -> None:
    """Clear the window's panel and build EXPECTED by choosing and typing as a user does."""
    panel = window.panel
    panel.set_scenario_data({"simulation": {}, "storage": {}})
    panel.name_edit.setText("widget-built node")
    panel.name_edit.textEdited.emit("widget-built node")
    type_into(panel.simulation, "duration", "12 h")
    type_into(panel.simulation, "record_every", "53 s")
    storage = panel.storage
    storage.choose("supercap")
    for key, text in (("initial_voltage", "2.4 V"), ("v_min", "1.9 V"), ("v_max", "2.7 V"),
                      ("capacitance", "15 mF"), ("esr", "3 ohm"), ("leakage_resistance", "5 Mohm")):
        type_into(storage, key, text)
    branches = storage.editor("branches")
    branches.add_row()
    branches.set_cell(0, 0, "5 mF")
    branches.set_cell(0, 1, "2 kohm")
    pv = panel.harvesters.add(type_="current")
    type_into(pv, "name", "pv")
    type_into(pv, "current", "20 uA")
    steps = pv.editor("steps")
    for row, (at, current) in enumerate((("4 h", "0 A"), ("8 h", "30 uA"))):
        steps.add_row()
        steps.set_cell(row, 0, at)
        steps.set_cell(row, 1, current)
    radio = panel.loads.add(type_="periodic")
    for key, text in (("name", "radio"), ("period", "7 s"), ("base_current", "1 uA"), ("offset", "0.137 s")):
        type_into(radio, key, text)
    phases = radio.editor("phases")
    phases.add_row()
    phases.set_cell(0, "current", "5 mA")
    phases.set_cell(0, "duration", "3 ms")
    mcu = panel.loads.add(type_="constant")
    type_into(mcu, "name", "mcu")
    type_into(mcu, "current", "4 uA")


def run_and_wait(qtbot, window, speed=None, timeout_s: float = 60.0):
    """Start a run and wait for its Result (fails the test on a run error)."""
    with qtbot.waitSignal(window.run_finished, timeout=int(timeout_s * 1000)) as blocker:
        assert window.start_run(speed=speed), [e.message for e in window.panel.errors]
    return blocker.args[0]


def wait_until(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        if time.perf_counter() > deadline:
            raise AssertionError("timed out")
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.AllEvents, 20)
        time.sleep(0.002)


def quiet(duration: str, record_every: str) -> dict:
    """EXPECTED with the radio every 15 min: few events, so long runs are quick."""
    radio = {**EXPECTED["load"][0], "period": "15 min"}
    return {**EXPECTED, "simulation": {"duration": duration, "record_every": record_every},
            "load": [radio, EXPECTED["load"][1]]}
