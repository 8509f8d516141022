"""Fuzzing of trace CSV files: light (lux) traces, power/current harvest traces, PPK2-style load
traces and TENG motion files, each generated plausible and then damaged (NaN, inf, negative,
enormous, time going backwards, wrong arity, unknown or hostile units, non-UTF-8, BOM, UTF-16,
truncation, NUL bytes, unterminated quotes, 70 000-character lines).

Each case ends in exit 0 or exit 2 with one line naming the CSV (and the line when the problem is
inside it), never a traceback or a hang. ``SYSIM_FUZZ_CASES`` scales the count.
"""
from __future__ import annotations

import random

import pytest

from fuzz_helpers import (CSV_HEADERS, Hang, fuzz_cases, problems, run_cli, summary_problem, to_toml,
                          trace_csv, trace_scenario)

SEED = 4242
SHORT_RUN = ["--quiet", "--duration", "0.02 s", "--record-every", "2 ms"]


@pytest.fixture(autouse=True)
def _no_report_png(monkeypatch):
    from sysim.result import Result

    monkeypatch.setattr(Result, "plot", lambda self, path: None)


def test_damaged_trace_files_end_in_exit_0_or_an_error_naming_the_file(tmp_path):
    rng = random.Random(SEED)
    count = fuzz_cases(600)
    failures, errors_naming_a_line = [], 0
    for i in range(count):
        kind = rng.choice(sorted(CSV_HEADERS))
        csv_path = tmp_path / f"trace{i}.csv"
        csv_path.write_bytes(trace_csv(kind, rng))
        scenario = tmp_path / f"case{i}-{kind}.toml"
        scenario.write_text(to_toml(trace_scenario(kind, str(csv_path))))
        try:
            outcome = run_cli(["run", str(scenario), "--out", str(tmp_path / "out")] + SHORT_RUN)
        except Hang as exc:
            failures.append(f"{scenario.name}: hang: {exc}")
            continue
        why = problems(outcome, [scenario.name, csv_path.name])
        if why is None and outcome.code == 0:
            why = summary_problem(tmp_path / "out")
        if why is None and outcome.code == 2 and str(csv_path) in outcome.stderr:
            errors_naming_a_line += ": line " in outcome.stderr
        if why:
            failures.append(f"{scenario.name}: {why}")
    assert not failures, f"{len(failures)} of {count} cases failed; first ones:\n" + "\n".join(failures[:8])
    assert errors_naming_a_line > count // 5  # most damage is inside the file, and the message says where


@pytest.mark.parametrize("kind", sorted(CSV_HEADERS))
def test_a_clean_trace_of_each_kind_runs(tmp_path, kind):
    rows = {"lux": "time_s,lux\n0,100\n10,500\n20,0\n", "power": "time_s,power_uW\n0,10\n10,50\n",
            "ppk2": "Timestamp(ms),Current(uA)\n0,2\n0.01,3000\n0.02,2\n", "motion": "time_s\n1\n2.1\n3.2\n"}
    csv_path = tmp_path / "trace.csv"
    csv_path.write_text(rows[kind])
    scenario = tmp_path / "case.toml"
    scenario.write_text(to_toml(trace_scenario(kind, str(csv_path))))
    outcome = run_cli(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"])
    assert outcome.code == 0, outcome.stderr


@pytest.mark.parametrize("content, where, reason", [
    (b"Timestamp(ms)\n0\n1\n", "line 1", "needs a time and a current column"),
    (b"time_s,lux\n0,1e308\n1,nan\n", "line 2", "too large"),
    (b"time_s,lux\n0,1e3\n1,nan\n", "line 3", "not finite"),
    (b"time_h,lux\n1e306,5\n2e306,5\n", "line 2", "time is too large"),
    (b"Timestamp(h),Current(A)\n1e306,5\n2e306,5\n", "line 2", "time or current is too large"),
    (b"time_s,lux\n0,5\n0,5\n", "line 3", "time must increase"),
    ("time_s,lux\n0,5\n1,\u0661\u0662\n".encode(), None, ""),
    (b"time_s,lux\n0,5\n\"1,5\n", None, ""),
    (b"time_s,lux\x00\n0,5\n1,5\n", None, ""),
])
def test_specific_damage_names_the_file_and_line(tmp_path, content, where, reason):
    kind = "ppk2" if content.startswith(b"Timestamp") else "lux"
    csv_path = tmp_path / "trace.csv"
    csv_path.write_bytes(content)
    scenario = tmp_path / "case.toml"
    scenario.write_text(to_toml(trace_scenario(kind, str(csv_path))))
    outcome = run_cli(["run", str(scenario), "--out", str(tmp_path / "out")] + SHORT_RUN)
    assert problems(outcome, ["case.toml"]) is None, outcome.stderr
    if outcome.code == 2:
        assert str(csv_path) in outcome.stderr and reason in outcome.stderr
        if where:
            assert f": {where}:" in outcome.stderr
    else:
        assert where is None  # data that happens to read as valid (e.g. Arabic-Indic digits)


def test_damaged_weather_and_temperature_files_end_in_exit_0_or_an_error_naming_the_file(tmp_path):
    """The TMY3 weather file pvlib reads and the ambient temperature trace, with lines duplicated,
    dropped, cut or replaced and cells swapped for hostile values."""
    from fuzz_helpers import REPO, base_scenarios, damaged_copy

    bases = dict(base_scenarios())
    targets = [("outdoor_pv_weather.toml", REPO / "harvesters" / "data" / "greensboro-nc-june-tmy3.csv"),
               ("thin-film-cold-snap.toml", REPO / "examples" / "data" / "ambient-cold-snap.csv")]
    rng = random.Random(SEED + 1)
    count = fuzz_cases(150)
    failures = []
    for i in range(count):
        name, source = rng.choice(targets)
        damaged = tmp_path / f"data{i}{source.suffix}"
        damaged.write_bytes(damaged_copy(source.read_bytes(), rng))
        scenario = tmp_path / f"case{i}-{name}"
        scenario.write_text(to_toml(bases[name]).replace(str(source), str(damaged)))
        assert str(damaged) in scenario.read_text()
        try:
            outcome = run_cli(["run", str(scenario), "--out", str(tmp_path / "out")] + SHORT_RUN)
        except Hang as exc:
            failures.append(f"{scenario.name}: hang: {exc}")
            continue
        why = problems(outcome, [scenario.name, damaged.name])
        if why is None and outcome.code == 0:
            why = summary_problem(tmp_path / "out")
        if why:
            failures.append(f"{scenario.name}: {why}")
    assert not failures, f"{len(failures)} of {count} cases failed; first ones:\n" + "\n".join(failures[:8])
