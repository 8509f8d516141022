"""Fuzzing of scenario files: mutated copies of the bundled default and every example scenario.

Each case must end in exit 0, or exit 2 with one ``error:`` line that starts with the file; never a
traceback, never a hang (a 30 s watchdog per case; runs that pass validation simulate 20 ms).
A firmware scenario may also end in "firmware error" (exit 1) when a mutation breaks what the
firmware (user code) relies on. ``SYSIM_FUZZ_CASES=20000`` scales the count up.
"""
from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

from fuzz_helpers import (DEFAULT_SCENARIO, EXAMPLES, Hang, base_scenarios, fuzz_cases, mutate_data, mutate_text,
                          problems, run_cli, summary_problem, to_toml)

SEED = 20261124
SHORT_RUN = ["--quiet", "--duration", "0.02 s", "--record-every", "2 ms"]


@pytest.fixture(autouse=True)
def _no_report_png(monkeypatch):
    """The report PNG (matplotlib, ~0.5 s) does not depend on the mutated input beyond the trace;
    the subprocess checks below draw it."""
    from sysim.result import Result

    monkeypatch.setattr(Result, "plot", lambda self, path: None)


def run_case(path, out) -> str | None:
    try:
        outcome = run_cli(["run", str(path), "--out", str(out)] + SHORT_RUN)
    except Hang as exc:
        return f"hang: {exc}"
    why = problems(outcome, [path.name])
    if why is None and outcome.code == 0:
        why = summary_problem(out)  # nothing NaN slipped through validation into the results
    return why


def test_mutated_scenarios_end_in_exit_0_or_a_one_line_error(tmp_path):
    rng = random.Random(SEED)
    bases = base_scenarios()
    assert len(bases) >= 15  # the default, the examples, the firmware examples
    count = fuzz_cases(1000)
    failures, codes = [], {}
    for i in range(count):
        name, data = rng.choice(bases)
        if rng.random() < 0.7:
            text = None
            while text is None:
                text = to_toml(mutate_data(data, rng))
            raw = text.encode()
        else:
            raw = mutate_text(to_toml(data), rng)
        path = tmp_path / f"case{i}-{name}"
        path.write_bytes(raw)
        why = run_case(path, tmp_path / "out")
        if why:
            failures.append(f"{path.name}: {why}")
        else:
            path.unlink()
    assert not failures, f"{len(failures)} of {count} cases failed; first ones:\n" + "\n".join(failures[:8])


def test_every_base_scenario_runs_unmutated(tmp_path):
    """The mutations start from inputs that are valid: otherwise every case would just say so."""
    for name, data in base_scenarios():
        path = tmp_path / name
        path.write_text(to_toml(data))
        outcome = run_cli(["run", str(path), "--out", str(tmp_path / "out")] + SHORT_RUN)
        assert outcome.code == 0, (name, outcome.stderr)


@pytest.mark.parametrize("content, reason", [
    (b"", "missing required table [simulation]"),
    (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
    ("[simulation]\nduration = '1 h'\nduration = '2 h'\n".encode(), "duplicated key"),
    (("x = " + "[" * 100_000 + "]" * 100_000 + "\n").encode(), "TOML"),
    (("[" + ".".join(["t"] * 20_000) + "]\n").encode(), "unknown key"),
    ("[simulation]\nduration = nan\n[storage]\nmodel='supercap'\ncapacitance='1 F'\n".encode(), "not a finite number"),
    ("[simulation]\nduration = '9**9**9 s'\n".encode(), "exponent"),
    ("[simulation]\nduration = '1 s'\n[storage]\nmodel='supercap'\ncapacitance='1e40 F'\n".encode(), "beyond any physical"),
    ("[simulation]\nduration = '1 s'\n[storage]\nmodel='supercap'\ncapacitance='47 mF'\n"
     "leakage_resistance='1e-16 ohm'\n".encode(), "clock tick"),
    ('"名前" = "💥"\n'.encode(), "unknown key"),
    ((EXAMPLES / "ble-beacon-ldo.toml").read_text().replace("tx_power = 0", "tx_power = nan").encode(),
     "finite power level"),
    ((EXAMPLES / "ppk2-trace.toml").read_text().replace('period = "5 s"', 'period = "5 s"\nscale = inf')
     .replace('"data/', f'"{EXAMPLES}/data/').encode(), "less than or equal to 1000000"),
    ((EXAMPLES / "indoor_pv_office_trace.toml").read_text().replace('area = "6 cm^2"', "area = 5e-324")
     .replace('"../harvesters', f'"{EXAMPLES}/../harvesters').encode(), "too small to compute with"),
])
def test_file_level_damage_is_one_clear_line(tmp_path, content, reason):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    outcome = run_cli(["run", str(path), "--out", str(tmp_path / "out")] + SHORT_RUN)
    assert problems(outcome, ["bad.toml"]) is None and outcome.code == 2
    assert reason in outcome.stderr and str(path) in outcome.stderr


def test_missing_directory_and_unreadable_scenarios(tmp_path):
    cases = {tmp_path / "nope.toml": "file not found", tmp_path: "not a file"}
    unreadable = tmp_path / "locked.toml"
    unreadable.write_text(DEFAULT_SCENARIO.read_text())
    unreadable.chmod(0)
    if not os.access(unreadable, os.R_OK):  # root reads anyway: then it is simply valid
        cases[unreadable] = "cannot read the file"
    for path, reason in cases.items():
        outcome = run_cli(["run", str(path), "--out", str(tmp_path / "out")] + SHORT_RUN)
        assert outcome.code == 2 and reason in outcome.stderr and problems(outcome, [path.name]) is None


def test_real_processes_exit_cleanly(tmp_path):
    """A handful of checks through ``python -m sysim``: the exit codes and messages a shell sees,
    the report PNG drawn, no traceback."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[simulation]\nduration = '-1 h'\n")
    hostile = tmp_path / "hostile.toml"
    hostile.write_text((EXAMPLES / "ppk2-trace.toml").read_text().replace('"data/ppk2-ble-burst.csv"', '"/etc/passwd"'))
    cases = [([str(bad)], 2, "simulation.duration: must be positive"),
             ([str(hostile)], 2, "/etc/passwd"),
             ([str(EXAMPLES / "ppk2-trace.toml"), "--duration", "20 s"], 0, "")]
    for args, code, text in cases:
        done = subprocess.run([sys.executable, "-m", "sysim", "run", *args, "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == code, (args, done.stderr)
        assert "Traceback" not in done.stderr and text in done.stderr
        if code == 2:
            assert len(done.stderr.strip().splitlines()) == 1
    assert (tmp_path / "out" / "report.png").stat().st_size > 10_000
