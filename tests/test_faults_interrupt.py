"""Ctrl-C (SIGINT) during ``sysim run`` and ``sysim sweep``, sent to a real ``python -m sysim``
process while it is writing: every file left in the output folder is complete and consistent,
no temporary file is left behind, and the exit code is the documented 130 (sysim/cli.py)."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _own_group_with_default_sigint() -> None:
    # its own process group, so Ctrl-C can go to sysim and every process it started, as a
    # terminal sends it; and a child of a backgrounded shell inherits SIGINT ignored: restore it
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], env_extra: dict | None = None) -> tuple[subprocess.Popen, list[str]]:
    """Start ``python -m sysim ARGS``; a thread collects stdout lines as they come."""
    env = {**os.environ, **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, "-m", "sysim", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, preexec_fn=_own_group_with_default_sigint)
    seen: list[str] = []

    def pump():
        for line in proc.stdout:
            seen.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return proc, seen


def interrupt_when(proc: subprocess.Popen, ready, timeout_s: float = 120.0) -> tuple[str, str]:
    deadline = time.monotonic() + timeout_s
    while not ready():
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline, "never got ready to be interrupted"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C in a terminal: sysim and its children
    proc.wait(timeout=120)
    return "", proc.stderr.read()


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files (atomic writes use ``.<name>.*`` next to the target)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix in (".partial", ".tmp"))


def check_run_folder(out: Path, stream: bool = False) -> dict:
    """summary.json says interrupted and where it stopped; trace.csv has a header and whole rows
    only, ending at the summary's time; report.png is a PNG; nothing temporary is left."""
    assert leftovers(out) == []
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    t_end = summary["duration_s"]
    # the run stops after the step in progress at Ctrl-C (sampling stops at once): with a node
    # that has gone dark for good that step can reach the end
    assert 0 < t_end <= 3650 * 86400 * (1 + 1e-12)
    lines = (out / "trace.csv").read_text().split("\n")
    assert lines[-1] == ""  # ends with a newline: no row cut short
    header = lines[0].split(",")
    assert header[:2] == ["time_s", "voltage_V"]
    rows = np.array([[float(x) for x in line.split(",")] for line in lines[1:-1]])
    assert rows.shape[1] == len(header) and len(rows) >= 2
    times = rows[:, 0]
    assert np.all(np.diff(times) > 0)  # every sample once, in order: no chunk written twice or lost
    steps = np.diff(times[:-1])
    assert np.allclose(steps, steps[0], rtol=1e-9)  # evenly spaced up to Ctrl-C: no chunk lost
    assert len(times) - 1 >= 65_536 or not stream  # (streamed: a chunk was written before Ctrl-C)
    assert times[-1] == pytest.approx(t_end, rel=1e-11)  # trace.csv holds 12 significant digits
    assert rows[-1, 1] == pytest.approx(summary["final_voltage_V"], rel=1e-9)
    assert abs(summary["energy_balance_relative"]) < 1e-9  # the ledger is whole at the stop
    assert (out / "report.png").read_bytes()[:8] == PNG_MAGIC
    # every file gets the mode the user's umask gives new files (atomic writes used to give 0600)
    assert len({(out / name).stat().st_mode for name in ("summary.json", "trace.csv", "report.png")}) == 1
    return summary


@pytest.mark.parametrize("stream", [True, False], ids=["streamed-trace", "trace-in-memory"])
def test_ctrl_c_during_a_run_leaves_complete_files(tmp_path, stream):
    out = tmp_path / "out"
    args = ["run", "--duration", "3650 d", "--record-every", "1 min", "--out", str(out)]
    if stream:
        # the first 65,536 rows go to trace.csv.partial while the run goes on: interrupt as soon
        # as that file appears, i.e. while (or just after) a chunk is being written. The node of
        # the sweep test below gets there in a few seconds (the default node takes 12 s)
        (tmp_path / "node.toml").write_text(NODE)
        proc, _ = start(args[:1] + [str(tmp_path / "node.toml")] + args[1:] + ["--stream", "--quiet"])
        partial = out / "trace.csv.partial"
        interrupt_when(proc, lambda: partial.exists() and partial.stat().st_size > 0)
    else:
        # the progress bar appears once the engine has run a second: interrupt then
        proc, seen = start(args, {"TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"})
        interrupt_when(proc, lambda: any("simulating" in line for line in seen))
    stderr = proc.stderr.read() if proc.stderr and not proc.stderr.closed else ""
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    check_run_folder(out, stream)


def test_ctrl_c_during_a_firmware_run_in_micropython_leaves_complete_files(tmp_path):
    """The MicroPython interpreter is a child process: Ctrl-C reaches it too."""
    out = tmp_path / "out"
    script = Path(__file__).resolve().parents[1] / "examples" / "firmware" / "fixed_duty.toml"
    proc, seen = start(["firmware", "run", str(script), "--runner", "micropython", "--duration", "3650 d",
                        "--out", str(out)], {"TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"})
    interrupt_when(proc, lambda: any("simulat" in line for line in seen))
    stderr = proc.stderr.read()
    assert proc.returncode == 130, (stderr, "".join(seen)[-3000:])
    assert "Traceback" not in stderr
    summary = check_run_folder(out)
    assert summary["firmware_runner"] == "micropython" and summary["firmware_error"] is None
    text = (out / "firmware_events.csv").read_text()
    assert text.endswith("\n")
    events = list(csv.reader(text.splitlines()))
    assert events[0] == ["time_s", "event", "detail"] and all(len(e) == 3 for e in events)
    assert 0 < float(events[-1][0]) <= summary["duration_s"]


NODE = """
name = "sweep node"
[simulation]
duration = "3 d"
record_every = "1 h"
[storage]
model = "supercap"
capacitance = "40 mF"
esr = "2 ohm"
leakage_resistance = "2 Mohm"
initial_voltage = "2.6 V"
v_min = "1.8 V"
v_max = "3.3 V"
[[harvester]]
type = "current"
name = "light"
current = "0 A"
steps = [{ at = "8 h", current = "40 uA" }, { at = "18 h", current = "0 A" },
         { at = "32 h", current = "40 uA" }, { at = "42 h", current = "0 A" }]
[[load]]
type = "periodic"
name = "radio"
period = "10 s"
base_current = "1 uA"
phases = [{ current = "5 mA", duration = "1.5 ms" }]
"""

SWEEP = """
name = "interrupted"
scenario = "node.toml"
outputs = ["min_voltage_V", "brownouts", "energy_harvested_J"]
[[axis]]
key = "storage.capacitance"
from = "10 mF"
to = "100 mF"
steps = 30
scale = "log"
[[axis]]
key = "load[0].period"
values = ["5 s", "10 s"]
"""


def test_ctrl_c_during_a_sweep_keeps_finished_points_and_a_whole_table(tmp_path):
    (tmp_path / "node.toml").write_text(NODE)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    out = tmp_path / "out"
    results = out / "results.jsonl"
    proc, seen = start(["sweep", str(tmp_path / "sweep.toml"), "--workers", "2", "--out", str(out)])

    def some_points_done() -> bool:
        return results.exists() and results.read_bytes().count(b"\n") >= 4  # header + 3 points

    interrupt_when(proc, some_points_done, timeout_s=240)
    stderr = proc.stderr.read()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert any("interrupted" in line for line in seen)
    assert leftovers(out) == []
    raw = results.read_text()
    assert raw.endswith("\n")
    records = [json.loads(line) for line in raw.splitlines()[1:]]
    assert 3 <= len(records) < 60
    with open(out / "results.csv", newline="") as fh:
        table = list(csv.reader(fh))
    header, rows = table[0], table[1:]
    assert header[:2] == ["id", "status"] and "min_voltage_V" in header
    # the table holds exactly the finished points, each row whole
    assert sorted(r[0] for r in rows) == sorted(r["id"] for r in records)
    assert all(len(r) == len(header) for r in rows)
    col = header.index("min_voltage_V")
    by_id = {r["id"]: r for r in records}
    for row in rows:
        assert row[1] == "ok"
        assert float(row[col]) == pytest.approx(by_id[row[0]]["outputs"]["min_voltage_V"], rel=1e-11)


def test_a_run_that_fails_midway_leaves_no_partial_trace(tmp_path, monkeypatch):
    """An exception inside a streamed run (here from an ``on_step`` hook) removes trace.csv.partial."""
    import sysim
    import sysim.engine.recorder as recorder
    from sysim.api import prepare

    monkeypatch.setattr(recorder, "CHUNK_ROWS", 1000)  # spill to the .partial file every 1000 rows
    scenario = sysim.loads(NODE).with_changes({"simulation.duration": "2 d", "simulation.record_every": "1 min"})
    trace = tmp_path / "trace.csv"

    def fail_late(sim):
        if sim.now > 1.5 * 86400:  # after two chunks went to the .partial file
            raise RuntimeError("a component failed")

    sim = prepare(scenario, stream_trace_to=str(trace), on_step=fail_late)
    with pytest.raises(RuntimeError, match="a component failed"):
        sim.run()
    assert sim.recorder.rows_written >= 2000
    assert list(tmp_path.iterdir()) == []
