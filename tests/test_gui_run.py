"""Dashboard runs: what is plotted is what the Python API computes, live runs stay responsive,
pause / resume / speed / stop act, runs compare and export."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore

import sysim
from gui.main_window import MainWindow
from gui.rundata import RunData
from gui_helpers import EXPECTED, build_node_through_widgets, quiet, run_and_wait, wait_until


@pytest.fixture
def window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.stop_run()
    w.close()


def api_series(result) -> dict:
    """The plotted series computed independently from the API's trace."""
    col = result.column
    t = col("time_s")
    dt = np.diff(t)
    v = col("voltage_V")
    out = {("voltage", "terminal"): (t, v), ("charge", "soc"): (t, col("soc")),
           ("ledger", "Δ stored"): (t, col("stored_energy_J") - col("stored_energy_J")[0])}
    for name, column in (("harvested", "energy_harvested_J"), ("to loads", "energy_to_loads_J"),
                         ("lost", "energy_lost_J")):
        out[("power", name)] = (t[1:], np.diff(col(column)) / dt)
        out[("ledger", name)] = (t, col(column))
    out[("current", "mean, all loads")] = (t[1:], np.diff(col("energy_to_loads_J")) / dt / (0.5 * (v[1:] + v[:-1])))
    for load in ("radio", "mcu"):
        out[("current", f"{load} (sampled)")] = (t, col(f"{load}_A"))
    return out


def test_node_built_through_widgets_plots_what_the_api_computes(qtbot, window):
    build_node_through_widgets(window)
    assert window.panel.validate() is not None, [e.message for e in window.panel.errors]
    assert window.panel.scenario_data() == EXPECTED
    result = run_and_wait(qtbot, window)
    api = sysim.simulate(sysim.from_dict(EXPECTED))
    assert api.summary["brownouts"] >= 1  # the node browns out at night: events to show
    assert result.summary["brownouts"] == api.summary["brownouts"]
    assert window.run_data.count == len(api.rows) == 12 * 3600 // 53 + 2  # samples + the end row
    # 1. lossless transport: what is plotted is exactly what the run recorded
    plotted = {key[1:]: window.plots.series_data(*key) for key in window.plots.curves if key[0] == "run"}
    own = api_series(result)
    assert set(plotted) == set(own)
    for key, (x, y) in own.items():
        np.testing.assert_array_equal(plotted[key][0], x, err_msg=str(key))
        np.testing.assert_allclose(plotted[key][1], y, rtol=1e-12, atol=0, err_msg=str(key))
    # 2. ... and that equals the Python API's run. The GUI's run is cut into chunks for streaming,
    # so its rounding differs: compare each series at 1e-9 of its physical scale (energies: the
    # largest ledger total; power and mean current: that energy over one 53 s interval).
    energy = max(api.column(c).max() for c in ("energy_harvested_J", "energy_to_loads_J", "energy_lost_J",
                                                "stored_energy_J"))
    scale = {"voltage": 3.0, "charge": 1.0, "ledger": energy, "power": energy / 53.0,
             "current": energy / 53.0 / 1.5}
    for key, (x, y) in api_series(api).items():
        px, py = plotted[key]
        np.testing.assert_allclose(px, x, rtol=1e-12, err_msg=str(key))
        atol = 1e-9 * (1e-3 if "sampled" in key[1] else scale[key[0]])
        np.testing.assert_allclose(py, y, rtol=1e-9, atol=atol, err_msg=str(key))
    # the event log shows the engine's events, in order
    logged = [(e.t, e.source, e.message) for e in window.events.model.events]
    assert [(s, m) for _, s, m in logged] == [(e.source, e.message) for e in api.events]
    np.testing.assert_allclose([t for t, _, _ in logged], [e.t for e in api.events], rtol=1e-9)
    assert any("brown-out" in m for _, _, m in logged)
    # thresholds drawn on the voltage plot
    assert window.plots.thresholds["brown-out"] == ("voltage", 1.9)
    assert window.plots.thresholds["over-voltage"] == ("voltage", 2.7)
    # the exported CSV is the API's trace
    csv = window.export_csv(window_tmp(window) / "trace.csv")
    exported = np.loadtxt(csv, delimiter=",", skiprows=1)
    np.testing.assert_allclose(exported, api.rows, rtol=1e-9, atol=1e-15)


def window_tmp(window):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp(prefix="sysim-gui-"))
    return path


def test_curves_show_every_sample_when_zoomed_and_the_envelope_when_not(qtbot, window):
    window.panel.set_scenario_data(quiet("10 d", "2 min"))
    run_and_wait(qtbot, window)
    x, y = window.plots.series_data("run", "voltage", "terminal")
    assert len(x) == 10 * 720 + 1
    window.plots.auto_range()
    window.plots._draw()
    cx, cy = window.plots.curve_data("run", "voltage", "terminal")
    assert len(cx) < 4100  # decimated for the whole run
    assert cy.min() == y.min() and cy.max() == y.max()  # spikes survive
    window.plots.show_time(86400.0 * 5, 3600.0)  # one hour: 30 samples, all drawn
    window.plots._draw()
    cx, cy = window.plots.curve_data("run", "voltage", "terminal")
    inside = (x >= 86400 * 5 - 1800) & (x <= 86400 * 5 + 1800)
    assert inside.sum() <= len(cx) and np.isin(x[inside], cx).all()
    np.testing.assert_array_equal(cy[np.isin(cx, x[inside])], y[inside])


def test_event_loop_stays_responsive_while_a_year_streams(qtbot, window):
    # a radio every 15 min: few events, so the engine pours out one-minute samples quickly
    window.panel.set_scenario_data(quiet("365 d", "1 min"))
    gaps: list[float] = []      # wall-clock time between ticks of a 10 ms timer
    busy: list[float] = []      # CPU time the GUI thread spent between them
    last = [time.perf_counter(), time.thread_time()]

    def tick():
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append(now - last[0])
        busy.append(cpu - last[1])
        last[:] = [now, cpu]

    timer = QtCore.QTimer()
    timer.setTimerType(QtCore.Qt.PreciseTimer)
    timer.timeout.connect(tick)
    assert window.start_run(speed=None)
    wait_until(lambda: window.run_data is not None and window.run_data.count > 1000)
    rows_before = window.run_data.count
    timer.start(10)
    last[:] = [time.perf_counter(), time.thread_time()]
    t_end = time.perf_counter() + 4.0
    while time.perf_counter() < t_end:
        qtbot.wait(20)
    timer.stop()
    streamed = window.run_data.count - rows_before
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.stop_run()
    result = blocker.args[0]
    assert result.summary["interrupted"] is True
    assert streamed > 5_000, streamed            # days of one-minute samples arrived meanwhile
    print(f"streamed {streamed} rows; event-loop gaps: median {1000 * np.median(gaps):.1f} ms, "
          f"max {1000 * max(gaps[1:]):.1f} ms; GUI thread busy at most {1000 * max(busy[1:]):.1f} ms per gap")
    assert window.run_data.count == len(result.rows)
    gaps_ms, busy_ms = 1000.0 * np.array(gaps[1:]), 1000.0 * np.array(busy[1:])
    assert len(gaps_ms) > 100
    # What the dashboard itself does between two ticks (take in rows, decimate, repaint) must never
    # hold the event loop for 100 ms: measured as the GUI thread's own CPU time, which a busy
    # machine cannot inflate. On the wall clock the loop keeps its 10 ms beat, and all but the
    # worst 5 % of ticks come within 100 ms even when other processes take the cores away at times.
    # (Without decimation and the separate process, ticks were 0.5-1.3 s apart.)
    assert busy_ms.max() < 100.0, f"the GUI thread computed {busy_ms.max():.0f} ms without a break"
    assert np.median(gaps_ms) < 20.0, f"median event-loop gap {np.median(gaps_ms):.0f} ms"
    p95 = np.percentile(gaps_ms, 95)
    assert p95 < 100.0, f"95th percentile of event-loop gaps {p95:.0f} ms (max {gaps_ms.max():.0f} ms)"


def test_pause_resume_speed_and_stop(qtbot, window):
    window.panel.set_scenario_data(quiet("30 d", "10 min"))
    start = time.perf_counter()
    assert window.start_run(speed=86400.0)  # one simulated day per second
    wait_until(lambda: window.run_data is not None and window.run_data.t_end > 0.5 * 86400)
    window.controls.pause_action.trigger()  # pause
    wait_until(lambda: window.run_data.t_end > 0 and window.control.paused)
    time.sleep(0.3)
    qtbot.wait(300)
    held = window.run_data.t_end
    qtbot.wait(600)
    assert window.run_data.t_end == held  # nothing moves while paused
    window.controls.pause_action.trigger()  # resume
    wait_until(lambda: window.run_data.t_end > held + 0.5 * 86400)
    elapsed = time.perf_counter() - start
    assert window.run_data.t_end <= 86400.0 * (elapsed + 0.5)  # paced: never ahead of 1 d/s
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.run_to_end()  # as fast as possible from here
    assert blocker.args[0].summary["duration_s"] == pytest.approx(30 * 86400)
    assert time.perf_counter() - start < 25.0  # far sooner than the 30 s the paced run would take
    # a stopped run keeps what finished
    assert window.start_run(speed=86400.0)
    wait_until(lambda: window.run_data is not None and window.run_data.t_end > 86400)
    with qtbot.waitSignal(window.run_finished, timeout=20000) as blocker:
        window.controls.stop_action.trigger()
    stopped = blocker.args[0]
    assert stopped.summary["interrupted"] and stopped.summary["duration_s"] < 30 * 86400
    assert window.run_data.count == len(stopped.rows)


def test_compare_overlays_two_storage_sizes(qtbot, window):
    small = {**EXPECTED, "simulation": {"duration": "1 d", "record_every": "53 s"}}
    large = {**small, "storage": {**small["storage"], "capacitance": "200 mF"}}
    window.panel.set_scenario_data(small)
    run_and_wait(qtbot, window)
    window.keep_reference()
    window.panel.storage.editor("capacitance").set_text("200 mF")
    run_and_wait(qtbot, window)
    api_small = sysim.simulate(sysim.from_dict(small))
    api_large = sysim.simulate(sysim.from_dict(large))
    assert api_small.summary["brownouts"] > api_large.summary["brownouts"]
    for role, api in (("ref", api_small), ("run", api_large)):
        x, y = window.plots.series_data(role, "voltage", "terminal")
        np.testing.assert_allclose(y, api.column("voltage_V"), rtol=1e-9)
    assert window.ref_data.label == "capacitance 15 mF" and window.run_data.label == "capacitance 200 mF"
    table = window.compare.table
    row = [r for r in range(table.rowCount()) if table.verticalHeaderItem(r).text() == "brown-outs"][0]
    assert table.item(row, 0).text() == str(api_small.summary["brownouts"])
    assert table.item(row, 1).text() == str(api_large.summary["brownouts"])
    assert "storage.capacitance: 15 mF → 200 mF" in window.compare.diff_label.text()
    # a reference can also come from an exported trace
    path = window_tmp(window) / "small.csv"
    api_small.to_csv(path)
    window.load_reference_csv(path)
    x, y = window.plots.series_data("ref", "voltage", "terminal")
    np.testing.assert_allclose(y, api_small.column("voltage_V"), rtol=1e-9)


def test_png_export_and_a_run_error_is_shown(qtbot, window, tmp_path):
    window.panel.set_scenario_data({**EXPECTED, "simulation": {"duration": "2 h"}})
    run_and_wait(qtbot, window)
    png = window.export_png(tmp_path / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    # a rail that does not exist is refused before the run starts, with the loader's own message
    bad = {**EXPECTED, "load": [{**EXPECTED["load"][1], "rail": "nowhere"}]}
    window.panel.set_scenario_data(bad)
    assert not window.start_run(speed=None)
    assert [(e.key, e.reason.split(";")[0]) for e in window.panel.errors] == [("load[0].rail", "unknown rail 'nowhere'")]


def test_rundata_from_a_trace_file_rejects_other_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a sysim trace"):
        RunData.from_csv(path)


def test_firmware_console_shows_only_what_firmware_components_logged(qtbot):
    from gui.events_view import FirmwareConsole
    from sysim.engine.simulation import EventRecord

    console = FirmwareConsole()
    qtbot.addWidget(console)
    console.set_sources(["fw"])
    console.append_events([EventRecord(1.5, "storage", "brown-out"), EventRecord(2.25, "fw", "hello from main.py"),
                           EventRecord(3.0, "fw", "reset (brown-out)")])
    assert console.toPlainText().splitlines() == ["[    2.250000 s] hello from main.py",
                                                  "[    3.000000 s] reset (brown-out)"]


def test_closing_the_window_ends_a_running_simulation(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.panel.set_scenario_data(quiet("365 d", "1 h"))
    assert window.start_run(speed=3600.0)  # would take a year of hours: 2.4 h of wall time
    wait_until(lambda: window.run_data is not None and window.run_data.count > 2)
    process = window.worker.process
    start = time.perf_counter()
    window.close()
    assert time.perf_counter() - start < 10.0
    assert not process.is_alive()
    assert window.worker is None


def test_pack_cells_get_their_own_plot_and_watched_levels_land_on_the_right_axis(window):
    columns = ["time_s", "voltage_V", "current_A", "soc", "stored_energy_J", "energy_harvested_J",
               "energy_to_loads_J", "energy_lost_J", "loads_on", "charging", "cell1_V", "cell2_V", "radio_A"]
    rows = np.zeros((50, len(columns)))
    rows[:, 0] = np.arange(50) * 60.0
    rows[:, 10], rows[:, 11] = 1.2 + 0.001 * np.arange(50), 1.25 - 0.001 * np.arange(50)
    rows[:, 1] = rows[:, 10] + rows[:, 11]
    data = RunData(columns, {"radio": "load"})
    data.append(rows)
    window._storage_levels = {"_series": 2, "brown-out": ("voltage", 2.0)}
    window._started({"columns": columns, "kinds": {"radio": "load"}, "firmware": []})
    window._rows(rows)
    window.plots.refresh()
    assert "cells" in window.plots.plots
    x, y = window.plots.series_data("run", "cells", "cell2")
    np.testing.assert_array_equal(y, rows[:, 11])
    window._thresholds({"pmic: power-good": ("terminal", 2.2), "fw: low cell": ("cell", 1.1)})
    levels = window.plots.thresholds
    assert levels["pmic: power-good"] == ("voltage", 2.2)
    assert levels["fw: low cell"] == ("cells", 1.1)
    assert levels["brown-out (cell)"] == ("cells", 1.0)
    # identical cells (no per-cell columns): a per-cell level is drawn on the terminal axis × series
    window._started({"columns": columns[:10] + ["radio_A"], "kinds": {"radio": "load"}, "firmware": []})
    window._thresholds({"fw: low cell": ("cell", 1.1)})
    assert window.plots.thresholds["fw: low cell (×2)"] == ("voltage", 2.2)
