"""`sysim run` on the bundled default scenario writes the three contract files."""
import csv
import json
import subprocess
import sys

import pytest

from sysim.result import CONTRACT_KEYS


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    return proc, out


def test_default_run_succeeds_and_prints_a_table(default_run):
    proc, _ = default_run
    assert proc.returncode == 0, proc.stderr
    for label in ("final voltage", "min / max voltage", "energy harvested", "brown-outs", "wall time"):
        assert label in proc.stdout


def test_summary_json_holds_the_contract_keys(default_run):
    _, out = default_run
    summary = json.loads((out / "summary.json").read_text())
    for key in CONTRACT_KEYS:
        assert key in summary, key
    assert summary["duration_s"] == pytest.approx(3 * 86400)
    assert summary["min_voltage_V"] <= summary["final_voltage_V"] <= summary["max_voltage_V"]
    assert abs(summary["energy_balance_error_J"]) < 1e-9 * (summary["energy_harvested_J"] + summary["energy_to_loads_J"])
    assert summary["brownouts"] >= 1 and summary["first_brownout_s"] > 0
    assert 0 < summary["uptime_fraction"] < 1


def test_trace_csv_starts_with_time_and_voltage(default_run):
    _, out = default_run
    with open(out / "trace.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["time_s", "voltage_V"]
    assert "sensor_A" in rows[0] and "radio_A" in rows[0]
    times = [float(r[0]) for r in rows[1:]]
    assert times[0] == 0.0 and times[-1] == pytest.approx(3 * 86400)
    assert len(rows) - 1 == 3 * 86400 / 120 + 1


def test_report_png_is_a_real_image(default_run):
    _, out = default_run
    data = (out / "report.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # four panels of real data, not an empty canvas


def test_duration_override_and_no_leftover_temporaries(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", "--duration", "6 h", "--out", str(tmp_path), "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["duration_s"] == pytest.approx(6 * 3600)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.png", "summary.json", "trace.csv"]


def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = subprocess.run([sys.executable, "-m", "sysim", "run", "--out", str(blocker / "out")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "cannot create output folder" in proc.stderr and "Traceback" not in proc.stderr


def test_streamed_trace_equals_the_in_memory_trace(tmp_path):
    import numpy as np

    import sysim
    from sysim.commands.run import default_scenario_path

    scenario = sysim.load(default_scenario_path())
    kept = sysim.simulate(scenario, duration=86400.0)
    streamed = sysim.simulate(scenario, duration=86400.0, stream_trace_to=str(tmp_path / "trace.csv"))
    assert streamed.trace_file and not (tmp_path / "trace.csv.partial").exists()
    np.testing.assert_allclose(streamed.rows, kept.rows, rtol=1e-11, atol=1e-15)
