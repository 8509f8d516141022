"""The results file of a sweep: JSON Lines, appended one finished point at a time, resumable.

Line 1 is a header ``{"sysim_sweep_results": 1, "sweep": ..., "fingerprint": ...}``; every further
line is one point's record ``{"id", "status" ("ok" | "error"), "labels", "changes", "sample",
"outputs", "error", "wall_s", "worker"}``. A record is written with a single ``write()`` of the
whole line on a file opened for appending, so after a crash, a kill or Ctrl-C each line is either
complete or, at worst, the last line is cut short; a cut line is dropped (and said so) the next
time the file is opened, and that point runs again. Ctrl-C is taken only once a record is both in
the file and in :attr:`ResultStore.records` (from which the sweep's table is made). The file is
locked (``flock``) while a sweep writes to it, so two sweeps cannot interleave their records.
Data is flushed to disk (``fsync``) at most once a second and when the sweep ends.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from sysim.engine.interrupt import DeferredInterrupt
from sysim.errors import InputFileError, ScenarioError
from sysim.fileio import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None

HEADER_TAG = "sysim_sweep_results"
FORMAT_VERSION = 1
FSYNC_EVERY_S = 1.0


class ResultStore:
    def __init__(self, path: str | os.PathLike, sweep: str, fingerprint: str):
        self.path = Path(path)
        self.sweep, self.fingerprint = sweep, fingerprint
        self.records: dict[str, dict] = {}
        self.warnings: list[str] = []
        self._fd: int | None = None
        self._last_sync = 0.0

    # --- opening ----------------------------------------------------------------------------------
    def open(self, fresh: bool = False) -> dict[str, dict]:
        """Lock the file (creating it), check its header, drop a cut last line; returns the
        finished records by id. ``fresh`` discards what the file holds."""
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot open {self.path}: {exc.strerror or exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.close()
                raise OutputError(f"{self.path} is being written by another sweep; wait for it or use another --out") from None
        if fresh:
            os.ftruncate(self._fd, 0)
        data = _read_all(self._fd)
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a line cut short by a crash: drop it, that point runs again
            os.ftruncate(self._fd, end)
            if end:
                self.warnings.append(f"{self.path}: dropped an incomplete last line (written when a run was cut off)")
            data = data[:end]
        if not data.strip():
            os.ftruncate(self._fd, 0)
            self._write_line({HEADER_TAG: FORMAT_VERSION, "sweep": self.sweep, "fingerprint": self.fingerprint})
            self.sync()
            return self.records
        lines = data.split(b"\n")[:-1]
        self._check_header(lines[0] if lines else b"")
        duplicates = 0
        for number, line in enumerate(lines[1:], start=2):
            record = _record(line, self.path, number)
            if record["id"] in self.records:
                duplicates += 1
                continue
            self.records[record["id"]] = record
        if duplicates:
            self.warnings.append(f"{self.path}: {duplicates} duplicated record(s) ignored (the first one of each is kept)")
        return self.records

    def _check_header(self, line: bytes) -> None:
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get(HEADER_TAG) != FORMAT_VERSION:
            self.close()
            raise InputFileError(str(self.path), "line 1", "not a sysim sweep results file (no header); "
                                 "move it away or choose another --out")
        if header.get("fingerprint") != self.fingerprint:
            self.close()
            raise ScenarioError(str(self.path), "line 1",
                                f"these results were computed for a different scenario, [fixed] table or eno "
                                f"setting (fingerprint {header.get('fingerprint')}, now {self.fingerprint}); "
                                f"rerun with --fresh to start over, or choose another --out")

    # --- writing ----------------------------------------------------------------------------------
    def append(self, record: dict) -> None:
        if record["id"] in self.records:
            return  # already written: never twice
        # Ctrl-C between the line and the in-memory record would leave a point in the file that
        # the sweep's table (made from ``records``) lacks: it is taken after both
        with DeferredInterrupt() as sigint:
            self._write_line(record)
            self.records[record["id"]] = record
        if sigint.pending:
            raise KeyboardInterrupt
        if time.monotonic() - self._last_sync > FSYNC_EVERY_S:
            self.sync()

    def _write_line(self, obj: dict) -> None:
        data = (json.dumps(obj, allow_nan=False, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            raise OutputError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def sync(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            self._last_sync = time.monotonic()

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)  # releases the lock
                self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    return os.pread(fd, size, 0) if size else b""


def _record(line: bytes, path: Path, number: int) -> dict:
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise InputFileError(str(path), f"line {number}", f"not a JSON record ({exc})") from None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or record.get("status") not in ("ok", "error"):
        raise InputFileError(str(path), f"line {number}", "not a sweep result record (needs id and status)")
    return record


def read_records(path: str | os.PathLike) -> list[dict]:
    """Every complete record of a results file, in the order written (no lock, no checks of the
    fingerprint; for reading results while a sweep runs or after)."""
    records = []
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    for number, line in enumerate(lines[1:-1], start=2):  # [0] is the header, [-1] is empty or cut
        records.append(_record(line, Path(path), number))
    return records
