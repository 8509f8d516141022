"""What a Dask worker runs for one point: validate the scenario, run it, return its numbers.

:func:`run_point` takes and returns plain data (dicts of strings and numbers), so a task can run on
any worker with sysim installed. A point whose scenario is rejected or whose run fails comes back
with ``status = "error"`` and the reason; it never raises, so one bad point cannot stop a sweep.
Its numbers are those of ``sysim.simulate(base.with_changes(changes))`` bit for bit: the same
validated scenario, the same engine, nothing added.
"""
from __future__ import annotations

import os
import socket
import time


def run_point(task: dict) -> dict:
    """``task``: ``scenario`` (the base scenario's data), ``source``, ``base_dir``, ``changes``
    (dotted key -> value, ``[fixed]`` included), ``eno`` (bool), ``autonomy_limit_s``."""
    from sysim.errors import ScenarioError
    from sysim.evaluate import run_scenario, scalar_outputs
    from sysim.scenario.loader import from_dict

    started = time.perf_counter()
    record = {"status": "ok", "outputs": {}, "error": None}
    try:
        base = from_dict(task["scenario"], source=task["source"], base_dir=task["base_dir"])
        scenario = base.with_changes(task["changes"])
        if task.get("eno"):
            from sysim.eno import energy_neutrality

            report = energy_neutrality(scenario, autonomy_limit_s=task["autonomy_limit_s"])
            record["outputs"] = {**scalar_outputs(report.result.summary), **report.metrics()}
        else:
            record["outputs"] = scalar_outputs(run_scenario(scenario).summary)
    except ScenarioError as exc:
        record.update(status="error", error=exc.message)
    except Exception as exc:  # a failing point is a result of the study, not the end of it
        record.update(status="error", error=f"{type(exc).__name__}: {exc}")
    record["wall_s"] = time.perf_counter() - started
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return record
