"""Reading the small CSV data files harvesters use (light, power, current and motion traces).

Format: a header line, then one row per time. Blank lines and lines starting with ``#`` are
skipped (use them for provenance notes). Column names carry their unit after an underscore, read
with pint: ``time_s``, ``time_min``, ``time_h``, ``time_d``; ``power_uW``, ``current_mA``;
``lux`` or ``illuminance_lx``; ``irradiance_W_m2`` (W/m²). Every problem is an
:class:`~sysim.errors.InputFileError` naming the file and the line (exit code 2 on the CLI).
"""
from __future__ import annotations

import csv
import math
import numpy as np

from sysim.errors import InputFileError, not_utf8
from sysim.scenario.fields import MAX_MAGNITUDE_SI
from sysim.units import UnitError, parse_quantity

MAX_ROWS = 5_000_000

#: spellings of units that cannot appear literally in a column name
_UNIT_SPELLINGS = {"W_m2": "W/m^2", "W_per_m2": "W/m^2", "lx": "lx", "uW": "uW", "uA": "uA"}


class Table:
    """A CSV data file: its header and data rows. Rows and their line numbers are read by the
    exact, row-by-row reader (:func:`_read_rows`) when something asks for them; a clean numeric
    file is also parsed in one vectorised pass (``values``), which is what :func:`numbers` uses
    when every value passes its checks. A year of one-minute data (525,600 rows) then loads in a
    fraction of a second, and any problem is still reported by the exact reader, line and all."""

    def __init__(self, path: str, header: list[str], header_line: int, values: np.ndarray | None = None,
                 rows: list[list[str]] | None = None, lines: list[int] | None = None):
        self.path, self.header, self.header_line = path, header, header_line
        self.values = values      # (rows × columns) floats from the fast reader, or None
        self._rows, self._lines = rows, lines

    def _load(self) -> None:
        exact = _read_rows(self.path)
        self._rows, self._lines = exact.rows, exact.lines

    @property
    def rows(self) -> list[list[str]]:
        if self._rows is None:
            self._load()
        return self._rows

    @property
    def lines(self) -> list[int]:
        """File line number of each row (1-based)."""
        if self._lines is None:
            self._load()
        return self._lines

    def __len__(self) -> int:
        return len(self.values) if self.values is not None else len(self.rows)


def read_table(path: str) -> Table:
    """All data rows of ``path`` with their line numbers."""
    fast = _read_fast(path)
    return fast if fast is not None else _read_rows(path)


def _read_fast(path: str) -> Table | None:
    """The vectorised reader for plain numeric files (no comments, no quotes, every row complete
    and numeric); None for anything else, which the exact reader then reads or reports."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError):
        return None
    if "#" in text or '"' in text or "\r" in text:
        return None
    head_end = 0
    header_line = 0
    while True:  # skip blank lines before the header
        end = text.find("\n", head_end)
        line = text[head_end:] if end < 0 else text[head_end:end]
        header_line += 1
        if line.strip():
            break
        if end < 0:
            return None
        head_end = end + 1
    header = [c.strip() for c in line.split(",")]
    body = "" if end < 0 else text[end + 1:]
    lines = body.split("\n")
    n_rows = len(lines) - lines.count("")
    if n_rows == 0 or n_rows > MAX_ROWS or body.count(",") != (len(header) - 1) * n_rows:
        return None
    import io

    import pandas as pd

    try:
        frame = pd.read_csv(io.StringIO(body), header=None, names=list(range(len(header))), dtype=float,
                            skip_blank_lines=True, engine="c")
    except (ValueError, TypeError, pd.errors.ParserError):
        return None
    values = frame.to_numpy(dtype=float)
    if values.shape != (n_rows, len(header)) or not np.isfinite(values).all():
        return None
    return Table(path, header, header_line, values=values)


def _read_rows(path: str) -> Table:
    """The exact reader: every row as strings with its line number, every problem named."""
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise InputFileError(path, None, f"cannot read the file ({exc.strerror or exc})") from None
    header, header_line, rows, lines = None, 0, [], []
    with fh:
        reader = csv.reader(fh)
        try:
            for row in reader:
                number = reader.line_num
                if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                    continue
                cells = [c.strip() for c in row]
                if header is None:
                    header, header_line = cells, number
                    continue
                if len(cells) != len(header):
                    raise InputFileError(path, f"line {number}",
                                         f"{len(cells)} values, but the header has {len(header)} columns")
                rows.append(cells)
                lines.append(number)
                if len(rows) > MAX_ROWS:
                    raise InputFileError(path, f"line {number}", f"more than {MAX_ROWS:,} rows")
        except UnicodeDecodeError:
            raise not_utf8(path) from None
        except csv.Error as exc:
            raise InputFileError(path, f"line {reader.line_num}", f"CSV syntax error: {exc}") from None
    if header is None:
        raise InputFileError(path, None, "empty file (no header line)")
    if not rows:
        raise InputFileError(path, f"line {header_line}", "no data rows after the header")
    return Table(path, header, header_line, rows=rows, lines=lines)


def column_scale(name: str, prefix: str, dimension: str) -> float | None:
    """SI factor of a column ``<prefix>_<unit>`` (e.g. ``power_uW`` -> 1e-6), None if the name
    does not match."""
    if not name.startswith(prefix + "_"):
        return None
    unit = name[len(prefix) + 1:]
    unit = _UNIT_SPELLINGS.get(unit, unit)
    try:
        return parse_quantity(f"1 {unit}", dimension)
    except UnitError:
        return None


def find_column(table: Table, choices: list[tuple[str, str]], what: str) -> tuple[int, float, str]:
    """The first column matching one of ``(prefix, dimension)``: index, SI scale and prefix."""
    for prefix, dimension in choices:
        for i, name in enumerate(table.header):
            if prefix == name and dimension == "illuminance":  # a bare "lux" column
                return i, 1.0, prefix
            scale = column_scale(name, prefix, dimension)
            if scale is not None:
                return i, scale, prefix
    wanted = " or ".join(f"{p}_<unit>" if p != "lux" else "lux" for p, _ in choices)
    raise InputFileError(table.path, f"line {table.header_line}",
                         f"no {what} column (expected {wanted}); found: {', '.join(table.header)}")


def numbers(table: Table, index: int, scale: float, what: str, non_negative: bool = False) -> np.ndarray:
    """Column ``index`` as SI floats; a bad, non-finite or (optionally) negative value is an error
    naming its line."""
    if table.values is not None:
        with np.errstate(over="ignore"):  # an overflow (1e306 h in s) is reported below by line
            out = table.values[:, index] * scale
        if np.isfinite(out).all() and (not non_negative or (out >= 0).all()) \
                and (np.abs(out) <= MAX_MAGNITUDE_SI).all():
            return out
        # something to report: the exact reader finds the line and says what is wrong
    out = np.empty(len(table.rows))
    for k, (row, line) in enumerate(zip(table.rows, table.lines)):
        text = row[index]
        try:
            value = float(text)
        except ValueError:
            raise InputFileError(table.path, f"line {line}", f"{what} is not a number: {text!r}") from None
        if not math.isfinite(value):
            raise InputFileError(table.path, f"line {line}", f"{what} is not finite: {text!r}")
        if non_negative and value < 0:
            raise InputFileError(table.path, f"line {line}", f"negative {what}: {text}")
        if not abs(value * scale) <= MAX_MAGNITUDE_SI:  # 1e306 h overflows to inf s; 1e308 W overflows V·I
            raise InputFileError(table.path, f"line {line}", f"{what} is too large: {text!r}")
        out[k] = value * scale
    return out


def times(table: Table) -> np.ndarray:
    """The time column (s), checked to increase strictly from a non-negative start."""
    index, scale, _ = find_column(table, [("time", "time")], "time")
    t = numbers(table, index, scale, "time")
    if t[0] < 0:
        raise InputFileError(table.path, f"line {table.lines[0]}", f"time must not be negative: {table.rows[0][index]}")
    bad = np.nonzero(np.diff(t) <= 0)[0]
    if len(bad):
        k = int(bad[0]) + 1
        raise InputFileError(table.path, f"line {table.lines[k]}",
                             f"time must increase: {table.rows[k][index]} follows {table.rows[k - 1][index]}")
    return t
