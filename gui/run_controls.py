"""Run controls: run, pause / resume, stop, run to end, the speed factor and the progress bar.

The speed factor is simulated time per wall-clock second: pick one of the list or type a duration
("2 h" means two simulated hours per second). "auto" plays the whole run in about 20 s; "max" runs
as fast as the engine goes (that is what "run to end" switches to).
"""
from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

from sysim.units import UnitError, format_duration, parse_quantity

AUTO_WALL_S = 20.0
SPEEDS = (("auto (whole run in ~20 s)", "auto"), ("real time (1 s/s)", 1.0), ("1 min/s", 60.0),
          ("10 min/s", 600.0), ("1 h/s", 3600.0), ("6 h/s", 21600.0), ("1 d/s", 86400.0),
          ("1 week/s", 604800.0), ("30 d/s", 2592000.0), ("max", None))


class RunControls(QtWidgets.QToolBar):
    run_clicked = QtCore.Signal()
    pause_toggled = QtCore.Signal(bool)
    stop_clicked = QtCore.Signal()
    to_end_clicked = QtCore.Signal()
    speed_changed = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__("run", parent)
        self.setObjectName("run_controls")
        icon = self.style().standardIcon
        self.setToolButtonStyle(QtCore.Qt.ToolButtonTextBesideIcon)
        self.run_action = self.addAction(icon(QtWidgets.QStyle.SP_MediaPlay), "Run")
        self.run_action.setToolTip("run the scenario at the chosen speed (Ctrl+R)")
        self.pause_action = self.addAction(icon(QtWidgets.QStyle.SP_MediaPause), "Pause")
        self.pause_action.setCheckable(True)
        self.stop_action = self.addAction(icon(QtWidgets.QStyle.SP_MediaStop), "Stop")
        self.to_end_action = self.addAction(icon(QtWidgets.QStyle.SP_MediaSkipForward), "Run to end")
        self.to_end_action.setToolTip("as fast as possible to the end of the run")
        self.addSeparator()
        self.addWidget(QtWidgets.QLabel(" speed "))
        self.speed_combo = QtWidgets.QComboBox()
        self.speed_combo.setObjectName("speed")
        self.speed_combo.setEditable(True)
        self.speed_combo.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.speed_combo.setMinimumWidth(190)
        for text, value in SPEEDS:
            self.speed_combo.addItem(text, value)
        self.speed_combo.setToolTip("simulated time per wall-clock second; type e.g. “2 h” for 2 h/s")
        self.addWidget(self.speed_combo)
        self.addSeparator()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.addWidget(self.progress)
        self.status = QtWidgets.QLabel(" ready")
        self.addWidget(self.status)
        self.run_action.triggered.connect(self.run_clicked)
        self.pause_action.toggled.connect(self._paused)
        self.stop_action.triggered.connect(self.stop_clicked)
        self.to_end_action.triggered.connect(self.to_end_clicked)
        self.speed_combo.activated.connect(lambda _: self.speed_changed.emit())
        self.speed_combo.lineEdit().editingFinished.connect(self.speed_changed)
        self._shown_at = 0.0
        self.set_running(False)

    def _paused(self, paused: bool) -> None:
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)

    def speed(self, duration_s: float) -> float | None:
        """Simulated seconds per wall second (None: as fast as possible); ValueError if unreadable."""
        text = self.speed_combo.currentText().strip()
        index = self.speed_combo.findText(text)
        value = self.speed_combo.itemData(index) if index >= 0 else _parse_speed(text)
        if value == "auto":
            return duration_s / AUTO_WALL_S
        return value

    def set_speed(self, seconds_per_s: float | None) -> None:
        index = self.speed_combo.findData(seconds_per_s)
        if index >= 0:
            self.speed_combo.setCurrentIndex(index)
        else:
            self.speed_combo.setEditText(f"{format_duration(seconds_per_s)}")
        self.speed_changed.emit()

    def set_running(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        if not running and self.pause_action.isChecked():
            self.pause_action.blockSignals(True)
            self.pause_action.setChecked(False)
            self.pause_action.setText("Pause")
            self.pause_action.blockSignals(False)

    def show_progress(self, t_s: float, t_end_s: float, wall_s: float) -> None:
        now = time.perf_counter()
        if now - self._shown_at < 0.2 and t_s < t_end_s:
            return  # a few updates a second are enough to read
        self._shown_at = now
        self.progress.setValue(int(1000 * t_s / t_end_s) if t_end_s > 0 else 0)
        rate = f" · {t_s / wall_s:,.0f}× real time" if wall_s > 0.2 else ""
        self.status.setText(f" {format_duration(t_s)} of {format_duration(t_end_s)}{rate}")


def _parse_speed(text: str) -> float:
    cleaned = text.split("/")[0].strip()
    try:
        value = parse_quantity(cleaned, "time")
    except UnitError as exc:
        raise ValueError(f"speed: {exc}; type a duration per second such as “2 h”") from None
    if not value > 0:
        raise ValueError("speed must be positive")
    return value
