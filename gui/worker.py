"""The dashboard's side of a run: start the run's process, turn its knobs, relay what it streams.

:func:`gui.sim_process.run_in_child` runs the scenario in a separate process (see there why); a
reader thread here receives its messages from a pipe and re-emits them as Qt signals, which Qt
queues to the GUI thread. The GUI thread only ever appends rows and redraws.
"""
from __future__ import annotations

import multiprocessing as mp
import sys

from PySide6 import QtCore

from sysim.engine.simulation import RawResult
from sysim.errors import ScenarioError
from sysim.result import Result

from .sim_process import SharedControl, run_in_child


def _context():
    """forkserver where there is one (a fork of a small server that has sysim imported: fast and
    safe with Qt's threads), spawn elsewhere."""
    if sys.platform.startswith("win") or "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["gui.sim_process", "sysim.api", "sysim.components"])
    return ctx


def warm_up() -> None:
    """Start the forkserver (it imports sysim once) in the background, so that the first run
    starts in a fraction of a second instead of after the imports."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        import threading
        from multiprocessing import forkserver

        threading.Thread(target=forkserver.ensure_running, name="sysim-forkserver", daemon=True).start()


class RunControl:
    """Pause, resume, speed and stop of a run in another process."""

    def __init__(self, speed: float | None = None, ctx=None):
        ctx = ctx or _context()
        self.shared = SharedControl(*(ctx.Value(code, 0, lock=False) for code in "iidi"))
        self.set_speed(speed)

    @property
    def paused(self) -> bool:
        return bool(self.shared.paused.value)

    @property
    def speed(self) -> float | None:
        return self.shared.speed.value if self.shared.speed.value > 0 else None

    def pause(self) -> None:
        self.shared.paused.value = 1
        self.shared.revision.value += 1

    def resume(self) -> None:
        self.shared.revision.value += 1
        self.shared.paused.value = 0

    def set_speed(self, speed: float | None) -> None:
        self.shared.speed.value = float(speed) if speed and speed > 0 else 0.0
        self.shared.revision.value += 1

    def stop(self) -> None:
        self.shared.stop.value = 1


class _Reader(QtCore.QThread):
    message = QtCore.Signal(str, object)

    def __init__(self, conn, process):
        super().__init__()
        self.conn, self.process = conn, process

    def run(self) -> None:
        while True:
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):
                self.process.join(5.0)
                self.message.emit("failed", ("error", f"the simulation process ended unexpectedly "
                                             f"(exit code {self.process.exitcode})", ""))
                return
            self.message.emit(kind, payload)
            if kind in ("finished", "failed"):
                self.process.join(5.0)
                return


class SimWorker(QtCore.QObject):
    """Runs one scenario dict in a child process and relays its stream as signals."""

    rows = QtCore.Signal(object)          # np.ndarray of new trace rows
    events = QtCore.Signal(object)        # list of EventRecord
    thresholds = QtCore.Signal(object)    # {label: (output name, level V)}
    progress = QtCore.Signal(float, float, float)   # t_sim, t_end, wall s
    started = QtCore.Signal(object)       # {"columns": [...], "kinds": {...}, "firmware": [...]}
    finished = QtCore.Signal(object)      # Result (its rows are the streamed rows)
    failed = QtCore.Signal(object)        # ScenarioError or str

    def __init__(self, scenario, control: RunControl, emit_interval_s: float = 0.05):
        super().__init__()
        self.scenario, self.control = scenario, control
        self.emit_interval_s = emit_interval_s
        self.columns: list[str] = []
        self.collected_rows: list = []
        self.collected_events: list = []
        self.process = None
        self._reader: _Reader | None = None

    def start(self) -> None:
        ctx = _context()
        receive, send = ctx.Pipe(duplex=False)
        s = self.scenario
        self.process = ctx.Process(target=run_in_child, name="sysim-run", daemon=True,
                                   args=(send, s.data, s.source, s.base_dir, self.control.shared, self.emit_interval_s))
        self.process.start()
        send.close()  # the child holds the sending end; EOF here means it is gone
        self._reader = _Reader(receive, self.process)
        self._reader.message.connect(self._relay)
        self._reader.start()

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Wait for the reader thread (after stop); kill the process if it does not end."""
        done = self._reader.wait(int(timeout_s * 1000)) if self._reader is not None else True
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        return done

    def _relay(self, kind: str, payload) -> None:
        if kind == "rows":
            self.collected_rows.append(payload)
            self.rows.emit(payload)
        elif kind == "events":
            self.collected_events.extend(payload)
            self.events.emit(payload)
        elif kind == "started":
            self.columns = payload["columns"]
            self.started.emit(payload)
        elif kind == "thresholds":
            self.thresholds.emit(payload)
        elif kind == "progress":
            self.progress.emit(*payload)
        elif kind == "finished":
            self.finished.emit(self._result(payload))
        elif kind == "failed":
            if payload[0] == "scenario":
                self.failed.emit(ScenarioError(*payload[1:]))
            else:
                self.failed.emit(f"{payload[1]}\n\n{payload[2]}".strip())

    def _result(self, payload: dict) -> Result:
        import numpy as np

        rows = np.concatenate(self.collected_rows) if self.collected_rows else np.empty((0, len(self.columns)))
        if len(rows) != payload["rows"]:
            raise RuntimeError(f"the dashboard received {len(rows)} trace rows of {payload['rows']}")
        self.collected_rows = [rows]
        raw = RawResult(self.columns, rows, payload["summary"], list(self.collected_events), payload["ledger"])
        return Result(raw, self.scenario)
