"""A measured current trace from a power profiler (CSV: time, current) as rail states.

Reads what Nordic's Power Profiler Kit II, Qoitech Otii, Joulescope and oscilloscopes export: an
optional header row whose column names carry the units in parentheses or brackets
(``Timestamp(ms),Current(uA),D0-D7`` from the PPK2; ``Time (s),Main current (A)``), then one sample
per line. Without a header the first two columns are time and current in s and A unless the
scenario says otherwise. Lines starting with ``#`` and blank lines are skipped.

Each sample holds until the next one (zero-order hold, as the profiler averaged it over its
sample interval); the last holds for the median interval. Optional charge-preserving resampling
averages the current over fixed bins (the average current is kept exactly; peaks are smoothed).
Consecutive samples with equal current become one state.

Every problem is an :class:`~sysim.errors.InputFileError` naming the file and the line.
"""
from __future__ import annotations

import csv
import math
import os
import re
from dataclasses import dataclass

import numpy as np

from sysim.errors import InputFileError, not_utf8
from sysim.scenario.fields import MAX_MAGNITUDE_SI
from sysim.units import UnitError, parse_quantity

from .states import LoadEvent, RailState

MAX_FILE_BYTES = 200_000_000
_UNIT_IN_NAME = re.compile(r"[\(\[]\s*([^\)\]]*?)\s*[\)\]]")


@dataclass
class CurrentTrace:
    """Sample times (s, from 0) and currents (A), plus the hold time of the last sample (s)."""

    times_s: np.ndarray
    currents_A: np.ndarray
    last_hold_s: float
    file: str

    @property
    def span_s(self) -> float:
        return float(self.times_s[-1] - self.times_s[0] + self.last_hold_s)

    def durations(self) -> np.ndarray:
        return np.append(np.diff(self.times_s), self.last_hold_s)

    def charge_C(self) -> float:
        return float(math.fsum(self.durations() * self.currents_A))

    def resampled(self, bin_s: float) -> "CurrentTrace":
        """Average the current over bins of ``bin_s`` (charge-preserving; the last bin may be shorter)."""
        t0 = float(self.times_s[0])
        edges_in = np.append(self.times_s - t0, self.span_s)
        cumulative = np.concatenate(([0.0], np.cumsum(np.diff(edges_in) * self.currents_A)))
        n = max(1, math.ceil(self.span_s / bin_s - 1e-9))
        edges = np.minimum(np.arange(n + 1) * bin_s, self.span_s)
        charge = np.interp(edges, edges_in, cumulative)  # the charge integral is piecewise linear
        widths = np.diff(edges)
        keep = widths > 0
        currents = np.diff(charge)[keep] / widths[keep]
        starts = edges[:-1][keep]
        return CurrentTrace(starts, currents, float(widths[keep][-1]), self.file)

    def event(self, scale: float = 1.0) -> LoadEvent:
        """The trace as one event of rail states (equal neighbours merged)."""
        states: list[RailState] = []
        for duration, current in zip(self.durations(), self.currents_A * scale):
            if states and states[-1].current_A == current:
                states[-1] = states[-1].with_duration(states[-1].duration_s + float(duration))
            else:
                states.append(RailState(float(duration), float(current), label="trace"))
        return LoadEvent(tuple(states))


def _unit_scale(header: str, dimension: str, file: str, override: str | None) -> float:
    unit = override
    if unit is None:
        match = _UNIT_IN_NAME.search(header)
        if not match:
            return 1.0
        unit = match.group(1)
    try:
        return parse_quantity(f"1 {unit}", dimension)
    except UnitError:
        if override is not None:
            raise InputFileError(file, None, f"unknown {dimension} unit {unit!r}") from None
        raise InputFileError(file, "line 1", f"unknown {dimension} unit {unit!r} (column {header!r})") from None


def _find_column(names: list[str], wanted: str | int | None, hints: tuple[str, ...], default: int, file: str,
                 exclude: int | None = None) -> int:
    if isinstance(wanted, int):
        if not 0 <= wanted < len(names):
            raise InputFileError(file, "line 1", f"column {wanted} does not exist ({len(names)} columns)")
        return wanted
    lowered = [n.strip().lower() for n in names]
    if isinstance(wanted, str):
        for i, n in enumerate(lowered):
            if n == wanted.lower() or n.split("(")[0].split("[")[0].strip() == wanted.lower():
                return i
        raise InputFileError(file, "line 1", f"no column named {wanted!r} (columns: {', '.join(names)})")
    for hint in hints:
        for i, n in enumerate(lowered):
            if i != exclude and hint in n:
                return i
    return default if default != exclude else 1 - exclude


def read_current_trace(path: str | os.PathLike, time_column: str | int | None = None,
                       current_column: str | int | None = None, time_unit: str | None = None,
                       current_unit: str | None = None, clip_negative: bool = False) -> CurrentTrace:
    """Read a power-profiler CSV (see the module docstring)."""
    file = os.fspath(path)
    try:
        if os.path.getsize(file) > MAX_FILE_BYTES:
            raise InputFileError(file, None, f"file is larger than {MAX_FILE_BYTES // 1_000_000} MB")
        with open(file, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputFileError(file, None, f"cannot read the file ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise not_utf8(file) from None
    except csv.Error as exc:
        raise InputFileError(file, None, f"not a CSV file ({exc})") from None
    lines = [(n, [c.strip() for c in row]) for n, row in enumerate(rows, start=1)
             if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not lines:
        raise InputFileError(file, None, "no samples in the file")
    header_line, first = lines[0]
    has_header = not _numeric(first[0])
    names = first if has_header else [f"column {i}" for i in range(len(first))]
    t_col = _find_column(names, time_column, ("time",), 0, file)
    i_col = _find_column(names, current_column, ("current", "(a)", "[a]"), 1, file, exclude=t_col)
    if t_col == i_col:
        raise InputFileError(file, f"line {header_line}", "time and current are the same column")
    if max(t_col, i_col) >= len(names):  # a one-column file: the default current column 1 is not there
        raise InputFileError(file, f"line {header_line}", f"needs a time and a current column, found {len(names)} "
                             f"column{'s' if len(names) != 1 else ''}")
    t_scale = _unit_scale(names[t_col] if has_header else "", "time", file, time_unit)
    i_scale = _unit_scale(names[i_col] if has_header else "", "current", file, current_unit)
    data = lines[1:] if has_header else lines
    if len(data) < 2:
        raise InputFileError(file, None, f"needs at least two samples, found {len(data)}")
    times = np.empty(len(data))
    currents = np.empty(len(data))
    need = max(t_col, i_col) + 1
    for k, (n, row) in enumerate(data):
        if len(row) < need:
            raise InputFileError(file, f"line {n}", f"expected at least {need} columns, got {len(row)}")
        try:
            t, i = float(row[t_col]), float(row[i_col])
        except ValueError:
            bad = row[t_col] if not _numeric(row[t_col]) else row[i_col]
            raise InputFileError(file, f"line {n}", f"not a number: {bad!r}") from None
        if not (math.isfinite(t) and math.isfinite(i)):
            raise InputFileError(file, f"line {n}", "time and current must be finite numbers")
        if not (abs(t * t_scale) <= MAX_MAGNITUDE_SI and abs(i * i_scale) <= MAX_MAGNITUDE_SI):  # 1e306 h: inf s
            raise InputFileError(file, f"line {n}", "time or current is too large")
        if k and t * t_scale <= times[k - 1]:
            raise InputFileError(file, f"line {n}", f"time does not increase ({row[t_col]} after the previous sample)")
        if i < 0:
            if not clip_negative:
                raise InputFileError(file, f"line {n}", f"negative current {row[i_col]} (a load cannot return "
                                     f"charge; set clip_negative = true to read it as 0)")
            i = 0.0
        times[k], currents[k] = t * t_scale, i * i_scale
    times -= times[0]
    steps = np.diff(times)
    if len(steps) and steps.min() < 1e-9:
        n = data[int(np.argmin(steps)) + 1][0]
        raise InputFileError(file, f"line {n}", "samples closer than 1 ns (the simulator's time grid)")
    last_hold = float(np.median(steps))
    return CurrentTrace(times, currents, last_hold, file)


def _numeric(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
