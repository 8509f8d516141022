"""The agent in this process (``runner = "cpython"``).

The agent runs as a greenlet: a wake costs two stack switches (≈ 2 µs) instead of two OS thread
hand-offs under the GIL (≈ 100–300 µs measured here). Firmware that never blocks cannot be
interrupted by the host then, so a watchdog thread raises :class:`AgentHang` into it after the
wall-clock allowance (``PyThreadState_SetAsyncExc``; repeated until it takes). Without greenlet
installed the agent falls back to a thread.

The firmware sees the emulated ``machine``/``time``/``micropython`` through its own ``__import__``;
the host's ``time`` module and ``sys.modules`` are untouched. Modules that sit next to the script
are loaded afresh at each boot, so a reset forgets them as on a board.
"""
from __future__ import annotations

import builtins
import collections
import ctypes
import queue
import threading
import time
import types
from pathlib import Path

from .channels import AGENT_FILES, ChannelError, ChannelTimeout, agent_path

try:
    import greenlet
except ImportError:  # pragma: no cover - greenlet is in the firmware extra
    greenlet = None


class AgentHang(BaseException):
    """Raised asynchronously into firmware that ran past the wall-clock allowance."""


def _agent_namespace(script: Path):
    ns: dict = {"__name__": "sysim_agent"}
    for name in AGENT_FILES:
        path = agent_path(name)
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), ns)
    modules = {}
    for mod_name, attrs in ns["MODULES"].items():
        mod = types.ModuleType(mod_name, f"sysim emulation of MicroPython's {mod_name}")
        for attr in attrs:
            setattr(mod, attr, ns[attr])
        modules[mod_name] = mod
    for alias, target in ns["ALIASES"].items():
        modules[alias] = modules[target]
    code = compile(script.read_text(encoding="utf-8"), script.name, "exec")

    def run_script():
        fw_builtins = firmware_builtins(modules, script.parent, lambda *a, **k: ns["_K"].print(*a, **k))
        exec(code, {"__name__": "__main__", "__file__": str(script), "__builtins__": fw_builtins})

    return ns, modules, run_script


def firmware_builtins(modules: dict, script_dir: Path, kernel_print) -> dict:
    """Builtins for one boot: ``print`` goes to the protocol, ``import machine`` gets the
    emulation, modules beside the script are loaded afresh."""
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


def _raise_in(thread_id: int, exc_type) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))


class _Watchdog:
    """Raises AgentHang into ``thread_id`` while armed past its deadline (checked every 50 ms)."""

    def __init__(self, thread_id: int):
        self.thread_id = thread_id
        self.deadline = None
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._loop, name="sysim-firmware-watchdog", daemon=True).start()

    def _loop(self):
        while not self.stopped:
            time.sleep(0.05)
            with self.lock:
                if self.deadline is not None and time.monotonic() > self.deadline:
                    _raise_in(self.thread_id, AgentHang)


class InProcessChannel:
    description = "cpython (in process)"

    def __init__(self, script: str):
        self.script = Path(script)
        self._agent = None
        self._watchdog = None

    def open(self) -> None:
        if greenlet is None:
            raise ChannelError("the cpython runner needs greenlet (pip install 'sysim[firmware]')")
        ns, self.modules, run_script = _agent_namespace(self.script)
        self._ns = ns
        self._outbox: collections.deque[str] = collections.deque()
        self._inbox: collections.deque[str] = collections.deque()
        host = greenlet.getcurrent()
        outbox = self._outbox

        def write(text: str) -> None:
            outbox.extend(text.split("\n")[:-1])

        link = ns["Link"](lambda: host.switch(), write)
        self._agent = greenlet.greenlet(lambda: ns["serve"](link, "cpython", run_script))
        if self._watchdog is None:
            self._watchdog = _Watchdog(threading.get_ident())
        self._started = False

    def send(self, line: str) -> None:
        self._inbox.append(line)

    def receive(self, timeout: float) -> str:
        while not self._outbox:
            agent = self._agent
            if agent is None or agent.dead:
                raise ChannelError("the in-process agent has stopped")
            if self._started and not self._inbox:
                raise ChannelError("the agent waits for the host and the host for the agent")
            arg = self._inbox.popleft() if self._started else None
            wd = self._watchdog
            try:
                wd.deadline = time.monotonic() + timeout
                if self._started:
                    agent.switch(arg)
                else:
                    self._started = True
                    agent.switch()
                with wd.lock:
                    wd.deadline = None
            except AgentHang:
                with wd.lock:
                    wd.deadline = None
                self._agent = None
                raise ChannelTimeout() from None
            except BaseException as exc:  # noqa: BLE001 - the agent itself failed
                with wd.lock:
                    wd.deadline = None
                self._agent = None
                raise ChannelError(f"the in-process agent stopped ({type(exc).__name__}: {exc})") from None
            if agent.dead and not self._outbox:
                self._agent = None
                raise ChannelError("the in-process agent finished")
        return self._outbox.popleft()

    def restart(self) -> None:
        self._drop()
        self.open()

    def _drop(self) -> None:
        agent, self._agent = self._agent, None
        if agent is not None and not agent.dead:
            try:
                agent.throw(self._ns["AgentQuit"])
            except BaseException:  # noqa: BLE001 - whatever the firmware does on the way out
                pass

    def close(self) -> None:
        self._drop()
        if self._watchdog is not None:
            self._watchdog.stopped = True
            self._watchdog = None

    def diagnostics(self) -> str:
        return ""


class ThreadChannel:
    """The same agent in a thread (used when greenlet is not installed; slower hand-offs)."""

    description = "cpython (in process, thread)"

    def __init__(self, script: str):
        self.script = Path(script)
        self._thread = None
        self._lines: collections.deque[str] = collections.deque()

    def open(self) -> None:
        ns, self.modules, run_script = _agent_namespace(self.script)
        self._ns = ns
        to_agent, from_agent = queue.SimpleQueue(), queue.SimpleQueue()
        self._to_agent, self._from_agent = to_agent, from_agent
        self._lines.clear()
        link = ns["Link"](to_agent.get, from_agent.put)

        def target():
            try:
                ns["serve"](link, "cpython", run_script)
            except BaseException as exc:  # noqa: BLE001 - reported as the agent's death
                from_agent.put(f"\0agent stopped: {type(exc).__name__}: {exc}")
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
            self._lines.extend(text.split("\n")[:-1])
        return self._lines.popleft()

    def restart(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            _raise_in(thread.ident, self._ns["AgentQuit"])
            thread.join(0.5)
        self.open()

    def close(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._to_agent.put("Q")
            thread.join(1.0)
            if thread.is_alive():
                _raise_in(thread.ident, self._ns["AgentQuit"])

    def diagnostics(self) -> str:
        return ""
