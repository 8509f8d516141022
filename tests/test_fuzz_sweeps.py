"""Fuzzing of sweep files: mutated copies of examples/sweeps/*.toml (made small), validated and
expanded with ``sysim sweep FILE --list`` (every axis value is checked against the scenario, no
point runs). Each case ends in exit 0 or exit 2 with one line starting with the file; never a
traceback or a hang. ``SYSIM_FUZZ_CASES`` scales the count. Two real sweeps run at the end.
"""
from __future__ import annotations

import json
import random

from fuzz_helpers import Hang, base_sweeps, fuzz_cases, mutate_data, mutate_text, problems, run_cli, to_toml

SEED = 777


def test_mutated_sweep_files_end_in_exit_0_or_a_one_line_error(tmp_path):
    rng = random.Random(SEED)
    bases = base_sweeps()
    assert len(bases) == 2
    count = fuzz_cases(500)
    failures, listed = [], 0
    for i in range(count):
        name, data = rng.choice(bases)
        if rng.random() < 0.75:
            text = None
            while text is None:
                text = to_toml(mutate_data(data, rng))
            raw = text.encode()
        else:
            raw = mutate_text(to_toml(data), rng)
        path = tmp_path / f"case{i}-{name}"
        path.write_bytes(raw)
        try:
            outcome = run_cli(["sweep", str(path), "--list", "--out", str(tmp_path / "out"), "--quiet"])
        except Hang as exc:
            failures.append(f"{path.name}: hang: {exc}")
            continue
        why = problems(outcome, [path.name])
        listed += outcome.code == 0
        if why:
            failures.append(f"{path.name}: {why}")
        else:
            path.unlink()
    assert not failures, f"{len(failures)} of {count} cases failed; first ones:\n" + "\n".join(failures[:8])
    assert listed > count // 20  # some mutations keep the file valid (e.g. another axis value)


def test_small_mutated_sweeps_run_serially_to_the_end(tmp_path):
    """Validation is not the whole story: a sweep whose points fail records the error per point."""
    name, data = base_sweeps()[0]
    data = dict(data, fixed={"simulation.duration": "1 min", "simulation.record_every": "1 s"}, plot=[])
    data["axis"] = [{"key": "storage.capacitance", "values": ["10 mF", "1e-12 F"]}]
    data.pop("monte_carlo", None)
    path = tmp_path / "small.toml"
    path.write_text(to_toml(data))
    out = tmp_path / "out"
    outcome = run_cli(["sweep", str(path), "--serial", "--out", str(out), "--quiet"])
    assert outcome.code == 0, outcome.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()[1:]]
    assert sorted(r["status"] for r in records) == ["ok", "ok"]
