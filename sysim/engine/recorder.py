"""Regular samples of the run (``record_every``) kept in compact numpy chunks.

Samples are taken at ``t = k·record_every`` by evaluating the exact state inside the segment that
holds ``t``; the trajectory itself is never split for a sample, so recording does not change the
result. A year at one sample per minute with fifteen columns is about 60 MB; with ``stream_to`` the
chunks go to a CSV file as they fill and memory stays flat (:meth:`Recorder.finish` closes it).
"""
from __future__ import annotations

import contextlib
import errno
import math
import os

import numpy as np

from ..fileio import OutputError

from .freeze import terminal_currents
from .ledger import Ledger
from .segment import Coeffs, Phase, flush_sums

CHUNK_ROWS = 65_536
BASE_COLUMNS = ["time_s", "voltage_V", "current_A", "soc", "stored_energy_J", "energy_harvested_J",
                "energy_to_loads_J", "energy_lost_J"]


class Recorder:
    """Collects sample rows; ``next_time`` is the time of the next sample (inf when done)."""

    def __init__(self, every_s: float, end_s: float, model, component_names: list[str],
                 state_columns: list[str], state_values, cell_outputs: int = 0,
                 stream_to: str | os.PathLike | None = None):
        if not every_s > 0:
            raise ValueError("record_every must be positive")
        self.every_s, self.end_s = every_s, end_s
        self.model = model
        self.components = list(component_names)
        self.state_values = state_values  # (t) -> list of floats for state_columns at time t
        self.cell_count = cell_outputs
        cell_cols = [f"cell{k}_V" for k in range(1, cell_outputs + 1)] if cell_outputs > 1 else []
        self.columns = (BASE_COLUMNS + list(state_columns) + cell_cols + model.trace_columns()
                        + [f"{name}_A" for name in self.components])
        self._index = 0
        self.next_time = 0.0
        self._chunks: list[np.ndarray] = []
        self._buffer = np.empty((CHUNK_ROWS, len(self.columns)))
        self._fill = 0
        self._stream_path = os.fspath(stream_to) if stream_to else None
        self._stream = None
        self.rows_written = 0
        self.last_time: float | None = None
        self.ledger: Ledger | None = None
        self.stepper = None
        #: an object with ``pending`` (engine/interrupt.py): after Ctrl-C no more samples are taken,
        #: so a step that would record for years ends quickly and the run stops after it
        self.interrupt = None

    def _advance_time(self) -> None:
        self._index += 1
        t = self._index * self.every_s
        self.next_time = t if t <= self.end_s * (1 + 1e-15) else math.inf

    def record(self, stepper, z, phase: Phase, part: Coeffs, z_start, totals=None) -> None:
        """Sample at ``self.next_time``: state ``z`` inside ``phase``, reached from ``z_start``
        by the partial step ``part`` (whose energies count towards the cumulative columns).
        ``totals``: the cumulative energies by category when the caller has them (a sample on a
        stretch's curve: sysim.engine.curve.curved_state)."""
        if self.interrupt is not None and self.interrupt.pending:
            self.next_time = math.inf
            return
        scratch = None
        if totals is None:
            scratch = Ledger(0.0)
            if part.h > 0:
                flush_sums(stepper.system, part, 1, z_start, [v * v for v in z_start], phase.draws, phase.currents,
                           scratch)
            totals = stepper.ledger_totals()
        draws, currents, current = phase.draws, phase.currents, phase.current
        if any(not d.is_linear for d in draws):
            # Power and voltage-dependent draws were held at a stretch's frozen value; the trace
            # shows what flows at this instant, solved at the exact internal voltage.
            out = stepper.system.outputs[0]
            e_open = math.fsum(c * v for c, v in zip(out.c, z)) + out.f
            currents, current = terminal_currents(draws, e_open, stepper.system.series_resistance)
        self.write_row(self.next_time, stepper, z, draws, currents, current, scratch, totals)
        self._advance_time()

    def write_row(self, t, stepper, z, draws, currents, current, scratch: Ledger | None = None,
                  totals=None) -> None:
        system = stepper.system
        if totals is None:
            totals = stepper.ledger.totals()
        if scratch is not None:
            for key, value in scratch.totals().items():
                totals[key] += value
        per_owner = dict.fromkeys(self.components, 0.0)
        for d, i in zip(draws, currents):
            if d.owner in per_owner:
                per_owner[d.owner] += i
        soc, stored_J, trace = stepper.model.row_values(z)
        row = [t, _out(system.outputs[0], z, current), current, soc, stored_J,
               totals["harvested"], totals["to_loads"], totals["lost"]]
        row += self.state_values(t)
        if self.cell_count > 1:
            row += [_out(system.outputs[k], z, current) for k in system.cell_outputs]
        row += trace
        row += [per_owner[name] for name in self.components]
        self._append(row)
        self.last_time = t

    def _append(self, row) -> None:
        self._buffer[self._fill] = row
        self._fill += 1
        if self._fill == CHUNK_ROWS:
            self._spill()

    def _spill(self) -> None:
        chunk = self._buffer[: self._fill].copy()
        if self._stream_path:
            try:
                if self._stream is None:
                    self._stream = open(self._stream_path + ".partial", "w", encoding="utf-8", newline="")
                    self._stream.write(",".join(self.columns) + "\n")
                np.savetxt(self._stream, chunk, delimiter=",", fmt="%.12g")
                self._stream.flush()
            except OSError as exc:  # full disk, folder gone: say which file, leave no .partial behind
                self.discard()
                reason = "disk full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
                raise OutputError(f"cannot write {self._stream_path}: {reason}") from None
        else:
            self._chunks.append(chunk)
        self._fill = 0
        self.rows_written += len(chunk)

    def discard(self) -> None:
        """Close and delete the streamed ``.partial`` file (a run that failed)."""
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
            self._stream = None
        if self._stream_path:
            with contextlib.suppress(OSError):
                os.unlink(self._stream_path + ".partial")

    def array(self) -> np.ndarray:
        """All rows kept in memory (empty when streaming)."""
        parts = self._chunks + ([self._buffer[: self._fill].copy()] if self._fill else [])
        if not parts:
            return np.empty((0, len(self.columns)))
        return np.concatenate(parts)

    @property
    def rows_recorded(self) -> int:
        """Number of rows recorded so far (in memory or streamed)."""
        return self.rows_written + self._fill

    def rows_since(self, start: int) -> np.ndarray:
        """A copy of rows ``start, start+1, ...`` recorded so far, for live displays that poll
        during a run; only those rows are copied. Rows already streamed to a file are no longer
        held: asking for them raises ValueError."""
        start = max(int(start), 0)
        parts, offset = [], 0
        if self._stream_path:
            offset = self.rows_written
            if start < offset:
                raise ValueError(f"rows before {offset} were streamed to {self._stream_path}")
        for chunk in self._chunks:
            if start < offset + len(chunk):
                parts.append(chunk[max(start - offset, 0):])
            offset += len(chunk)
        if self._fill and start < offset + self._fill:
            parts.append(self._buffer[max(start - offset, 0): self._fill])
        if not parts:
            return np.empty((0, len(self.columns)))
        return np.concatenate(parts)  # always a copy, even of one part

    def finish(self) -> str | None:
        """Flush the last rows; when streaming, move the CSV into place atomically."""
        if self._stream_path:
            try:
                if self._fill or self._stream is None:
                    self._spill()
                self._stream.close()
                os.replace(self._stream_path + ".partial", self._stream_path)
            except OSError as exc:
                self.discard()
                raise OutputError(f"cannot write {self._stream_path}: {exc.strerror or exc}") from None
            except BaseException:
                self.discard()
                raise
            return self._stream_path
        return None


def _out(output, z, current) -> float:
    return math.fsum(c * v for c, v in zip(output.c, z)) + output.d * current + output.f
