"""Security: scenario and sweep files are data, firmware under MicroPython is fenced in, and every
line from an agent or a serial board is validated before the simulator uses it.

* No product module evaluates user input: an AST scan finds no eval/exec/compile, pickle/marshal/
  yaml loading, os.system or shell=True outside the one deliberate place (the ``cpython`` firmware
  runner executes the firmware script the scenario names; that is what it is for).
* Hostile strings (Python expressions, ``__import__``, shell substitutions, format strings, paths
  such as /etc/passwd, FIFOs and /dev/zero as traces, preset names with path traversal) are data:
  nothing runs, nothing blocks, each is a one-line exit-2 error or harmless text.
* ``runner = "micropython"``: the interpreter process gets a 4 MB MicroPython heap and a 1 GiB
  address-space limit; an endless loop and a memory bomb end in "firmware error" (exit 1).
* The agent protocol parser, the line splitter and the real-cell follower are fuzzed with
  malformed, oversized, non-UTF-8, wrong-arity and out-of-range messages.
"""
from __future__ import annotations

import ast
import builtins
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fuzz_helpers import (DEFAULT_SCENARIO, PWNED, REPO, base_scenarios, fuzz_cases, leaf_paths, problems,
                          run_cli, to_toml)

PRODUCT_PACKAGES = ["sysim", "device_models", "harvesters", "loads", "firmware_bridge", "gui"]
SHORT_RUN = ["--quiet", "--duration", "0.02 s", "--record-every", "2 ms"]

#: the only places product code compiles or executes code: the cpython firmware runner runs the
#: firmware script (and modules beside it) that the scenario names, and its agent; the engine
#: generates its stepping loop from two integers (modes, watched outputs), never from input text
ALLOWED_EXEC = {("firmware_bridge/inprocess.py", "exec"): 3, ("firmware_bridge/inprocess.py", "compile"): 3,
                ("sysim/engine/kernel.py", "exec"): 1, ("sysim/engine/kernel.py", "compile"): 1}
DANGEROUS_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
DANGEROUS_ATTRS = {("pickle", "load"), ("pickle", "loads"), ("marshal", "load"), ("marshal", "loads"),
                   ("yaml", "load"), ("yaml", "unsafe_load"), ("os", "system"), ("os", "popen"),
                   ("shelve", "open"), ("dill", "load"), ("dill", "loads"), ("jsonpickle", "decode"),
                   ("numpy", "load"), ("np", "load"), ("pd", "read_pickle"), ("pandas", "read_pickle")}


def _dangerous_uses() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if "/agent/" in rel:  # runs inside the MicroPython/board agent, not in sysim
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = None
                if isinstance(func, ast.Name) and func.id in DANGEROUS_CALLS:
                    name = func.id
                elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                        and (func.value.id, func.attr) in DANGEROUS_ATTRS:
                    name = f"{func.value.id}.{func.attr}"
                elif any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                         for k in node.keywords):
                    name = "shell=True"
                elif isinstance(func, ast.Attribute) and func.attr == "import_module" and node.args \
                        and not isinstance(node.args[0], (ast.Constant, ast.JoinedStr)):
                    name = "import_module(variable)"
                if name:
                    found[(rel, name)] = found.get((rel, name), 0) + 1
    return found


def test_product_code_never_evaluates_user_input():
    assert _dangerous_uses() == ALLOWED_EXEC


def test_the_scan_would_notice_an_eval(tmp_path, monkeypatch):
    """The scan above is not vacuous: a module with eval/pickle.loads/shell=True is reported."""
    fake = tmp_path / "sysim"
    fake.mkdir()
    (fake / "bad.py").write_text("import pickle, subprocess\neval(x)\npickle.loads(b)\nsubprocess.run(c, shell=True)\n")
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PRODUCT_PACKAGES", ["sysim"])
    assert _dangerous_uses() == {("sysim/bad.py", "eval"): 1, ("sysim/bad.py", "pickle.loads"): 1,
                                 ("sysim/bad.py", "shell=True"): 1}


HOSTILE = [
    f"__import__('os').system('touch {PWNED}')",
    f"eval(\"open('{PWNED}', 'w')\")",
    f"$(touch {PWNED})",
    f"`touch {PWNED}`",
    "{0.__class__.__mro__[1].__subclasses__}",
    "%s%s%s%n",
    "${HOME}",
    f"!!python/object/apply:os.system ['touch {PWNED}']",
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "/proc/self/environ",
    "1 s; import os",
]


@pytest.fixture
def tripwires(monkeypatch, tmp_path):
    """Record any eval/exec/system/Popen that carries the hostile marker."""
    calls = []

    def wrap(owner, name):
        original = getattr(owner, name)

        def spy(*args, **kwargs):
            if PWNED in repr(args) + repr(kwargs):
                calls.append((name, args))
            return original(*args, **kwargs)
        monkeypatch.setattr(owner, name, spy)

    for name in ("eval", "exec", "compile"):
        wrap(builtins, name)
    wrap(os, "system")
    wrap(subprocess, "Popen")
    monkeypatch.chdir(tmp_path)
    return calls


def test_hostile_strings_in_every_scenario_key_are_inert(tmp_path, tripwires, monkeypatch):
    from sysim.result import Result

    monkeypatch.setattr(Result, "plot", lambda self, path: None)
    rng = random.Random(99)
    cases = 0
    for name, data in base_scenarios()[:4]:
        paths = [p for p in leaf_paths(data) if not isinstance(_get(data, p), (dict, list))]
        for path in paths:
            for value in rng.sample(HOSTILE, 2):
                changed = _set(data, path, value)
                case = tmp_path / f"{name}"
                case.write_text(to_toml(changed))
                outcome = run_cli(["run", str(case), "--out", str(tmp_path / "out")] + SHORT_RUN)
                assert problems(outcome, [case.name]) is None, (path, value, outcome.stderr)
                cases += 1
    assert cases > 150
    assert tripwires == []
    assert not list(tmp_path.rglob(f"*{PWNED}*")) and not list(Path("/tmp").glob(f"{PWNED}*"))


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def _set(data, path, value):
    import copy

    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("preset", ["../../../../etc/passwd", "/etc/passwd", "..", "indoor-asi/../bq25570",
                                    "bq25570\x00", "__class__", "__init__", "values", "🔋"])
def test_preset_names_are_looked_up_not_opened(tmp_path, preset):
    data = dict(next(d for n, d in base_scenarios() if n == "default.toml"))
    data["storage"] = {"preset": preset, "capacitance": "10 mF"}
    case = tmp_path / "preset.toml"
    case.write_text(to_toml(data))
    outcome = run_cli(["run", str(case), "--out", str(tmp_path / "out")] + SHORT_RUN)
    assert outcome.code == 2 and "storage.preset: unknown preset" in outcome.stderr, outcome.stderr


def test_system_files_fifos_and_devices_as_traces_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # reading it would block forever
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    expected = {"/etc/passwd": "/etc/passwd", "/proc/self/environ": "/proc/self/environ", "/dev/zero": "not a file",
                "/dev/stdin": "not a file", str(fifo): "not a file", str(link): "not a file", "/": "not a file",
                "/root/../etc/shadow": "shadow"}
    for target, reason in expected.items():
        case = tmp_path / "trace.toml"
        case.write_text((REPO / "examples" / "ppk2-trace.toml").read_text()
                        .replace('"data/ppk2-ble-burst.csv"', repr(target).replace("'", '"')))
        start = time.monotonic()
        outcome = run_cli(["run", str(case), "--out", str(tmp_path / "out")] + SHORT_RUN, timeout_s=10)
        assert time.monotonic() - start < 10
        assert outcome.code == 2 and reason in outcome.stderr, (target, outcome.stderr)
        assert problems(outcome, ["trace.toml"]) is None
        assert "root:" not in outcome.stderr  # no file contents echoed back


@pytest.mark.parametrize("runner", ["cpython", "micropython"])
@pytest.mark.parametrize("script, reason", [
    ("/etc/passwd", "Python syntax error"), ("/proc/self/environ", "Python syntax error"),
    ("/dev/zero", "not a file"), ("broken.py", "broken.py line 2: Python syntax error"),
    ("nul.py", "Python syntax error"), ("latin1.py", "not UTF-8 text"),
])
def test_a_firmware_script_that_is_not_python_is_a_scenario_error(tmp_path, runner, script, reason):
    (tmp_path / "broken.py").write_text("import machine\ndef (:\n")
    (tmp_path / "nul.py").write_bytes(b"import machine\x00\n")
    (tmp_path / "latin1.py").write_bytes("# caf\u00e9\n".encode("latin-1"))
    path = _firmware_scenario(tmp_path, "import machine\n", runner=runner)
    path.write_text(path.read_text().replace('script = "fw.py"', f'script = "{script}"'))
    outcome = run_cli(["run", str(path), "--out", str(tmp_path / "out")] + SHORT_RUN)
    assert outcome.code == 2 and "firmware.script: " in outcome.stderr and reason in outcome.stderr, outcome.stderr
    assert problems(outcome, [path.name]) is None


def test_hostile_sweep_values_are_inert(tmp_path, tripwires):
    from fuzz_helpers import base_sweeps

    name, data = base_sweeps()[0]
    for value in HOSTILE:
        for key in ("fixed", "axis", "name", "plot", "scenario"):
            changed = dict(data)
            if key == "fixed":
                changed["fixed"] = {"name": value, "description": value}
            elif key == "axis":
                changed["axis"] = [{"key": "description", "values": [value, value + "2"]}]
            elif key == "plot":
                changed["plot"] = [{"x": "storage.capacitance", "z": "uptime_fraction", "file": value}]
            else:
                changed[key] = value
            case = tmp_path / "sweep.toml"
            case.write_text(to_toml(changed))
            outcome = run_cli(["sweep", str(case), "--list", "--out", str(tmp_path / "out"), "--quiet"])
            assert problems(outcome, ["sweep.toml"]) is None, (key, value, outcome.stderr)
    assert tripwires == []
    assert not list(tmp_path.rglob(f"*{PWNED}*"))


# --- firmware under MicroPython ---------------------------------------------------------------
def _firmware_scenario(tmp_path: Path, body: str, runner: str = "micropython") -> Path:
    (tmp_path / "fw.py").write_text(body)
    path = tmp_path / "fw.toml"
    path.write_text('[simulation]\nduration = "10 s"\nrecord_every = "0.1 s"\n'
                    '[storage]\nmodel = "supercap"\ncapacitance = "10 mF"\ninitial_voltage = "3 V"\n'
                    f'[firmware]\nscript = "fw.py"\nrunner = "{runner}"\nwall_timeout = "0.5 s"\n')
    return path


def test_the_micropython_process_runs_under_an_address_space_limit(tmp_path):
    from firmware_bridge.channels import MICROPYTHON_ADDRESS_SPACE_BYTES, MicroPythonChannel

    (tmp_path / "fw.py").write_text("import machine\nmachine.lightsleep(1000)\n")
    channel = MicroPythonChannel(str(tmp_path / "fw.py"))
    channel.open()
    try:
        limits = Path(f"/proc/{channel.proc.pid}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
        assert line.split()[3:5] == [str(MICROPYTHON_ADDRESS_SPACE_BYTES)] * 2
        assert channel.receive(30.0).startswith("H sysim-agent")
    finally:
        channel.close()
    assert channel.proc is None


@pytest.mark.parametrize("body, reason", [
    ("import machine\nmachine.lightsleep(200)\nwhile True:\n    pass\n", "without sleeping or yielding"),
    ("s = 'x'\nwhile True:\n    s += s\n", "MemoryError"),
    ("x = []\nwhile True:\n    x.append(bytearray(100000))\n", "MemoryError"),
    ("x = bytearray(1 << 40)\n", "MemoryError"),
    ("def f():\n    return f()\nf()\n", "RuntimeError"),
])
def test_endless_loops_and_memory_bombs_end_in_a_firmware_error(tmp_path, body, reason):
    scenario = _firmware_scenario(tmp_path, body)
    start = time.monotonic()
    if "while True:\n    pass" in body:  # once through a real process: what a shell sees
        done = subprocess.run([sys.executable, "-m", "sysim", "run", str(scenario), "--out", str(tmp_path / "out"),
                               "--quiet"], capture_output=True, text=True, timeout=180, cwd=tmp_path)
        code, stderr = done.returncode, done.stderr
    else:
        outcome = run_cli(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"], timeout_s=120)
        code, stderr = outcome.code, outcome.stderr
    assert time.monotonic() - start < 120
    assert code == 1, stderr
    assert stderr.startswith("firmware error: firmware stopped at t = ") and reason in stderr
    assert "sysim/" not in stderr and "firmware_bridge/" not in stderr  # only the firmware's own frames
    assert (tmp_path / "out" / "summary.json").exists()


def test_a_firmware_that_cannot_start_is_one_firmware_error_line(tmp_path):
    path = _firmware_scenario(tmp_path, "import machine\n", runner="serial:/dev/ttyNOPE9")
    outcome = run_cli(["run", str(path), "--out", str(tmp_path / "out")] + SHORT_RUN)
    assert outcome.code == 1 and "Traceback" not in outcome.stderr
    assert outcome.stderr.startswith(f"firmware error: {path}: firmware: ") and "/dev/ttyNOPE9" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


# --- the agent protocol -----------------------------------------------------------------------
GOOD_LINES = ["S l 1000 0", "S b -1 5", "P 5 1", "O hello\\x20world", "A", "D 100", "E 3", "X Traceback\\x0a",
              "Z hard", "T 123", "M 0a0b", "M -", "F 64000000", "H sysim-agent 1 micropython"]
JUNK = ["", " ", "  ", "nan", "NaN", "inf", "-inf", "1e9", "0x10", "99999999999999999999999", "-2", "１", "\x00",
        "\udcff", "é", "💥", "\\", "\\x", "\\xZZ", "\\x0", "a" * 100, "9" * 25, "-", "5", "7", "1.5", "+1", "\t",
        "\r", "\x1b[0m", "M", "S"]


def mutated_line(rng: random.Random) -> str:
    line = rng.choice(GOOD_LINES)
    fields = line.split(" ")
    action = rng.randrange(7)
    if action == 0 and len(fields) > 1:
        fields[rng.randrange(1, len(fields))] = rng.choice(JUNK)
    elif action == 1:
        fields.append(rng.choice(JUNK))
    elif action == 2 and len(fields) > 1:
        del fields[rng.randrange(1, len(fields))]
    elif action == 3:
        fields[0] = rng.choice(JUNK + list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    elif action == 4:
        return line + rng.choice(["", "x", "\x00", "  ", " " * 3]) * rng.choice((1, 10, 40_000))
    elif action == 5:
        return "".join(rng.choice(line + "\\x0123 ") for _ in range(rng.randrange(20)))
    else:
        return rng.choice(["S", "P", "M", "F", "H"]) + " " + " ".join(rng.choice(JUNK) for _ in range(rng.randrange(5)))
    return " ".join(fields)


def test_fuzzed_agent_lines_are_messages_or_protocol_errors():
    from firmware_bridge.protocol import MAX_MEMORY_HEX, Message, Parser, ProtocolError

    parser = Parser({"5"}, (1_000_000, 64_000_000))
    rng = random.Random(1234)
    accepted = rejected = 0
    for _ in range(fuzz_cases(4000)):
        line = mutated_line(rng)
        try:
            msg = parser.parse(line)
        except ProtocolError as exc:
            assert str(exc) and "\n" not in str(exc) and len(str(exc)) < 800  # one bounded line
            rejected += 1
            continue
        accepted += 1
        assert isinstance(msg, Message)
        if msg.kind == "S":
            assert msg.args[0] in ("busy", "lightsleep", "idle") or msg.args[0] in "bli"
            assert all(isinstance(v, int) and v >= -1 and v < 10 ** 20 for v in msg.args[1:])
        elif msg.kind == "P":
            assert msg.args[0] == "5" and msg.args[1] in (0, 1)
        elif msg.kind == "F":
            assert 1_000_000 <= msg.args[0] <= 64_000_000
        elif msg.kind == "M":
            assert len(msg.args[0]) <= MAX_MEMORY_HEX // 2
        elif msg.kind in ("D", "E", "T"):
            assert isinstance(msg.args[0], int) and abs(msg.args[0]) < 10 ** 20
    assert accepted > 200 and rejected > 1000


def test_the_line_splitter_refuses_non_utf8_and_endless_lines():
    from firmware_bridge.channels import _Lines
    from firmware_bridge.protocol import MAX_LINE_CHARS, ProtocolError

    rng = random.Random(5)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(fuzz_cases(500)):
        lines = _Lines()
        try:
            for _ in range(rng.randrange(1, 6)):
                size = rng.choice((1, 10, 1000, MAX_LINE_CHARS // 2, MAX_LINE_CHARS + 10))
                chunk = bytes(rng.choice(b"S l 10 0\n\xff\xc3\x80") for _ in range(min(size, 2000)))
                lines.feed(chunk * max(1, size // 2000))
                assert len(lines._buf) <= MAX_LINE_CHARS  # the pending partial line stays bounded
            outcomes["ok"] += 1
        except ProtocolError as exc:
            assert "not UTF-8" in str(exc) or "no end of line" in str(exc)
            outcomes["error"] += 1
        assert all(isinstance(x, str) for x in lines.pending)
    assert outcomes["ok"] > 10 and outcomes["error"] > 10


class _FakeChannel:
    port = "/dev/ttyFAKE"

    def __init__(self):
        self.lines: list[str] = []
        self.closed = False

    def receive(self, timeout):
        return self.lines.pop(0)

    def close(self):
        self.closed = True


class _FakeSim:
    now = 1.0

    def log(self, *a):
        pass

    def voltage(self, output=None):
        return 3.0


def test_fuzzed_real_cell_messages_are_applied_or_stop_the_run_plainly():
    from firmware_bridge.mcu import MCU_CLASSES, McuLoad
    from firmware_bridge.realcell import RealCellRunner
    from firmware_bridge.runner import AdcChannel
    from sysim.engine.simulation import StopRun

    good = ["P 5 1 100", "P 5 0 200", "R 0 30000 300", "U 0 1500000 400", "S l 1000 500", "S b -1 600",
            "D 5000 700", "B 1 800", "E 900", "O hi\\x21", "X Traceback\\x0aValueError"]
    rng = random.Random(77)
    stopped = applied = 0
    for _ in range(fuzz_cases(3000)):
        line = rng.choice(good)
        fields = line.split(" ")
        roll = rng.randrange(5)
        if roll == 0:
            fields[rng.randrange(1, len(fields))] = rng.choice(JUNK + ["9" * 400, "-9" * 30, "1e400", "65536"])
        elif roll == 1:
            fields.insert(rng.randrange(1, len(fields) + 1), rng.choice(JUNK))
        elif roll == 2 and len(fields) > 2:
            del fields[rng.randrange(1, len(fields) - 1)]
        elif roll == 3:
            fields = [fields[0], "\\x" + rng.choice(JUNK)]
        line = " ".join(fields)
        load = McuLoad("radio", MCU_CLASSES["nrf52"])
        channel = _FakeChannel()
        runner = RealCellRunner("firmware", channel, McuLoad("mcu", MCU_CLASSES["nrf52"]),
                                [AdcChannel("0", 0.5, 12, 3.0)], {"5": load}, 1.0, "serial:/dev/ttyFAKE")
        runner.sim = _FakeSim()
        channel.lines.append(line)
        try:
            kind, args, t = runner._next()
            runner._apply(kind, args)
            applied += 1
        except StopRun as exc:
            assert str(exc).startswith("firmware stopped at t = 1 s: ") and "\n" not in str(exc)[:200]
            assert channel.closed
            stopped += 1
        for _, real, simulated in [d for _, k, d in runner.timeline if k == "adc"][:1]:
            assert 0.0 <= real <= 200.0  # a reading referred back through the 0.5 divider, never huge
    assert applied > 300 and stopped > 300


def test_ci_counts_add_up_to_the_issue():
    """At least 2000 generated or mutated scenario, sweep and trace files run in CI."""
    assert fuzz_cases(1000) + fuzz_cases(600) + fuzz_cases(500) >= 2000
    assert DEFAULT_SCENARIO.is_file()
