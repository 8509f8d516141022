"""``sysim sweep SWEEP.toml [--scheduler ADDRESS]``: a grid or Monte-Carlo study on Dask, resumable.

Writes DIR/results.jsonl (appended as points finish; a rerun skips finished points), DIR/results.csv
and one PNG per ``[[plot]]`` (DIR defaults to sysim-out/<sweep file name>)."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from sysim.errors import ScenarioError

console = Console(highlight=False)


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="grid or Monte-Carlo study on Dask (resumable)",
                       description="Run every point of a sweep file on Dask distributed: a local cluster of worker "
                                   "processes by default, an existing scheduler with --scheduler. Finished points "
                                   "are appended to DIR/results.jsonl as they land; running the same command again "
                                   "skips them.")
    p.add_argument("sweep", help="sweep TOML file")
    p.add_argument("--scheduler", metavar="ADDRESS", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: the CPUs available)")
    p.add_argument("--serial", action="store_true", help="run the points one after another in this process (no Dask)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: sysim-out/<sweep file name>)")
    p.add_argument("--fresh", action="store_true", help="discard the results file's points and start over")
    p.add_argument("--retry-errors", action="store_true", help="run again the points that finished with an error")
    p.add_argument("--list", action="store_true", help="list the points (and which are finished) without running")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=main)


class SweepProgress:
    """A rich progress bar over the study's points (finished earlier ones count as done)."""

    def __init__(self, label: str, enabled: bool = True):
        self.label, self.enabled = label, enabled
        self.errors = 0
        self._progress = None

    def start(self, total: int, done: int, where: str) -> None:
        if not self.enabled:
            return
        console.print(f"{total:,} points, {done:,} finished earlier, {total - done:,} to run on {where}", soft_wrap=True)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[errors]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                                  console=console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task(self.label, total=total, completed=done, errors="")

    def advance(self, record: dict) -> None:
        if record["status"] == "error":
            self.errors += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1,
                                  errors=f"[red]{self.errors} failed[/]" if self.errors else "")

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def main(args) -> int:
    from sysim.sweep import load_sweep, run_sweep

    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise ScenarioError(None, "--workers", f"must be between 1 and 1024, got {args.workers}")
    if args.serial and (args.scheduler or args.workers):
        raise ScenarioError(None, "--serial", "runs in this process; it cannot be combined with --scheduler or --workers")
    study = load_sweep(args.sweep)
    out = Path(args.out) if args.out else Path("sysim-out") / Path(args.sweep).stem
    if args.list:
        return list_points(study, out)
    progress = SweepProgress(f"sweep {study.name}", enabled=not args.quiet)
    outcome = run_sweep(study, out, scheduler=args.scheduler, workers=args.workers, serial=args.serial,
                        fresh=args.fresh, retry_errors=args.retry_errors, progress=progress)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    _check_outputs(study, outcome)
    if not args.quiet:
        _report(outcome)
    if outcome.interrupted:
        console.print(f"[yellow]interrupted:[/] {len(outcome.records):,} of {len(study.points):,} points are saved in "
                      f"{outcome.results_path}; run the same command again to finish the other {outcome.missing:,}",
                      soft_wrap=True)
        return 130
    if outcome.lost:
        console.print(f"[red]{len(outcome.lost)} point(s) were lost by the cluster[/] (first: {outcome.lost[0]}); "
                      "run the same command again to retry them", soft_wrap=True)
        return 1
    return 0


def _report(outcome) -> None:
    if not outcome.ran and not outcome.interrupted and outcome.finished_before == len(outcome.study.points):
        console.print(f"all {len(outcome.study.points):,} points were already finished in {outcome.results_path}; "
                      "nothing to run (--fresh starts over)", soft_wrap=True)
    console.print(f"{outcome.ran:,} point(s) run in {outcome.wall_s:.3g} s; {len(outcome.records):,} of "
                  f"{len(outcome.study.points):,} finished", soft_wrap=True)
    if outcome.errors:
        first = next(r for r in outcome.records if r["status"] == "error")
        console.print(f"[red]{outcome.errors} point(s) failed[/], e.g. {first['labels']}: {first['error']}", soft_wrap=True)
    if outcome.files:
        console.print("wrote " + ", ".join(str(p) for p in [outcome.results_path, *outcome.files]), soft_wrap=True)


def _check_outputs(study, outcome) -> None:
    wanted = list(study.spec.outputs or []) + [p.z for p in study.spec.plot]
    ok = [r for r in outcome.records if r["status"] == "ok"]
    if not ok:
        return
    known = set().union(*(r["outputs"] for r in ok))
    missing = sorted({w for w in wanted if w not in known})
    if missing:
        console.print(f"[yellow]warning:[/] no point has the output(s) {', '.join(missing)}; "
                      f"outputs are: {', '.join(sorted(known))}", soft_wrap=True)


def list_points(study, out: Path) -> int:
    from sysim.sweep import RESULTS_FILE, read_records

    results = out / RESULTS_FILE
    done = {r["id"]: r["status"] for r in read_records(results)} if results.exists() else {}
    for p in study.points:
        labels = ", ".join(f"{k} = {v}" for k, v in p.labels.items())
        sample = f" sample {p.sample}" if p.sample is not None else ""
        console.print(f"{p.id}  {done.get(p.id, 'to run'):>6}  {labels}{sample}", soft_wrap=True)
    console.print(f"{len(study.points):,} points, {sum(1 for p in study.points if p.id in done):,} finished")
    return 0
