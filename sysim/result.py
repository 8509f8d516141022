"""The result of a run: the summary, the sampled trace, the ledger and the event log.

``Result.save(folder)`` writes the three contract files (``summary.json``, ``trace.csv``,
``report.png``), each atomically.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from .engine.simulation import RawResult
from .fileio import atomic_path, ensure_dir, write_text

#: keys summary.json always holds (DESIGN.md, "Command line and outputs")
CONTRACT_KEYS = ("duration_s", "final_voltage_V", "min_voltage_V", "max_voltage_V", "energy_harvested_J",
                 "energy_to_loads_J", "energy_lost_J", "energy_balance_error_J", "brownouts", "first_brownout_s",
                 "uptime_fraction", "events", "wall_time_s")


class Result:
    def __init__(self, raw: RawResult, scenario=None):
        self.raw = raw
        self.scenario = scenario
        self.summary: dict = dict(raw.summary)
        if scenario is not None:
            self.summary.setdefault("scenario", scenario.name)
        self.columns: list[str] = list(raw.columns)
        self.ledger: dict = dict(raw.ledger)
        self.events = list(raw.events)
        self._rows = raw.rows
        self.trace_file = raw.trace_file

    # --- the trace ----------------------------------------------------------------------------
    @property
    def rows(self) -> np.ndarray:
        """The samples as a 2-D float array, one column per name in :attr:`columns`."""
        if self.trace_file and (self._rows is None or len(self._rows) == 0):
            self._rows = np.loadtxt(self.trace_file, delimiter=",", skiprows=1, ndmin=2)
        return self._rows

    @property
    def trace(self) -> np.ndarray:
        """The samples as a structured array (``result.trace["voltage_V"]``)."""
        dtype = [(name, "f8") for name in self.columns]
        out = np.empty(len(self.rows), dtype=dtype)
        for i, name in enumerate(self.columns):
            out[name] = self.rows[:, i]
        return out

    def column(self, name: str) -> np.ndarray:
        return self.rows[:, self.columns.index(name)]

    def to_dataframe(self):
        import pandas as pd  # optional

        return pd.DataFrame(self.rows, columns=self.columns)

    # --- files --------------------------------------------------------------------------------
    def to_csv(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(",".join(self.columns) + "\n")
                np.savetxt(fh, self.rows, delimiter=",", fmt="%.12g")
        return path

    def summary_json(self) -> str:
        data = {k: _jsonable(v) for k, v in self.summary.items()}
        data["ledger_J"] = {k: _jsonable(v) for k, v in self.ledger.items()}
        data["event_log"] = [{"t_s": e.t, "source": e.source, "message": e.message} for e in self.events[:1000]]
        return json.dumps(data, indent=2, allow_nan=False) + "\n"

    def to_json(self, path: str | os.PathLike) -> Path:
        write_text(path, self.summary_json())
        return Path(path)

    def plot(self, path: str | os.PathLike) -> Path:
        from .report import render_report

        render_report(self, path)
        return Path(path)

    def save(self, folder: str | os.PathLike) -> dict[str, Path]:
        out = ensure_dir(folder)
        paths = {"summary": out / "summary.json", "trace": out / "trace.csv", "report": out / "report.png"}
        if self.trace_file and Path(self.trace_file).resolve() != paths["trace"].resolve():
            with atomic_path(paths["trace"]) as tmp:
                import shutil

                shutil.copyfile(self.trace_file, tmp)
        elif not self.trace_file:
            self.to_csv(paths["trace"])
        self.plot(paths["report"])
        self.to_json(paths["summary"])  # last: its presence means the run's files are complete
        return paths


def _jsonable(value):
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value
