"""Dask plugins for the local cluster that ``sysim sweep`` starts (never installed on someone
else's cluster)."""
from __future__ import annotations

import signal
import threading

from distributed.diagnostics.plugin import WorkerPlugin


class IgnoreInterrupts(WorkerPlugin):
    """The local worker processes share the terminal's process group, so Ctrl-C reaches them
    too; they ignore it and let the client stop the sweep cleanly (cancel the tasks, shut the
    cluster down, report what was saved). A restarted worker gets the plugin again."""

    def setup(self, worker) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
