"""Running the points of a study on Dask distributed (or serially), appending each result as it lands.

* Points already in the results file (same ids, same fingerprint) are skipped, so an interrupted
  sweep resumes where it stopped and a grown study runs only its new points.
* By default a :class:`dask.distributed.LocalCluster` of single-threaded worker *processes* runs the
  points (the engine is pure Python: threads would share one GIL); ``scheduler`` connects to an
  existing Dask scheduler instead (its workers need sysim installed and the scenario's files at
  the same paths).
* A worker that dies mid-task is replaced by its nanny and the scheduler reruns its tasks; the
  client writes a point only once, when its result arrives, so nothing is lost or written twice.
  A task that brings down workers repeatedly (Dask's ``allowed-failures``) is reported as lost;
  a rerun tries it again.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sysim.errors import ScenarioError
from sysim.fileio import ensure_dir

from .points import Point, Study
from .store import ResultStore
from .worker import run_point

RESULTS_FILE = "results.jsonl"


@dataclass
class SweepOutcome:
    study: Study
    results_path: Path
    finished_before: int = 0          # points skipped because they were already in the results file
    ran: int = 0                      # points finished by this run
    lost: list[str] = field(default_factory=list)   # points the cluster failed to run (reason each)
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)  # the study's finished points, in point order
    wall_s: float = 0.0
    where: str = ""                   # what ran the points
    files: list = field(default_factory=list)        # results.csv and plots, once written

    @property
    def missing(self) -> int:
        return len(self.study.points) - len(self.records)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.records if r["status"] == "error")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_study(study: Study, out_dir: str | os.PathLike, *, scheduler: str | None = None, workers: int | None = None,
              client=None, serial: bool = False, fresh: bool = False, retry_errors: bool = False,
              progress=None, on_point=None) -> SweepOutcome:
    """Run the points of ``study`` not yet in ``out_dir/results.jsonl``. ``client``: an existing
    ``dask.distributed.Client`` (left open); ``scheduler``: a scheduler address; otherwise a
    LocalCluster with ``workers`` processes (default: the CPUs available), or in-process if
    ``serial``. ``progress`` has ``start(total, done, where)``, ``advance(record)`` and ``stop()``;
    ``on_point(record)`` is called after each record is written."""
    out = ensure_dir(out_dir)
    started = time.perf_counter()
    outcome = SweepOutcome(study, out / RESULTS_FILE)
    with ResultStore(outcome.results_path, study.name, study.fingerprint) as store:
        finished = store.open(fresh=fresh)
        outcome.warnings += store.warnings
        todo = [p for p in study.points
                if p.id not in finished or (retry_errors and finished[p.id]["status"] == "error")]
        if retry_errors:
            for p in todo:
                finished.pop(p.id, None)
        outcome.finished_before = len(study.points) - len(todo)
        shared = {"scenario": study.scenario.data, "source": study.scenario.source,
                  "base_dir": study.scenario.base_dir, "eno": study.spec.eno,
                  "autonomy_limit_s": study.spec.autonomy_limit}

        def accept(point: Point, result: dict) -> None:
            if point.id in store.records:
                return
            record = {"id": point.id, "status": result["status"], "labels": point.labels,
                      "changes": {**study.fixed, **point.changes}, "sample": point.sample,
                      "outputs": result["outputs"], "error": result["error"], "wall_s": result["wall_s"],
                      "worker": result["worker"]}
            store.append(record)
            outcome.ran += 1
            if progress is not None:
                progress.advance(record)
            if on_point is not None:
                on_point(record)

        try:
            if todo and (serial and client is None and scheduler is None):
                outcome.where = "in this process"
                _start(progress, outcome)
                for point in todo:
                    accept(point, run_point({**shared, "changes": {**study.fixed, **point.changes}}))
            elif todo:
                _run_on_dask(study, todo, shared, accept, outcome, progress, client, scheduler, workers)
        except KeyboardInterrupt:
            outcome.interrupted = True
        finally:
            if progress is not None:
                progress.stop()
        outcome.records = [store.records[p.id] for p in study.points if p.id in store.records]
    outcome.wall_s = time.perf_counter() - started
    return outcome


def _start(progress, outcome: SweepOutcome) -> None:
    if progress is not None:
        progress.start(len(outcome.study.points), outcome.finished_before, outcome.where)


def _run_on_dask(study, todo, shared, accept, outcome, progress, client, scheduler, workers) -> None:
    from dask.distributed import as_completed

    own_client, cluster = client is None, None
    if own_client:
        client, cluster = _connect(scheduler, workers or default_workers())
    futures = []
    try:
        n_workers = len(client.scheduler_info().get("workers", {}))
        outcome.where = (f"Dask scheduler {scheduler}" if scheduler else
                         "the given Dask client" if not own_client else "local Dask cluster") + \
            f" ({n_workers} worker{'s' if n_workers != 1 else ''})"
        _start(progress, outcome)
        window = max(64, 8 * n_workers)  # tasks in flight: bounded scheduler memory, quick to cancel
        pending = iter(todo)
        by_key: dict = {}

        def submit_next() -> bool:
            point = next(pending, None)
            if point is None:
                return False
            task = {**shared, "changes": {**study.fixed, **point.changes}}
            future = client.submit(run_point, task, key=f"sysim-point-{study.fingerprint}-{point.id}")
            by_key[future.key] = point
            futures.append(future)
            return True

        for _ in range(window):
            if not submit_next():
                break
        # with_results: each result is fetched as soon as its task finishes, so a worker that dies
        # afterwards rarely takes a finished but unfetched result with it (it would be recomputed)
        # loop: as_completed otherwise tracks the futures on the *default* client's event loop, which
        # is another client's when the caller has more than one (a hang, seen in the benchmark)
        queue = as_completed(list(futures), loop=client.loop, with_results=True, raise_errors=False)
        for future, result in queue:
            point = by_key.pop(future.key)
            futures.remove(future)
            if submit_next():
                queue.add(futures[-1])
            if future.status != "finished" or isinstance(result, BaseException):
                # the cluster gave up on it (KilledWorker...): reported as lost, a rerun retries
                outcome.lost.append(f"{point.id}: {type(result).__name__}: {result}")
                continue
            accept(point, result)
            future.release()
    finally:
        if futures:
            client.cancel(futures)
        if own_client:
            client.close()
            if cluster is not None:
                cluster.close()


def _connect(scheduler: str | None, workers: int):
    from dask.distributed import Client

    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise ScenarioError(None, "--scheduler", f"cannot reach a Dask scheduler at {scheduler!r}: {exc}") from None
    return local_cluster(workers)


def local_cluster(workers: int):
    """``(client, cluster)``: a LocalCluster of ``workers`` single-threaded worker processes set up
    for sweeps: no dashboard port to collide with, no statistical profiler (it samples every
    worker's stack every 10 ms for a dashboard nobody looks at), and workers that ignore Ctrl-C;
    the log noise of its shutdown after Ctrl-C is kept off the terminal (sysim.sweep.quiet)."""
    import dask
    from dask.distributed import Client, LocalCluster

    from .plugins import IgnoreInterrupts
    from .quiet import quiet_local_cluster

    with dask.config.set({"distributed.worker.profile.enabled": False}):  # nannies keep it for restarts
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)
    client = Client(cluster)
    client.register_plugin(IgnoreInterrupts(), name="sysim-ignore-sigint")
    quiet_local_cluster(client)
    return client, cluster
