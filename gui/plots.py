"""Live plots on one shared, zoomable time axis (pyqtgraph).

Storage voltage with the brown-out, over-voltage and component (PMIC, firmware comparator)
thresholds; per-cell voltages for packs; mean harvested / delivered / lost power per record
interval; load currents; state of charge (or stored energy); the cumulative energy ledger. A
reference run (compare) is overlaid dashed.

The time axis spans the whole run from the start, so the curves grow across it while a run streams.
Each curve is given only what the view can show: every sample once few enough are in the visible
window, else the min/max envelope per block (:func:`gui.decimate.envelope`), recomputed when the
view is zoomed or panned. So a year of one-minute samples draws, zooms and pans in milliseconds,
and spikes never disappear.
"""
from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore

from sysim.units import time_scale

from .decimate import envelope
from .rundata import RunData

_COLORS = ["#1f5fa8", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d35400",
           "#2c3e50", "#f39c12"]
_LEDGER = (("energy_harvested_J", "harvested", "#27ae60"), ("energy_to_loads_J", "to loads", "#e67e22"),
           ("energy_lost_J", "lost", "#7f8c8d"))
_THRESHOLD_COLORS = {"brown-out": "#c0392b", "over-voltage": "#8e44ad"}
MAX_POINTS = 4000  # per curve and view at most; two per pixel column of the plot

pg.setConfigOptions(antialias=False, background="w", foreground="#333333")

Series = dict[tuple[str, str], tuple[np.ndarray, np.ndarray, str]]


class PlotPanel(pg.GraphicsLayoutWidget):
    """Stacked plots; :meth:`series_data` gives the full arrays behind a curve."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.time_scale, self.time_unit, self.duration_s = 3600.0, "hours", 3600.0
        self.plots: dict[str, pg.PlotItem] = {}
        titles = (("voltage", "storage", "V"), ("power", "mean power", "W"), ("current", "load current", "A"),
                  ("charge", "state of charge (%)", None), ("ledger", "energy", "J"))
        for row, (key, title, unit) in enumerate(titles):
            self.plots[key] = self._add_plot(2 * row, title, unit)
        self._cells_plot = self._add_plot(1, "cells", "V", legend=False)
        self._show_cells(False)
        self.plots["ledger"].setLabel("bottom", f"time ({self.time_unit})")
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}  # (role, plot, name)
        self.runs: dict[str, RunData | None] = {"run": None, "ref": None}
        self._series: dict[str, Series] = {}
        self._series_count: dict[str, int] = {}
        self._lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._threshold_levels: dict[str, tuple[str, float]] = {}
        self._dirty = False
        self.paint_s = 0.0  # wall time of the last repaint (the window paces its redraws by it)
        self._view_timer = QtCore.QTimer(self, singleShot=True, interval=30)
        self._view_timer.timeout.connect(self._draw)
        self.plots["voltage"].sigXRangeChanged.connect(lambda *_: self._view_timer.start())

    def _add_plot(self, row: int, title: str, unit: str, legend: bool = True) -> pg.PlotItem:
        plot = self.addPlot(row=row, col=0)
        plot.setLabel("left", title, units=unit)
        # a fixed axis width keeps the stacked plots aligned and spares a relayout of the whole
        # panel whenever a tick label grows a digit during a run
        plot.getAxis("left").setWidth(62)
        plot.getViewBox().setDefaultPadding(0.06)
        plot.enableAutoRange(x=False, y=True)
        if legend:  # a legend on a hidden plot upsets pyqtgraph's teardown
            plot.addLegend(offset=(-10, 5), labelTextSize="8pt")
        if "voltage" in self.plots:
            plot.setXLink(self.plots["voltage"])
        return plot

    def _show_cells(self, visible: bool) -> None:
        """The per-cell plot shows only for packs with per-cell outputs."""
        self._cells_plot.setVisible(visible)
        if visible:
            self.plots["cells"] = self._cells_plot
        else:
            self.plots.pop("cells", None)

    # --- data ---------------------------------------------------------------------------------
    def set_time_axis(self, duration_s: float) -> None:
        """Choose the time unit for a run of ``duration_s`` and show all of it."""
        self.duration_s = duration_s
        self.time_scale, self.time_unit = time_scale(duration_s)
        for plot in [*self.plots.values(), self._cells_plot]:
            plot.getAxis("bottom").setScale(1.0 / self.time_scale)
        self.plots["ledger"].setLabel("bottom", f"time ({self.time_unit})")
        self._series_count.clear()
        self.auto_range()

    def set_run(self, data: RunData | None, role: str = "run") -> None:
        """Show ``data`` as the current run (``role="run"``) or the reference (``"ref"``)."""
        for key in [k for k in self.curves if k[0] == role]:
            plot = self._cells_plot if key[1] == "cells" else self.plots[key[1]]
            plot.removeItem(self.curves.pop(key))  # also leaves the legend
        self.runs[role] = data
        self._series.pop(role, None)
        self._series_count.pop(role, None)
        self._dirty = True
        self.refresh()

    def set_thresholds(self, levels: dict[str, tuple[str, float]]) -> None:
        """Horizontal lines: ``{label: (plot key "voltage" | "cells", level V)}``."""
        for plot, line in self._lines:
            plot.removeItem(line)
        self._lines = []
        self._threshold_levels = dict(levels)
        for i, (label, (plot_key, level)) in enumerate(sorted(levels.items(), key=lambda kv: kv[1][1])):
            color = next((c for word, c in _THRESHOLD_COLORS.items() if word in label), "#95a5a6")
            line = pg.InfiniteLine(pos=level, angle=0, pen=pg.mkPen(color, width=1, style=QtCore.Qt.DashLine),
                                   label=f"{label} {level:.4g} V",
                                   labelOpts={"position": 0.03 + 0.19 * (i % 5), "color": color,
                                              "fill": (255, 255, 255, 170), "anchors": [(0, 0.5), (0, 0.5)]})
            plot = self._cells_plot if plot_key == "cells" else self.plots[plot_key]
            plot.addItem(line, ignoreBounds=False)
            self._lines.append((plot, line))

    @property
    def thresholds(self) -> dict[str, tuple[str, float]]:
        return dict(self._threshold_levels)

    def mark_dirty(self) -> None:
        self._dirty = True

    # --- series -------------------------------------------------------------------------------
    def series(self, data: RunData) -> Series:
        """Every curve of a run at full resolution: ``(plot, name) -> (t in s, y, colour)``; views
        of the run's buffers, no copies (the time axis shows ``t`` in its unit by scaling)."""
        t = data.column("time_s")
        out: Series = {("voltage", "terminal"): (t, data.column("voltage_V"), _COLORS[0])}
        for i, col in enumerate(data.cell_columns()):
            out[("cells", col[:-2])] = (t, data.column(col), _COLORS[i % len(_COLORS)])
        for col, name, color in _LEDGER:
            out[("power", name)] = (*data.mean_power(col), color)
            out[("ledger", name)] = (t, data.column(col), color)
        out[("ledger", "Δ stored")] = (t, data.stored_change(), _COLORS[0])
        out[("current", "mean, all loads")] = (*data.mean_load_current(), "#2c3e50")
        for i, col in enumerate(data.load_columns()):
            out[("current", f"{col[:-2]} (sampled)")] = (t, data.column(col), _COLORS[(i + 1) % len(_COLORS)])
        kind, values = data.charge_series()
        out[("charge", kind)] = (t, values, "#16a085")
        return out

    def series_data(self, role: str, plot_key: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The full-resolution arrays behind a curve."""
        x, y, _ = self._series[role][(plot_key, name)]
        return x, y

    def curve_data(self, role: str, plot_key: str, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What the curve draws now (the envelope for the visible window)."""
        curve = self.curves[(role, plot_key, name)]
        return curve.xData, curve.yData

    def refresh(self) -> None:
        """Take in new samples (cheap when nothing changed)."""
        if not self._dirty:
            return
        self._dirty = False
        for role, data in self.runs.items():
            if data is None or data.count == 0 or self._series_count.get(role) == data.count:
                continue
            self._series[role] = self.series(data)
            self._series_count[role] = data.count
            if role == "run":
                self._show_cells(bool(data.cell_columns()))
                kind, _ = data.charge_series()
                axis = self.plots["charge"].getAxis("left")
                if kind == "soc":  # a fraction, shown in %
                    axis.setScale(100.0)
                    self.plots["charge"].setLabel("left", "state of charge (%)", units=None)
                else:
                    axis.setScale(1.0)
                    self.plots["charge"].setLabel("left", "stored energy", units="J")
        self._draw()

    def _draw(self) -> None:
        """Give each curve the envelope of its series for the visible window."""
        x0, x1 = self.plots["voltage"].viewRange()[0]
        margin = 0.1 * (x1 - x0)
        points = max(400, int(self.plots["voltage"].getViewBox().width()))  # a min/max pair per 2 px
        for role, series in self._series.items():
            label = self.runs[role].label if self.runs.get(role) is not None else role
            for (plot_key, name), (x, y, color) in series.items():
                if plot_key not in self.plots:
                    continue
                curve = self.curves.get((role, plot_key, name)) or self._make_curve(role, plot_key, name, color, label)
                curve.setData(*envelope(x, y, x0 - margin, x1 + margin, min(points, MAX_POINTS)))

    def _make_curve(self, role, plot_key, name, color, label) -> pg.PlotDataItem:
        style = QtCore.Qt.SolidLine if role == "run" else QtCore.Qt.DashLine
        pen = pg.mkPen(color, width=1, style=style)  # 1 px cosmetic: the fastest raster path
        if role == "run":
            legend = name if self.runs["ref"] is None or plot_key != "voltage" else f"{name} · {label}"
        else:  # one legend entry says which run is dashed; the colours match the run's curves
            legend = f"{label or 'reference'} (dashed)" if (plot_key, name) == ("voltage", "terminal") else None
        curve = pg.PlotDataItem(pen=pen, name=legend, connect="finite")
        self.plots[plot_key].addItem(curve)
        if name.endswith("(sampled)"):
            # instantaneous values at the sample times alias with pulses; shown on request
            # (click the legend entry)
            curve.setVisible(False)
        self.curves[(role, plot_key, name)] = curve
        return curve

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_s = time.perf_counter() - start

    # --- view ---------------------------------------------------------------------------------
    def show_time(self, t_s: float, span_s: float) -> None:
        """Zoom the shared time axis to ``span_s`` around ``t_s``."""
        self.plots["voltage"].setXRange(t_s - 0.5 * span_s, t_s + 0.5 * span_s, padding=0)

    def auto_range(self) -> None:
        """The whole run (and the reference) on the time axis, every y axis fitted."""
        end = max([self.duration_s] + [d.t_end for d in self.runs.values() if d is not None and d.count])
        self.plots["voltage"].setXRange(0.0, end, padding=0.01)
        for plot in [*self.plots.values(), self._cells_plot]:
            plot.enableAutoRange(x=False, y=True)
