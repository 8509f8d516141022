"""Ctrl-C during a run, taken at a safe point.

Python raises ``KeyboardInterrupt`` at whatever bytecode runs when SIGINT arrives: in the middle
of a step (samples already recorded past the stepper's time), or halfway through writing a chunk
of the streamed trace. :class:`DeferredInterrupt` replaces the default SIGINT handler while a run
is in progress (main thread only, and only if the handler is Python's default) with one that just
sets ``pending``; the integrator checks it between steps and stops there, so the state, the ledger
and every recorded row agree. A second Ctrl-C before the run has stopped raises at once.
"""
from __future__ import annotations

import signal
import threading


class DeferredInterrupt:
    def __init__(self):
        self.pending = False
        self._previous = None

    def __enter__(self) -> "DeferredInterrupt":
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.pending:
            raise KeyboardInterrupt
        self.pending = True

    def __exit__(self, *exc) -> bool:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False
