"""The shutdown noise of the local Dask cluster that ``sysim sweep`` starts, kept off the terminal.

When a sweep is interrupted (Ctrl-C), it cancels its tasks and closes its own scheduler and
workers, then reports what was saved. Two messages can race that shutdown and land on the
terminal after the report, each with a traceback that says nothing the report does not:

* a worker whose heartbeat finds the scheduler gone ("Failed to communicate with scheduler during
  heartbeat.", logged by ``distributed.worker``);
* in sysim's own process, a result that was being fetched when the connection closed: the task
  tracking it for ``as_completed`` ends in ``CommClosedError``, which tornado logs as "Exception in
  callback" on ``tornado.application``.

Only those records are dropped, and only once sysim has started a local cluster of its own (the
filter in this process then stays for the process's life, like the cluster's own log settings);
every other message shows.
"""
from __future__ import annotations

import logging

from distributed.diagnostics.plugin import WorkerPlugin

#: what a worker logs, with a traceback, when its heartbeat finds the scheduler gone
HEARTBEAT_LOST = "Failed to communicate with scheduler during heartbeat."


class QuietSchedulerExit(WorkerPlugin):
    """Installs :class:`DropHeartbeatLoss` in each worker process (a restarted one gets it again)."""

    def setup(self, worker) -> None:
        _add_once(logging.getLogger("distributed.worker"), DropHeartbeatLoss)


class DropHeartbeatLoss(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != HEARTBEAT_LOST


class DropClosedFetch(logging.Filter):
    """Drops tornado's report of an ``as_completed`` result fetch cut by the closed connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        from distributed.comm.core import CommClosedError

        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, CommClosedError) and "as_completed._track_future" in record.getMessage())


def quiet_local_cluster(client) -> None:
    """Set the filters up for a local cluster and ``client``, its client in this process."""
    client.register_plugin(QuietSchedulerExit(), name="sysim-quiet-scheduler-exit")
    _add_once(logging.getLogger("tornado.application"), DropClosedFetch)


def _add_once(logger: logging.Logger, kind) -> None:
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())
