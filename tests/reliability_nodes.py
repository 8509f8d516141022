"""Hypothesis strategies for random *valid* nodes (scenario dicts), and the physical bounds a run
of such a node must respect. Used by tests/test_reliability_properties.py.

A node is a supercap (branches, leakage) or a battery (OCV table, RC pairs, self-discharge), as
one cell, an identical pack or a mismatched/balanced pack; zero to two harvesters (constant or
stepped current, indoor PV wired directly, a power or current trace); optionally a BQ25570-class
PMIC (then the harvesters are PV or traces with a voltage); one to three loads (constant current or
power, periodic pulses, BLE advertising, an LED blinking through a resistor).

Ranges are chosen so that a run of 20 to 200 base load periods has a few thousand events at most (the event path
is run too) while still reaching brown-outs, over-voltage holds and OCV knees in a fair share of
the examples.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

#: trace columns a run's upper bound allows over the open-circuit level (V)
HOLD_BAND_V = 0.005
#: longest run, in base load periods: bounds the events of the event-path run
MAX_BASE_CYCLES = 200


@dataclass
class NodeFacts:
    """What the strategies know about a generated node, for the bounds (SI units)."""

    kind: str                     # "supercap" | "battery"
    series: int
    parallel: int
    v_min: float                  # per cell
    v_max: float | None           # per cell
    r_cell_max: float             # largest series resistance of one cell path, incl. RC pairs (Ω)
    leaks: bool                   # leakage or self-discharge: the store decays with the loads off
    source_current_A: float = 0.0  # largest current the current-defined sources can push (A)
    source_power_W: float = 0.0    # largest power the power-defined sources can push (W)
    source_level_V: float = 0.0    # open-circuit level a voltage-limited source charges to (V, pack)
    unbounded_source: bool = False  # an ideal current source with no v_max: no upper bound
    load_current_A: float = 0.0    # sum of the loads' peak currents at the brown-out level (A)
    pmic: bool = False
    pmic_v_ov: float | None = None
    load_period_s: float = 0.0     # longest load period (s)
    files: dict = field(default_factory=dict)


def _q(value: float, unit: str, digits: int = 6) -> str:
    if abs(value) < 1e-90:  # scenario quantities are zero or at least 1e-100 (SI)
        value = 0.0
    return f"{value:.{digits}g} {unit}"


# --- storage ---------------------------------------------------------------------------------
@st.composite
def supercap(draw, pack: bool = True):
    c = draw(st.floats(2e-3, 0.1))
    esr = draw(st.floats(0.1, 10.0))
    table = {"model": "supercap", "capacitance": _q(c, "F"), "esr": _q(esr, "ohm")}
    leaks = draw(st.booleans())
    if leaks:
        table["leakage_resistance"] = _q(draw(st.floats(2e5, 1e7)), "ohm")
    branches = draw(st.lists(st.tuples(st.floats(1e-3, 0.05), st.floats(10.0, 1e4)), max_size=2))
    if branches:
        table["branches"] = [{"capacitance": _q(bc, "F"), "resistance": _q(br, "ohm")} for bc, br in branches]
    r_cell = esr + (max(br for _, br in branches) if branches else 0.0)
    return table, "supercap", r_cell, leaks, (1.0, 1.6), (2.5, 3.0)


@st.composite
def battery(draw, pack: bool = True):
    v0 = draw(st.floats(2.8, 3.3))
    knots = sorted(draw(st.lists(st.floats(0.05, 0.95), min_size=1, max_size=3, unique=True)))
    socs = [0.0] + knots + [1.0]
    rises = draw(st.lists(st.floats(0.02, 0.4), min_size=len(socs) - 1, max_size=len(socs) - 1))
    volts = [v0]
    for r in rises:
        volts.append(volts[-1] + r)
    capacity_mAh = draw(st.floats(0.02, 0.5))
    r0 = draw(st.floats(1.0, 50.0))
    rcs = draw(st.lists(st.tuples(st.floats(5.0, 200.0), st.floats(0.05, 5.0)), max_size=2))
    table = {"model": "battery", "capacity": _q(capacity_mAh, "mAh"),
             "ocv": [[round(s, 6), round(v, 6)] for s, v in zip(socs, volts)], "r0": _q(r0, "ohm")}
    if rcs:
        table["rc"] = [{"resistance": _q(r, "ohm"), "capacitance": _q(c, "F")} for r, c in rcs]
    leaks = draw(st.booleans())
    if leaks:
        table["self_discharge"] = _q(draw(st.floats(0.5, 20.0)), "%/yr")
    r_cell = r0 + sum(r for r, _ in rcs)
    ocv_at = lambda soc: _interp(soc, socs, volts)  # noqa: E731
    return table, "battery", r_cell, leaks, (ocv_at(0.1), ocv_at(0.3)), (volts[-1], volts[-1] + 0.05), ocv_at


def _interp(x, xs, ys):
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return ys[-1]


@st.composite
def storage(draw, allow_pack: bool = True, allow_mismatch: bool = True):
    """(table, NodeFacts) for a random storage."""
    kind = draw(st.sampled_from(["supercap", "battery"]))
    if kind == "supercap":
        table, kind, r_cell, leaks, vmin_range, vmax_range = draw(supercap())
    else:
        table, kind, r_cell, leaks, vmin_range, vmax_range, ocv_at = draw(battery())
    series = draw(st.integers(1, 3)) if allow_pack else 1
    parallel = draw(st.integers(1, 2)) if allow_pack else 1
    if series * parallel > 1:
        table["series"], table["parallel"] = series, parallel
        if allow_mismatch and draw(st.booleans()):
            spread = {"resistance": _q(draw(st.floats(0, 10)), "%"), "seed": draw(st.integers(0, 1000))}
            if kind == "supercap":
                spread["capacitance"] = _q(draw(st.floats(0, 10)), "%")
                spread["leakage"] = _q(draw(st.floats(0, 10)), "%")
            else:
                spread["capacity"] = _q(draw(st.floats(0, 10)), "%")
            table["mismatch"] = spread
            if draw(st.booleans()):
                table["balancing_resistance"] = _q(draw(st.floats(1e4, 1e6)), "ohm")
                leaks = True  # a balancing resistor drains the pack with the loads off
    v_min = draw(st.floats(*vmin_range))
    v_max = draw(st.one_of(st.none(), st.floats(*vmax_range)))
    table["v_min"] = _q(v_min, "V")
    if v_max is not None:
        table["v_max"] = _q(v_max, "V")
    if kind == "supercap":
        top = v_max if v_max is not None else 3.0
        table["initial_voltage"] = _q(series * draw(st.floats(v_min + 0.2, top)), "V")
    else:
        table["initial_soc"] = round(draw(st.floats(0.45, 0.95)), 6)
    r_max = r_cell * (1.3 if "mismatch" in table else 1.0)  # resistance spread is clipped at 3 sigma (3 x 10 %)
    facts = NodeFacts(kind, series, parallel, v_min, v_max, r_max, leaks)
    return table, facts


# --- harvesters ---------------------------------------------------------------------------------
def _trace_csv(times, values, column):
    lines = [f"time_s,{column}"] + [f"{t:.9g},{v:.9g}" for t, v in zip(times, values)]
    return "\n".join(lines) + "\n"


@st.composite
def harvester(draw, index: int, duration_s: float, behind_pmic: bool):
    kinds = ["pv", "trace"] if behind_pmic else ["current", "pv", "trace"]
    kind = draw(st.sampled_from(kinds))
    name = f"h{index}"
    if kind == "current":
        i0 = draw(st.floats(0.0, 200e-6))
        table = {"type": "current", "name": name, "current": _q(i0, "A")}
        peak = i0
        if draw(st.booleans()):
            times = sorted(draw(st.lists(st.floats(0.05, 0.95), min_size=1, max_size=4, unique=True)))
            currents = draw(st.lists(st.floats(0.0, 200e-6), min_size=len(times), max_size=len(times)))
            table["steps"] = [{"at": _q(t * duration_s, "s"), "current": _q(i, "A")} for t, i in zip(times, currents)]
            peak = max([i0] + currents)
        return table, {"current": peak}
    if kind == "pv":
        area = draw(st.floats(1.0, 10.0))
        lux = draw(st.floats(50.0, 1000.0))
        table = {"type": "pv", "name": name, "preset": "indoor-asi", "area": _q(area, "cm^2"), "light": {"lux": round(lux, 3)}}
        if draw(st.booleans()):
            table["light"]["hours"] = "08:00-18:00"
        # behind a PMIC: the a-Si preset gives ~32 uW/cm^2 at 1000 lx (LED), bounded by 40 here
        return table, {"pv_power": 40e-6 * area * lux / 1000.0, "pv": True}
    n = draw(st.integers(2, 12))
    steps = sorted(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n, unique=True)))
    times = [0.0] + [duration_s * s for s in steps[1:]]
    power = draw(st.booleans()) or behind_pmic
    top = 300e-6 if power else 200e-6
    values = draw(st.lists(st.floats(0.0, top), min_size=len(times), max_size=len(times)))
    if power:
        csv, info = _trace_csv(times, [v * 1e6 for v in values], "power_uW"), {"power": max(values)}
    else:
        csv, info = _trace_csv(times, [v * 1e6 for v in values], "current_uA"), {"current": max(values)}
    table = {"type": "trace", "name": name, "file": f"{name}-{hashlib.sha1(csv.encode()).hexdigest()[:12]}.csv",
             "interpolation": draw(st.sampled_from(["hold", "linear"]))}
    if behind_pmic:
        table["voltage"] = _q(draw(st.floats(0.3, 1.5)), "V")
    info["file"] = (table["file"], csv)
    return table, info


# --- loads ----------------------------------------------------------------------------------------
#: period multiples a load may repeat at (of the node's base period): the merged cycle is at most
#: four base periods, so the regime is periodic and fast-forward has whole cycles to skip
PERIOD_MULTIPLES = (1, 2, 4)


@st.composite
def load(draw, index: int, v_brownout: float, base_ms: int, pmic: bool = False):
    """(table, peak current at the brown-out level (A), period (s)); periods are integer
    milliseconds, multiples of ``base_ms``.

    No LED behind a PMIC: its voltage-dependent draw makes the engine solve every phase of a
    stretch one by one in Python (``regime._currents``), ~50 ms of wall time per simulated second
    with a PMIC-converted trace: correct, but too slow for the CI count."""
    kind = draw(st.sampled_from(["constant", "periodic", "ble"] + ([] if pmic else ["led"])))
    name = f"l{index}"
    period_ms = base_ms * draw(st.sampled_from(PERIOD_MULTIPLES))
    period = period_ms / 1000.0
    if kind == "constant":
        if draw(st.booleans()):
            i = draw(st.floats(0.5e-6, 30e-6))
            return {"type": "constant", "name": name, "current": _q(i, "A")}, i, 0.0
        p = draw(st.floats(1e-6, 60e-6))
        # a constant power P at the terminal draws at most 2P/E (V >= E/2 on the solved branch)
        return {"type": "constant", "name": name, "power": _q(p, "W")}, 2 * p / v_brownout, 0.0
    if kind == "periodic":
        phases = draw(st.lists(st.tuples(st.floats(0.1e-3, 8e-3), st.floats(0.1e-3, 20e-3)), min_size=1, max_size=3))
        base = draw(st.floats(0.0, 3e-6))
        table = {"type": "periodic", "name": name, "period": f"{period_ms} ms", "base_current": _q(base, "A"),
                 "phases": [{"current": _q(i, "A"), "duration": _q(d, "s")} for i, d in phases]}
        return table, max(max(i for i, _ in phases), base), period
    if kind == "ble":
        # the advertising period is interval + advDelay (mean 5 ms): keep it on the millisecond grid
        return ({"type": "nrf52832-ble-adv", "name": name, "interval": f"{period_ms - 5} ms", "adv_delay": "5 ms"},
                16e-3, period)
    resistor = draw(st.floats(220.0, 2200.0))
    on = draw(st.floats(5e-3, 50e-3))
    table = {"type": "led-red", "name": name, "resistor": _q(resistor, "ohm"), "period": f"{period_ms} ms",
             "on_time": _q(on, "s")}
    return table, 15.0 / resistor, period  # at most (V - V_f)/R with V < 15 V


# --- whole nodes -------------------------------------------------------------------------------------
@st.composite
def node(draw, max_cycles: int = MAX_BASE_CYCLES):
    """(scenario dict, NodeFacts): the run lasts 20 to ``max_cycles`` base load periods."""
    storage_table, facts = draw(storage())
    # whole seconds: a PMIC's 16 s MPPT cycle then merges with the loads into a cycle of at most
    # an hour (a period such as 52.156 s would merge with it into a 2.4-day cycle of 30,000 phases)
    base_ms = 1000 * draw(st.integers(5, 60))
    duration = draw(st.integers(20, max_cycles)) * base_ms / 1000.0 + draw(st.floats(0.0, base_ms / 1000.0))
    rows = draw(st.integers(50, 300))
    data = {"simulation": {"duration": _q(duration, "s", 9), "record_every": _q(duration / rows, "s", 9)},
            "storage": storage_table}
    pmic = draw(st.integers(0, 3)) == 0
    harvesters, files = [], {}
    for k in range(draw(st.integers(1 if pmic else 0, 2))):
        table, info = draw(harvester(k, duration, pmic))
        harvesters.append(table)
        if "file" in info:
            files[info["file"][0]] = info["file"][1]
        if pmic:  # behind the PMIC every source is power into the boost; its output is power too
            facts.source_power_W += info.get("power", 0.0) + info.get("pv_power", 0.0)
        else:
            facts.source_current_A += info.get("current", 0.0)
            facts.source_power_W += info.get("power", 0.0)
        if pmic:
            facts.unbounded_source = True  # the boost pushes power until the PMIC's v_ov (below)
        elif info.get("pv"):
            pass  # a PV cell stops at its open circuit: refined from the built node (refine_with_node)
        elif "current" in info and info["current"] > 0:
            facts.unbounded_source = True
        elif "power" in info and info["power"] > 0:
            facts.unbounded_source = True
    if harvesters:
        data["harvester"] = harvesters
    if pmic:
        pack_top = facts.series * (facts.v_max if facts.v_max is not None else 3.0)
        v_ov = draw(st.floats(0.8, 1.0)) * pack_top
        data["pmic"] = {"preset": "bq25570", "v_ov": _q(v_ov, "V"), "v_pg_on": _q(0.7 * v_ov, "V"),
                        "v_pg_off": _q(0.6 * v_ov, "V"), "buck_voltage": _q(min(1.8, 0.5 * v_ov), "V")}
        facts.pmic, facts.pmic_v_ov = True, v_ov
    v_brownout = facts.v_min * facts.series
    loads = []
    for k in range(draw(st.integers(1, 3))):
        table, peak, period = draw(load(k, v_brownout, base_ms, pmic))
        if pmic and draw(st.booleans()) and table["type"] in ("constant", "periodic"):
            table["rail"] = "pmic"
        loads.append(table)
        facts.load_current_A += peak
        facts.load_period_s = max(facts.load_period_s, period)
    data["load"] = loads
    facts.files = files
    return data, facts


def refine_with_node(facts: NodeFacts, built) -> None:
    """Source limits that need the built node: a directly wired PV cell charges to at most its
    open-circuit voltage less the diode drop, with at most its short-circuit current."""
    from harvesters.pv import PVHarvester

    for c in built.components:
        if isinstance(c, PVHarvester):
            facts.source_level_V = max(facts.source_level_V, float(np.max(c.points["v_oc"])) - c.diode_drop_V)
            facts.source_current_A += float(np.max(c.points["i_sc"]))


def write_files(folder: Path, files: dict) -> None:
    for name, text in files.items():
        path = folder / name
        if not path.exists():
            path.write_text(text, encoding="utf-8")


# --- bounds ---------------------------------------------------------------------------------------------
def upper_bound(facts: NodeFacts, v_oc0: float) -> float:
    """Highest terminal voltage the node may show (V), or inf when an ideal source can push it up
    without limit.

    * With no source the network is passive and starts at rest: nothing is above the initial
      open-circuit voltage ``v_oc0``.
    * A source charges at most to the lowest of the levels that stop it: the protection's
      ``v_max`` per cell (the store is held there, within the engine's hold band), the PMIC's
      ``v_ov``, a PV cell's open circuit. The terminal exceeds the open-circuit level by the
      charging current through the series resistance: ``R·I`` for currents and at most
      ``sqrt(R·P)`` for a constant power P (from V = E + R·P/V).
    """
    levels = [math.inf if facts.unbounded_source else facts.source_level_V]
    if facts.v_max is not None:
        levels.append(facts.series * (facts.v_max + HOLD_BAND_V))
    if facts.pmic and facts.pmic_v_ov is not None:
        levels.append(facts.pmic_v_ov + HOLD_BAND_V)
    if facts.source_current_A == 0 and facts.source_power_W == 0:
        return v_oc0
    level = max(v_oc0, min(levels))
    r_pack = facts.r_cell_max * facts.series / facts.parallel
    return level + r_pack * facts.source_current_A + math.sqrt(r_pack * facts.source_power_W)


def lower_bound(facts: NodeFacts, v_oc0: float, v_oc_floor: float) -> float:
    """Lowest terminal voltage the node may show (V), or -inf when a drain that brown-out does not
    cut (a PMIC's quiescent current) can pull it anywhere.

    Loads run only while every cell is above ``v_min`` (brown-out is judged on the terminal with
    the current flowing), so while they run the store's open-circuit voltage is at least the
    brown-out level and the terminal at most ``R·I_peak`` below it. With the loads off the
    terminal is the open-circuit voltage: it stays at or above min(initial, brown-out level)
    unless the store leaks, and then never below the store's own floor (0 V for a capacitor, the
    OCV at empty for a battery).
    """
    if facts.pmic:
        return -math.inf
    r_pack = facts.r_cell_max * facts.series / facts.parallel
    v_b = facts.v_min * facts.series
    with_loads = min(v_b, v_oc0) - r_pack * facts.load_current_A
    without = v_oc_floor if facts.leaks else min(v_oc0, v_b)
    return min(with_loads, without)
