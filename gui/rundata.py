"""The samples of one run as they stream in, and the series the dashboard plots from them.

Pure numpy, no Qt: every plotted series is a function of the recorded trace columns only, so a
test can compute the same series from :attr:`sysim.Result.rows` and compare. Columns are stored
contiguously (column-major) in buffers that double when full, and the derived series are computed
for the new rows only as they arrive, so taking in a batch costs O(batch), never O(run), and every
series is a view without copies.

Series (all against ``time_s``):

* ``voltage_V`` and ``cellN_V`` (packs): sampled terminal and per-cell voltages;
* harvested, to-loads and lost power: the mean over each record interval, ``ΔE/Δt`` of the
  cumulative ledger columns (exact energies, so no pulse is missed between samples), at the end of
  each interval;
* load current: the current each ``load`` component draws at the sample instant (``<name>_A``),
  and the mean load current over each interval from the ledger (``mean_load_current``);
* state of charge (``soc``), or the stored energy when the model has no SOC (NaN);
* the cumulative ledger: harvested, to loads, lost and the change in stored energy.
"""
from __future__ import annotations

import csv
import os

import numpy as np

_POWER = {"energy_harvested_J": 0, "energy_to_loads_J": 1, "energy_lost_J": 2}


class RunData:
    def __init__(self, columns: list[str], kinds: dict[str, str] | None = None, label: str = ""):
        self.columns = list(columns)
        self.index = {name: i for i, name in enumerate(self.columns)}
        self.kinds = dict(kinds or {})
        self.label = label
        self.count = 0
        self._data = np.empty((len(self.columns), 1024))
        #: per interval k (between samples k and k+1): mean harvested, to-loads, lost power (W)
        #: and mean load current (A)
        self._derived = np.empty((4, 1024))
        self._need = [self.index[c] for c in ("time_s", "voltage_V", *_POWER)]
        self.has_soc: bool | None = None

    @classmethod
    def from_csv(cls, path: str | os.PathLike, label: str | None = None) -> "RunData":
        """A run read back from an exported ``trace.csv`` (for comparison)."""
        with open(path, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        if len(header) < 8 or header[:2] != ["time_s", "voltage_V"]:
            raise ValueError(f"{path}: not a sysim trace (its first columns must be time_s, voltage_V, ...)")
        rows = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
        data = cls(header, label=label or os.path.basename(os.fspath(path)))
        data.append(rows)
        return data

    # --- filling ------------------------------------------------------------------------------
    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=float).reshape(-1, len(self.columns))
        if not len(rows):
            return
        start, need = self.count, self.count + len(rows)
        if need > self._data.shape[1]:
            size = max(need, 2 * self._data.shape[1])
            self._data = _grow(self._data, size, start)
            self._derived = _grow(self._derived, size, max(start - 1, 0))
        self._data[:, start:need] = rows.T
        self.count = need
        if self.has_soc is None:
            self.has_soc = not np.isnan(self._data[self.index["soc"], 0])
        first = max(start, 1)  # interval k ends at sample k+1
        if first < need:
            t, v, *energies = (self._data[i, first - 1: need] for i in self._need)
            dt = np.diff(t)
            ok = dt > 0
            safe_dt = np.where(ok, dt, 1.0)
            out = self._derived[:, first - 1: need - 1]
            for row, energy in enumerate(energies):
                out[row] = np.where(ok, np.diff(energy) / safe_dt, np.nan)
            v_mean = 0.5 * (v[1:] + v[:-1])
            out[3] = np.where(v_mean > 0, out[1] / np.where(v_mean > 0, v_mean, 1.0), np.nan)

    @property
    def rows(self) -> np.ndarray:
        """The samples as rows (a copy)."""
        return self._data[:, : self.count].T.copy()

    def column(self, name: str) -> np.ndarray:
        return self._data[self.index[name], : self.count]

    def has(self, name: str) -> bool:
        return name in self.index

    @property
    def t_end(self) -> float:
        return float(self._data[0, self.count - 1]) if self.count else 0.0

    # --- series -------------------------------------------------------------------------------
    def cell_columns(self) -> list[str]:
        return [c for c in self.columns if c.startswith("cell") and c.endswith("_V") and c[4:-2].isdigit()]

    def load_columns(self) -> list[str]:
        """``<name>_A`` of every load component (of every component when the kinds are unknown)."""
        names = [c[:-2] for c in self.columns if c.endswith("_A") and c != "current_A"]
        if self.kinds:
            names = [n for n in names if self.kinds.get(n) == "load"]
        return [f"{n}_A" for n in names]

    def _interval_times(self) -> np.ndarray:
        return self._data[0, 1: self.count]

    def mean_power(self, ledger_column: str) -> tuple[np.ndarray, np.ndarray]:
        """Mean power (W) over each record interval from a cumulative energy column, at the
        interval ends: ``(E[k+1] - E[k]) / (t[k+1] - t[k])``."""
        return self._interval_times(), self._derived[_POWER[ledger_column], : max(self.count - 1, 0)]

    def mean_load_current(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean current delivered to the loads over each record interval (A), from the exact
        ledger: ``ΔE_to_loads / (Δt · V̄)`` with ``V̄`` the mean of the terminal voltage at the two
        ends of the interval. It sees every pulse between samples; it is approximate only as far
        as the voltage moves inside the interval (and it counts the energy delivered behind a
        converter, without the converter's loss)."""
        return self._interval_times(), self._derived[3, : max(self.count - 1, 0)]

    def charge_series(self) -> tuple[str, np.ndarray]:
        """("soc", fraction) or ("stored_energy_J", J) when the model has no state of charge."""
        if self.has_soc:
            return "soc", self.column("soc")
        return "stored_energy_J", self.column("stored_energy_J")

    def stored_change(self) -> np.ndarray:
        stored = self.column("stored_energy_J")
        return stored - stored[0] if len(stored) else stored


def _grow(buffer: np.ndarray, size: int, keep: int) -> np.ndarray:
    grown = np.empty((buffer.shape[0], size))
    grown[:, :keep] = buffer[:, :keep]
    return grown
