"""Generators of hostile inputs for the fuzz tests (tests/test_fuzz_*.py), and a runner that calls
``sysim.cli.main`` in this process with captured output and a wall-clock watchdog.

Every generator takes a ``random.Random`` so a run is reproducible from its seed. The number of
cases scales with ``SYSIM_FUZZ_CASES`` (the CI default is set per test; e.g.
``SYSIM_FUZZ_CASES=20000`` runs ten times as many).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import datetime as dt
import io
import math
import os
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
DEFAULT_SCENARIO = REPO / "sysim" / "data" / "default.toml"
#: seconds a single case may take before it counts as a hang
CASE_TIMEOUT_S = 30.0
#: the marker a hostile value leaves if anything ever executed it
PWNED = "SYSIM_FUZZ_PWNED"


def fuzz_cases(ci_default: int) -> int:
    """Cases for one test: ``ci_default`` in CI, scaled by ``SYSIM_FUZZ_CASES`` / 2000 if set."""
    total = os.environ.get("SYSIM_FUZZ_CASES")
    if not total:
        return ci_default
    return max(ci_default, round(ci_default * int(total) / 2000))


# --- running the CLI in process ----------------------------------------------------------------
class Hang(BaseException):
    """Raised by the watchdog (a BaseException so the CLI's ``except Exception`` cannot eat it)."""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


def run_cli(argv: list[str], timeout_s: float = CASE_TIMEOUT_S) -> Outcome:
    """``sysim.cli.main(argv)`` with stdout/stderr captured and a SIGALRM watchdog."""
    from sysim import cli

    out, err = io.StringIO(), io.StringIO()

    def alarm(signum, frame):
        raise Hang(f"no result within {timeout_s:g} s: sysim {' '.join(argv)}")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(code, out.getvalue(), err.getvalue())


def problems(outcome: Outcome, names: list[str]) -> str | None:
    """Why ``outcome`` is not acceptable, or None. Acceptable: exit 0 without warnings; exit 2 with
    one ``error:`` line whose first field is the file (one of ``names``, or an absolute path such
    as the trace the scenario names); exit 1 with "firmware error: firmware stopped" (the user's
    firmware failed, and its own traceback is the report)."""
    if outcome.stderr.startswith("firmware error: "):  # the firmware's own traceback is its report
        pass
    elif "Traceback" in outcome.stderr or "Traceback" in outcome.stdout:
        return "traceback"
    if outcome.code == 0:
        if "Warning" in outcome.stderr:  # e.g. numpy's "invalid value": NaN or inf got through
            return f"exit 0 with a warning: {outcome.stderr.strip()[:300]}"
        return None
    if outcome.code == 1 and outcome.stderr.startswith("firmware error: firmware stopped at t = "):
        return None  # the firmware (user code) failed, e.g. it reads an ADC the mutation removed
    if outcome.code != 2:
        return f"exit {outcome.code}: {outcome.stderr.strip()[:300]}"
    lines = outcome.stderr.strip().splitlines()
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"exit 2 but not one 'error:' line: {outcome.stderr[:300]!r}"
    first = lines[0][len("error: "):].split(": ")[0]  # "file: key: reason"
    if not (any(first.endswith(n) for n in names) or os.path.isabs(first)):
        return f"exit 2 but the message does not start with the file (one of {names}): {lines[0][:300]}"
    return None


# --- hostile values ----------------------------------------------------------------------------
def _deep_table(depth: int) -> dict:
    table: dict = {"x": 1}
    for _ in range(depth):
        table = {"t": table}
    return table


def _deep_list(depth: int) -> list:
    value: list = [1]
    for _ in range(depth):
        value = [value]
    return value


NASTY = [
    math.nan, math.inf, -math.inf, -1, -1.0, 0, 0.0, 1e308, -1e308, 5e-324, 10 ** 18, -(10 ** 18),
    2 ** 63 - 1, True, False, "", " ", "nan", "inf", "-inf", "NaN V", "inf F", "1e999 s", "-5 s", "10 parsec",
    "10 mV", "3 mF", "1 h", "1e-30 s", "5 %", "50 lx", "1 W/m^2", "9**9**9 s", "s**99999", "((10**99)**99)**99 F",
    "2 ** (9 ** 9) ohm", "1 s/0", "💥", "名前", "\u202e", "\x00", "a" * 5000, "{0.__class__.__mro__}", "%s%s%n",
    f"__import__('os').system('touch {PWNED}')", "${HOME}", f"$(touch {PWNED})", "/etc/passwd",
    "../../../../../../etc/passwd", "/dev/zero", "/proc/self/environ", "/", ".", "nonexistent.csv",
    "08:00-18:00", "mon-fri", "storage", "pmic", "supercap", "bq25570", "indoor-asi", "../presets/x",
    [], [1, 2, 3], ["1 s"], [{"at": "1 h"}], {}, {"a": 1}, {"preset": "../../etc/passwd"}, _deep_table(60),
    _deep_list(60), dt.date(2026, 1, 1), dt.time(12, 0), dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31),
]


@functools.lru_cache(maxsize=None)
def registry_names() -> list[str]:
    """Every registered model, type and preset name: swapping one for another confuses tables."""
    import sysim.components  # noqa: F401
    from sysim.scenario import registry

    names = set(registry.STORAGE_MODELS) | set(registry.HARVESTERS) | set(registry.LOADS) | set(registry.PMICS)
    return sorted(names | set(registry.PRESETS))


def nasty_value(rng: random.Random, current=None):
    """A hostile value, or a hostile twist of ``current`` (a quantity string or number), or
    another registered name in place of a name."""
    if isinstance(current, str) and rng.random() < 0.15:
        return rng.choice(registry_names())
    if isinstance(current, str) and rng.random() < 0.5:
        number, _, unit = current.partition(" ")
        twists = [f"-{current}", f"{number}e300 {unit}", f"nan {unit}", f"inf {unit}", f"0 {unit}",
                  f"{number} V", f"{number} s", f"{number} F", f"{number} parsec", f"{number}{unit}",
                  f"{number} {unit}**2", f"{number} {unit}^9^9^9", number, unit, current * 50, current.upper(),
                  f"1e-300 {unit}", f"{number}  {unit} extra"]
        return rng.choice(twists)
    if isinstance(current, (int, float)) and not isinstance(current, bool) and rng.random() < 0.5:
        return rng.choice([-current, current * 1e300, current * 1e-300, str(current), float(current) + 0.5,
                           int(current) * 10 ** 9 if math.isfinite(current) else -current])
    return copy.deepcopy(rng.choice(NASTY))


# --- scenario files ----------------------------------------------------------------------------
def base_scenarios() -> list[tuple[str, dict]]:
    """The bundled default and every example scenario, made short (60 s) and with absolute file paths."""
    files = [DEFAULT_SCENARIO] + sorted(EXAMPLES.glob("*.toml")) + sorted((EXAMPLES / "firmware").glob("*.toml"))
    files.append(EXAMPLES / "sweeps" / "node.toml")
    out = []
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "simulation" not in data:
            continue
        data = absolute_paths(data, path.parent)
        data["simulation"]["duration"] = "60 s"
        data["simulation"]["record_every"] = "1 s"
        out.append((path.name, data))
    return out


def absolute_paths(value, folder: Path):
    """Every string that names an existing file relative to ``folder``, made absolute."""
    if isinstance(value, dict):
        return {k: absolute_paths(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [absolute_paths(v, folder) for v in value]
    if isinstance(value, str) and 0 < len(value) < 200 and ("/" in value or value.endswith((".csv", ".py", ".epw"))):
        candidate = folder / value
        if candidate.is_file():
            return str(candidate.resolve())
    return value


def leaf_paths(value, prefix=()) -> list[tuple]:
    """Paths (tuples of keys/indices) to every value in nested dicts/lists, tables included."""
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += leaf_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += leaf_paths(v, prefix + (i,))
    return out


def _get(data, path):
    for part in path:
        data = data[part]
    return data


def mutate_data(data: dict, rng: random.Random) -> dict:
    """One to three structural or value mutations of a scenario (or sweep) as nested dicts."""
    data = copy.deepcopy(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        paths = leaf_paths(data)
        if not paths:
            break
        path = rng.choice(paths)
        parent = _get(data, path[:-1])
        key = path[-1]
        action = rng.random()
        if action < 0.55:
            parent[key] = nasty_value(rng, parent[key])
        elif action < 0.65:
            del parent[key]
        elif action < 0.75 and isinstance(parent, dict):
            parent[rng.choice(["unknown_key", "__class__", "__init__", "model_config", "extra", key + "_", "Ω"])] = \
                nasty_value(rng)
        elif action < 0.82 and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))  # a duplicated component (same name)
        elif action < 0.9:
            parent[key] = [copy.deepcopy(parent[key])] * rng.choice((1, 2))
        else:
            parent[key] = {"nested": copy.deepcopy(parent[key])}
    return data


def to_toml(data: dict) -> str | None:
    """TOML text, or None when the structure cannot be written as TOML (e.g. an empty key path)."""
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError, RecursionError):
        return None


def mutate_text(text: str, rng: random.Random) -> bytes:
    """Byte-level damage: duplicated or dropped lines, truncation, bad bytes, deep nesting, BOM."""
    lines = text.splitlines(keepends=True) or [""]
    action = rng.randrange(10)
    if action == 0:  # a duplicated key or table
        i = rng.randrange(len(lines))
        lines.insert(i + rng.randrange(3), lines[i])
    elif action == 1:
        del lines[rng.randrange(len(lines))]
    elif action == 2:
        joined = "".join(lines)
        return joined[:rng.randrange(len(joined) + 1)].encode()
    elif action == 3:
        raw = bytearray("".join(lines).encode())
        for _ in range(rng.randint(1, 4)):
            raw.insert(rng.randrange(len(raw) + 1), rng.choice([0x00, 0xff, 0xfe, 0xc3, 0x80, 0x0d, 0x22, 0x5b, 0x3d]))
        return bytes(raw)
    elif action == 4:
        depth = rng.choice((100, 1000, 50_000))
        lines.append(f"\nnested = {'[' * depth}1{']' * depth}\n")
    elif action == 5:
        depth = rng.choice((100, 1000, 5000))
        lines.append(f"\n[{'.'.join(['t'] * depth)}]\nx = 1\n")
    elif action == 6:
        return b"\xef\xbb\xbf" + "".join(lines).encode()
    elif action == 7:
        i = rng.randrange(len(lines))
        lines[i] = lines[i].replace("=", "= " + rng.choice(["nan", "inf", "-inf", "1e999", "0x7fffffffffffffffff",
                                                             "1979-05-27T07:32:00Z", "{", "[", '"""', "'x"]), 1)
    elif action == 8:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["[simulation]\n", "[[storage]]\n", "[load]\n",
                                                                "[[simulation]]\n", "name = 1\n", "load = 3\n"]))
    else:
        return "".join(lines).encode("utf-16")
    return "".join(lines).encode()


# --- trace CSV files ---------------------------------------------------------------------------
CSV_HEADERS = {
    "lux": ["time_s,lux", "time_h,illuminance_lx", "time_min,lux", "time_parsec,lux", "time_s,lux,lux", "lux,time_s",
            "time_s", "time_s,irradiance_W_m2", "time_s,lux_9**9**9", "time_s**99999,lux", "", "time_s;lux"],
    "power": ["time_s,power_uW", "time_h,current_mA", "time_s,power_W", "time_s,power_", "time_d,power_nW",
              "time_s,current_V", "time_1e999,power_W", "time_s,power_uW^9^9^9"],
    "ppk2": ["Timestamp(ms),Current(uA),D0-D7", "Time (s),Main current (A)", "Timestamp(parsec),Current(uA)",
             "Timestamp(ms),Current(9**9**9 A)", "", "Timestamp(ms)", "a,b,c"],
    "motion": ["time_s", "time_min", "time_s,extra", "time_ns"],
}

CSV_CELLS = ["0", "1", "-1", "nan", "inf", "-inf", "1e308", "-1e308", "1e-300", "", " ", "x", "1,5", "0x10",
             "１２", "\x00", '"', '"unterminated', "1e999", "9" * 5000, "💥", "NaN", "+0", "-0", "1_000"]


def trace_csv(kind: str, rng: random.Random) -> bytes:
    """A plausible-then-damaged CSV for a trace of ``kind`` (lux, power, ppk2, motion)."""
    header = rng.choice(CSV_HEADERS[kind])
    width = max(1, header.count(",") + 1) if header else 2
    rows = []
    t = 0.0
    for _ in range(rng.choice((0, 1, 2, 3, 10, 50))):
        t += rng.choice((1.0, 1.0, 0.5, 1e-12, 0.0, -1.0, 3600.0))
        cells = [f"{t:g}"] + [f"{rng.uniform(0, 500):.3f}" for _ in range(width - 1)]
        if rng.random() < 0.3:
            cells[rng.randrange(width)] = rng.choice(CSV_CELLS)
        if rng.random() < 0.1:
            cells = cells[:-1] if len(cells) > 1 else cells + ["7"]
        rows.append(",".join(cells))
    lines = ([header] if header or rng.random() < 0.5 else []) + rows
    if rng.random() < 0.2:
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(["# comment", "", "   ", "#" * 3000, "a" * 70000]))
    text = "\n".join(lines) + rng.choice(("\n", "", "\r\n"))
    raw = text.encode()
    roll = rng.random()
    if roll < 0.05:
        raw = raw.replace(b"0", b"\xff", 1)
    elif roll < 0.08:
        raw = b"\xef\xbb\xbf" + raw
    elif roll < 0.1:
        raw = text.encode("utf-16")
    elif roll < 0.12:
        raw = raw[:rng.randrange(len(raw) + 1)]
    return raw


def trace_scenario(kind: str, csv_path: str) -> dict:
    """A short scenario whose ``kind`` trace is read from ``csv_path``."""
    data = {"simulation": {"duration": "20 s", "record_every": "1 s"},
            "storage": {"model": "supercap", "capacitance": "10 mF", "esr": "1 ohm", "initial_voltage": "3 V",
                        "v_min": "1.8 V", "v_max": "3.3 V"}}
    if kind == "lux":
        data["harvester"] = [{"type": "pv", "name": "pv", "preset": "indoor-asi", "area": "10 cm^2",
                              "light": {"trace": csv_path, "source": "led"}}]
    elif kind == "power":
        data["harvester"] = [{"type": "trace", "name": "teg", "file": csv_path}]
    elif kind == "ppk2":
        data["load"] = [{"type": "trace", "name": "capture", "file": csv_path, "period": "5 s"}]
    else:
        data["harvester"] = [{"type": "teng", "name": "teng", "preset": "teng-insole-25cm2", "motion": csv_path}]
    return data


# --- sweep files -------------------------------------------------------------------------------
def base_sweeps() -> list[tuple[str, dict]]:
    """The example sweeps, small (at most 3 values per axis, 3 samples) and with absolute paths."""
    out = []
    for path in sorted((EXAMPLES / "sweeps").glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "scenario" not in data:
            continue
        data["scenario"] = str((path.parent / data["scenario"]).resolve())
        for axis in data.get("axis", []):
            if "values" in axis:
                axis["values"] = axis["values"][:3]
            if "steps" in axis:
                axis["steps"] = 3
        if "monte_carlo" in data:
            data["monte_carlo"]["samples"] = 3
        out.append((path.name, data))
    return out


def summary_problem(out_dir: Path) -> str | None:
    """A run that exits 0 must not have computed garbage: every number in summary.json is finite."""
    import json

    summary = json.loads((Path(out_dir) / "summary.json").read_text())
    bad = [k for k, v in _numbers(summary) if not math.isfinite(v)]
    return f"exit 0 but summary.json has non-finite {', '.join(bad[:5])}" if bad else None


def _numbers(value, key=""):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield key, float(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{key}.{k}" if key else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{key}[{i}]")


def damaged_copy(raw: bytes, rng: random.Random) -> bytes:
    """A real data file with a few lines duplicated, dropped, cut, swapped for junk or cells
    replaced by hostile values (for the weather files pvlib reads)."""
    lines = raw.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:
            break
        i = rng.randrange(min(len(lines), 60))  # the headers and the first hours: where readers look
        action = rng.randrange(6)
        if action == 0:
            lines.insert(i, lines[i])
        elif action == 1:
            del lines[i]
        elif action == 2:
            lines[i] = lines[i][:rng.randrange(len(lines[i]) + 1)]
        elif action == 3:
            cells = lines[i].split(b",")
            cells[rng.randrange(len(cells))] = rng.choice(CSV_CELLS).encode("utf-8", "surrogatepass")
            lines[i] = b",".join(cells)
        elif action == 4:
            lines[i] = rng.choice([b"", b"\xff\xfe", b"a,b,c", b"," * 80, b"1" * 5000])
        else:
            lines = lines[:i]
    return b"\n".join(lines)
