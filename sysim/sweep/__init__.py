"""Design-space sweeps: grid and Monte-Carlo studies of one scenario on Dask distributed.

    from sysim.sweep import load_sweep, run_sweep
    study = load_sweep("study.toml")                 # validated, expanded into points
    outcome = run_sweep(study, "sysim-out/study")    # LocalCluster; scheduler="tcp://..." for a cluster
    outcome.records                                  # one dict per finished point (labels, outputs...)

The sweep file's schema is in :mod:`sysim.sweep.spec`, point expansion and ids in
:mod:`sysim.sweep.points`, the resumable results file in :mod:`sysim.sweep.store`, execution in
:mod:`sysim.sweep.execute`. Output folder: ``results.jsonl`` (the record of truth, appended as points
finish), ``results.csv`` (one row per point, rewritten at the end) and one PNG per ``[[plot]]``.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from sysim.fileio import write_text

from .execute import RESULTS_FILE, SweepOutcome, default_workers, run_study
from .points import Point, Study, expand, point_id
from .spec import read_sweep_file
from .store import read_records

__all__ = ["load_sweep", "run_sweep", "write_outputs", "read_records", "Study", "Point", "SweepOutcome",
           "point_id", "default_workers", "RESULTS_FILE"]


def load_sweep(path: str | os.PathLike) -> Study:
    """Read, validate and expand a sweep file (ScenarioError naming file, key and reason)."""
    spec, source = read_sweep_file(path)
    return expand(spec, source)


def run_sweep(study: Study | str | os.PathLike, out_dir: str | os.PathLike, *, plots: bool = True,
              **options) -> SweepOutcome:
    """Run the missing points of ``study`` (see :func:`sysim.sweep.execute.run_study` for the
    options: ``scheduler``, ``workers``, ``client``, ``serial``, ``fresh``, ``retry_errors``,
    ``progress``, ``on_point``), then write ``results.csv`` and the plots."""
    if not isinstance(study, Study):
        study = load_sweep(study)
    outcome = run_study(study, out_dir, **options)
    outcome.files = write_outputs(outcome, plots=plots and not outcome.interrupted)
    return outcome


def write_outputs(outcome: SweepOutcome, plots: bool = True) -> list[Path]:
    """``results.csv`` (atomically) and, if ``plots``, one PNG per ``[[plot]]``."""
    out = outcome.results_path.parent
    files = [out / "results.csv"]
    write_text(files[0], results_csv(outcome.study, outcome.records))
    if plots and outcome.study.spec.plot:
        from .plots import render_plots

        files += [Path(p) for p in render_plots(outcome.study, outcome.records, out)]
    return files


def results_csv(study: Study, records: list[dict]) -> str:
    """One row per finished point: id, status, sample, the axes, the outputs, the error."""
    axes = [a.label for a in study.axes]
    wanted = study.spec.outputs
    if wanted is None:
        wanted = []
        for r in records:
            wanted += [k for k in r["outputs"] if k not in wanted]
    has_samples = study.spec.monte_carlo is not None
    columns = ["id", "status"] + (["sample"] if has_samples else []) + axes + list(wanted) + ["error"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        row = [r["id"], r["status"]] + ([r.get("sample")] if has_samples else [])
        row += [_cell(r["labels"].get(a)) for a in axes]
        row += [_cell(r["outputs"].get(k)) for k in wanted]
        row.append(r.get("error") or "")
        writer.writerow(row)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)
