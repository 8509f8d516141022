"""The dashboard window: component panel | live plots and comparison | event log and console.

Data flow (one way, as in the rest of sysim): the panel's scenario dict -> :func:`gui.validation.check`
-> :class:`gui.worker.SimWorker` on a QThread -> rows, events and thresholds as queued signals ->
:class:`gui.rundata.RunData` -> :class:`gui.plots.PlotPanel`. The GUI thread only appends rows and
redraws on a timer whose period adapts to the redraw cost, so it stays responsive during a
year-long run.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from sysim.errors import ScenarioError
from sysim.units import format_duration

from .compare import CompareView, differences, run_labels
from .component_panel import ComponentPanel
from .events_view import EventLog, FirmwareConsole
from .plots import PlotPanel
from .run_controls import RunControls
from .rundata import RunData
from .tomlio import read_scenario, write_scenario
from .worker import RunControl, SimWorker, warm_up


class MainWindow(QtWidgets.QMainWindow):
    #: emitted with the Result when a run ends (finished or stopped)
    run_finished = QtCore.Signal(object)
    run_failed = QtCore.Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.path: Path | None = None
        self.worker: SimWorker | None = None
        self.control: RunControl | None = None
        self.result = None
        self.run_data: RunData | None = None
        self.run_scenario: dict | None = None
        self.ref_data: RunData | None = None
        self.ref_scenario: dict | None = None
        self.ref_summary: dict | None = None
        self._storage_levels: dict = {}
        self._component_levels: dict = {}
        self.resize(1500, 950)

        self.panel = ComponentPanel()
        self.plots = PlotPanel()
        self.compare = CompareView()
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.addTab(self.plots, "plots")
        self.tabs.addTab(self.compare, "summary and compare")
        splitter = QtWidgets.QSplitter()
        splitter.addWidget(self.panel)
        splitter.addWidget(self.tabs)
        splitter.setSizes([430, 1070])
        self.setCentralWidget(splitter)
        self.events = EventLog()
        self.console = FirmwareConsole()
        bottom = QtWidgets.QTabWidget()
        bottom.addTab(self.events, "event log")
        bottom.addTab(self.console, "firmware console")
        dock = QtWidgets.QDockWidget("events", self)
        dock.setObjectName("events_dock")
        dock.setWidget(bottom)
        self.addDockWidget(QtCore.Qt.BottomDockWidgetArea, dock)
        self.resizeDocks([dock], [190], QtCore.Qt.Vertical)
        self.controls = RunControls(self)
        self.addToolBar(self.controls)
        self._menus()

        self.controls.run_clicked.connect(self.start_run)
        self.controls.pause_toggled.connect(self._pause)
        self.controls.stop_clicked.connect(self.stop_run)
        self.controls.to_end_clicked.connect(self.run_to_end)
        self.controls.speed_changed.connect(self._speed_changed)
        self.panel.validated.connect(self._validated)
        self.panel.edited.connect(self._title)
        self.events.time_chosen.connect(lambda t: self.plots.show_time(t, self._zoom_span()))
        self._redraw = QtCore.QTimer(self, interval=100)
        self._redraw.timeout.connect(self._refresh_plots)
        self._redraw.start()
        warm_up()

    # --- menus --------------------------------------------------------------------------------
    def _menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            act = menu.addAction(text)
            act.triggered.connect(slot)
            if shortcut:
                act.setShortcut(QtGui.QKeySequence(shortcut))
            return act

        file = self.menuBar().addMenu("&File")
        action(file, "New (default scenario)", self.new_scenario, "Ctrl+N")
        action(file, "Open scenario…", self._open_dialog, "Ctrl+O")
        action(file, "Save scenario", self.save, "Ctrl+S")
        action(file, "Save scenario as…", self._save_dialog, "Ctrl+Shift+S")
        file.addSeparator()
        self.export_csv_action = action(file, "Export trace CSV…", self._export_csv_dialog)
        action(file, "Export plot PNG…", self._export_png_dialog)
        file.addSeparator()
        action(file, "Quit", self.close, "Ctrl+Q")
        run = self.menuBar().addMenu("&Run")
        action(run, "Run", self.start_run, "Ctrl+R")
        action(run, "Run to end", self.run_to_end, "Ctrl+E")
        action(run, "Stop", self.stop_run, "Ctrl+.")
        compare = self.menuBar().addMenu("&Compare")
        self.keep_action = action(compare, "Keep this run as reference", self.keep_reference, "Ctrl+K")
        action(compare, "Load reference trace CSV…", self._load_reference_dialog)
        action(compare, "Clear reference", self.clear_reference)
        view = self.menuBar().addMenu("&View")
        action(view, "Show whole run", self.plots.auto_range, "Ctrl+0")

    # --- files --------------------------------------------------------------------------------
    def new_scenario(self) -> None:
        from sysim.commands.run import default_scenario_path

        self.open_file(default_scenario_path())
        self.path = None
        self.panel.source = "<gui>"
        self._title()

    def open_file(self, path: str | os.PathLike) -> None:
        """Show a scenario file in the panel (ScenarioError if it cannot be read as TOML)."""
        path = Path(path)
        data = read_scenario(path)
        self.panel.set_scenario_data(data, source=str(path), base_dir=str(path.resolve().parent))
        self.path = path
        self._title()

    def save(self, path: str | os.PathLike | None = None) -> Path | None:
        if path is None and self.path is None:
            return self._save_dialog()
        target = Path(path) if path is not None else self.path
        write_scenario(target, self.panel.scenario_data())
        self.path = target
        self.panel.source, self.panel.base_dir = str(target), str(target.resolve().parent)
        self.panel.validate()  # relative file names now resolve against the new folder
        self.statusBar().showMessage(f"saved {target}" + ("" if self.panel.scenario else " (it has errors)"), 5000)
        self._title()
        return target

    def export_csv(self, path: str | os.PathLike) -> Path:
        if self.result is None:
            raise RuntimeError("no finished run to export")
        return self.result.to_csv(path)

    def export_png(self, path: str | os.PathLike) -> Path:
        if not self.plots.grab().save(str(path)):
            raise OSError(f"cannot write {path}")
        return Path(path)

    def _open_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "open scenario", "", "scenario (*.toml)")
        if path:
            self._guarded(self.open_file, path)

    def _save_dialog(self) -> Path | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "save scenario", str(self.path or "scenario.toml"),
                                                        "scenario (*.toml)")
        return self._guarded(self.save, path) if path else None

    def _export_csv_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "export trace", "trace.csv", "CSV (*.csv)")
        if path:
            self._guarded(self.export_csv, path)

    def _export_png_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "export plot", "plot.png", "PNG (*.png)")
        if path:
            self._guarded(self.export_png, path)

    def _load_reference_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "reference trace", "", "CSV (*.csv)")
        if path:
            self._guarded(self.load_reference_csv, path)

    def _guarded(self, fn, *args):
        try:
            return fn(*args)
        except (ScenarioError, OSError, ValueError, RuntimeError) as exc:
            QtWidgets.QMessageBox.warning(self, "sysim", getattr(exc, "message", None) or str(exc))
            return None

    def _title(self) -> None:
        name = self.panel.name_edit.text() or (self.path.stem if self.path else "new scenario")
        self.setWindowTitle(f"sysim — {name}" + (f" — {self.path}" if self.path else ""))

    # --- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start_run(self, speed: float | None | str = "panel") -> bool:
        """Run the panel's scenario (speed from the toolbar unless given); False if invalid."""
        if self.running:
            return False
        scenario = self.panel.validate()
        if scenario is None:
            message = "; ".join(e.message for e in self.panel.errors)
            self.controls.status.setText(" fix the scenario first")
            self.statusBar().showMessage(message, 10000)
            return False
        duration = scenario.simulation.duration
        try:
            speed = self.controls.speed(duration) if speed == "panel" else speed
        except ValueError as exc:
            self.statusBar().showMessage(str(exc), 10000)
            return False
        self.run_scenario = self.panel.scenario_data()
        self.result, self.run_data = None, None
        self.events.clear()
        self.console.clear()
        self.plots.set_run(None)
        self.plots.set_time_axis(duration)
        self._storage_levels = _storage_levels(scenario.storage)
        self._component_levels = {}
        self._update_thresholds()
        self.control = RunControl(speed)
        self.worker = SimWorker(scenario, self.control)
        self.worker.started.connect(self._started)
        self.worker.rows.connect(self._rows)
        self.worker.events.connect(self._events)
        self.worker.thresholds.connect(self._thresholds)
        self.worker.progress.connect(self.controls.show_progress)
        self.worker.finished.connect(self._finished)
        self.worker.failed.connect(self._failed)
        self.controls.set_running(True)
        self.controls.status.setText(" starting…")
        self.worker.start()
        return True

    def run_to_end(self) -> None:
        if self.running:
            self.control.set_speed(None)
            self.control.resume()
            self.controls.set_running(True)
        else:
            self.start_run(speed=None)

    def stop_run(self) -> None:
        if self.control is not None:
            self.control.stop()

    def _pause(self, paused: bool) -> None:
        if self.control is not None:
            (self.control.pause if paused else self.control.resume)()

    def _speed_changed(self) -> None:
        if self.control is not None and self.running and self.panel.scenario is not None:
            try:
                self.control.set_speed(self.controls.speed(self.panel.scenario.simulation.duration))
            except ValueError as exc:
                self.statusBar().showMessage(str(exc), 10000)

    def _started(self, info: dict) -> None:
        label = "run"
        if self.ref_data is not None and self.ref_scenario is not None:
            ref_label, label = run_labels(self.ref_scenario, self.run_scenario)
            self.ref_data.label = ref_label
            self.plots.set_run(self.ref_data, "ref")
        self.run_data = RunData(info["columns"], info["kinds"], label)
        self.plots.set_run(self.run_data)
        if self.run_data.cell_columns():  # packs: per-cell limits on the cell plot
            for name in ("brown-out", "over-voltage"):
                if name in self._storage_levels:
                    level = self._storage_levels[name][1] / self._storage_levels["_series"]
                    self._storage_levels[f"{name} (cell)"] = ("cells", level)
            self._update_thresholds()
        self.console.set_sources(info["firmware"] + ["firmware"])

    def _rows(self, rows) -> None:
        self.run_data.append(rows)
        self.plots.mark_dirty()

    def _events(self, events) -> None:
        self.events.append(events)
        self.console.append_events(events)

    def _thresholds(self, levels: dict) -> None:
        cells = bool(self.run_data and self.run_data.cell_columns())
        series = self._storage_levels.get("_series", 1)
        placed = {}
        for label, (output, level) in levels.items():
            if output == "terminal":
                placed[label] = ("voltage", level)
            elif cells:
                placed[label] = ("cells", level)
            else:  # a per-cell level of identical cells, shown on the terminal axis
                placed[f"{label} (×{series})" if series > 1 else label] = ("voltage", level * series)
        self._component_levels = placed
        self._update_thresholds()

    def _update_thresholds(self) -> None:
        levels = {k: v for k, v in self._storage_levels.items() if not k.startswith("_")}
        self.plots.set_thresholds({**levels, **self._component_levels})

    def _refresh_plots(self) -> None:
        start = time.perf_counter()
        self.plots.refresh()
        cost = time.perf_counter() - start + self.plots.paint_s
        # keep redraws (taking in rows + repainting) under a tenth of the GUI thread's time
        self._redraw.setInterval(int(min(2000, max(100, 10_000 * cost))))

    def _finished(self, result) -> None:
        self.result = result
        self.events.flush()
        self._end_run()
        self.plots.mark_dirty()
        self.plots.refresh()
        s = result.summary
        first = s.get("first_brownout_s")
        self.controls.status.setText(
            (" stopped" if s.get("interrupted") else " done") + f": {format_duration(s['duration_s'])}, "
            f"min {s['min_voltage_V']:.4g} V, {s['brownouts']} brown-out(s)"
            + (f" (first after {format_duration(first)})" if first is not None else "")
            + f", uptime {100 * s['uptime_fraction']:.4g} %")
        self._show_compare()
        self.run_finished.emit(result)

    def _failed(self, error) -> None:
        self._end_run()
        if isinstance(error, ScenarioError):
            self.panel.show_errors([error])
            text = error.message
        else:
            text = str(error)
        self.controls.status.setText(" failed")
        self.statusBar().showMessage(text.splitlines()[0], 15000)
        self.run_failed.emit(error)

    def _end_run(self) -> None:
        if self.worker is not None:
            self.worker.wait()
        self.worker = None
        self.controls.set_running(False)

    # --- compare ------------------------------------------------------------------------------
    def keep_reference(self) -> None:
        if self.run_data is None or self.running:
            self.statusBar().showMessage("finish a run first", 5000)
            return
        self.ref_data, self.ref_scenario = self.run_data, self.run_scenario
        self.ref_summary = self.result.summary if self.result is not None else None
        self.ref_data.label = "reference"
        self.plots.set_run(self.ref_data, "ref")
        self._show_compare()

    def load_reference_csv(self, path: str | os.PathLike) -> None:
        self.ref_data = RunData.from_csv(path)
        self.ref_scenario, self.ref_summary = None, None
        self.plots.set_run(self.ref_data, "ref")
        self._show_compare()

    def clear_reference(self) -> None:
        self.ref_data = self.ref_scenario = self.ref_summary = None
        self.plots.set_run(None, "ref")
        self._show_compare()

    def _show_compare(self) -> None:
        run = self.result.summary if self.result is not None else None
        diffs = differences(self.ref_scenario, self.run_scenario) if self.ref_scenario and self.run_scenario else None
        ref_label = self.ref_data.label if self.ref_data is not None else "reference"
        run_label = self.run_data.label if self.run_data is not None else "run"
        self.compare.update_runs(run, self.ref_summary, run_label, ref_label, diffs,
                                 self.result.ledger if self.result is not None else None)

    def _zoom_span(self) -> float:
        return max(60.0, 0.02 * (self.run_data.t_end if self.run_data else 3600.0))

    def _validated(self, scenario, errors) -> None:
        if not self.running:
            self.controls.run_action.setEnabled(scenario is not None)
            self.controls.run_action.setToolTip("; ".join(e.message for e in errors) or "run the scenario")

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if self.control is not None:
            self.control.stop()
        self._end_run()
        super().closeEvent(event)


def _storage_levels(storage) -> dict:
    """Brown-out and over-voltage levels of the storage on the terminal axis (per cell × series)."""
    series = getattr(storage, "series", 1) or 1
    out: dict = {"_series": series}
    if getattr(storage, "v_min", None) is not None:
        out["brown-out"] = ("voltage", storage.v_min * series)
    if getattr(storage, "v_max", None) is not None:
        out["over-voltage"] = ("voltage", storage.v_max * series)
    return out
