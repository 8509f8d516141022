"""ngspice as a reference simulator: netlists for sysim's circuits, batch runs, parsed results.

The netlists here are the same circuits sysim steps exactly (models-and-numerics.md §5.6 used
ngspice-39 the same way): a multi-branch supercapacitor with leakage under a pulsed current, a
Thevenin battery with two RC pairs inside one linear OCV piece (the piece is a capacitor
``C_diff = Q/ΔOCV`` behind a DC source), and a single-diode PV cell wired straight to a capacitor.
Every run is timed, so the same call gives the speed reference.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import numpy as np

NGSPICE = shutil.which("ngspice") or "/usr/bin/ngspice"


@dataclass
class SpiceRun:
    time_s: np.ndarray
    columns: dict[str, np.ndarray]
    wall_s: float


def run(netlist: str, probes: list[str], t_stop: float, t_step: float, t_max: float | None = None,
        reltol: float = 1e-6) -> SpiceRun:
    """Run ``netlist`` (elements only) for ``t_stop`` s and return the probed node voltages /
    branch currents (``v(node)``, ``i(vsrc)``), sampled where ngspice put its time points."""
    with tempfile.TemporaryDirectory(prefix="sysim-spice-") as tmp:
        out = os.path.join(tmp, "out.txt")
        deck = "\n".join([
            "* sysim reference circuit",
            netlist.strip(),
            f".options reltol={reltol} abstol=1e-15 vntol=1e-9 chgtol=1e-18 method=gear",
            f".tran {t_step:g} {t_stop:g} 0 {t_max if t_max else t_step:g} uic",
            ".control",
            "run",
            f"wrdata {out} " + " ".join(probes),
            ".endc",
            ".end",
        ]) + "\n"
        path = os.path.join(tmp, "deck.cir")
        with open(path, "w") as fh:
            fh.write(deck)
        start = time.perf_counter()
        proc = subprocess.run([NGSPICE, "-b", path], capture_output=True, text=True, timeout=3600)
        wall = time.perf_counter() - start
        if not os.path.exists(out) or os.path.getsize(out) == 0:  # batch mode may exit 1 after a good run
            raise RuntimeError(f"ngspice failed: {proc.stderr[-2000:]}{proc.stdout[-2000:]}")
        data = np.loadtxt(out, ndmin=2)
    # wrdata writes (time, value) pairs per probe
    t = data[:, 0]
    cols = {name: data[:, 2 * k + 1] for k, name in enumerate(probes)}
    return SpiceRun(t, cols, wall)


def pulse(name: str, node_from: str, node_to: str, base_A: float, pulses: list[tuple[float, float]],
          period_s: float, delay_s: float = 0.0, edge_s: float = 1e-9) -> str:
    """A periodic piecewise-constant current drawn from ``node_from`` into ``node_to``: a DC base
    plus one PULSE source per phase (``pulses``: (current, duration) from each period's start,
    the first period starting at ``delay_s``). Edges take ``edge_s``, split evenly about the
    nominal switching instants so the charge per pulse is exact."""
    lines = [f"{name}0 {node_from} {node_to} DC {base_A:.12g}"]
    t = 0.0
    for k, (current, duration) in enumerate(pulses, start=1):
        start = delay_s + t - 0.5 * edge_s
        lines.append(f"{name}{k} {node_from} {node_to} PULSE(0 {current - base_A:.12g} {start:.12g} {edge_s:.3g} "
                     f"{edge_s:.3g} {duration - edge_s:.12g} {period_s:.12g})")
        t += duration
    return "\n".join(lines)


def supercap(esr: float, c0: float, r_leak: float, branches: list[tuple[float, float]], v0: float) -> str:
    """Terminal ``term``; node ``n0``; branches ``b1..``; all capacitors start at v0."""
    lines = [f"Resr term n0 {esr:.12g}", f"C0 n0 0 {c0:.12g} ic={v0:.12g}", f"Rleak n0 0 {r_leak:.12g}"]
    for k, (c, r) in enumerate(branches, start=1):
        lines += [f"Rb{k} n0 b{k} {r:.12g}", f"Cb{k} b{k} 0 {c:.12g} ic={v0:.12g}"]
    return "\n".join(lines)


def battery_piece(ocv_offset: float, slope_V_per_C: float, q0_C: float, r0: float,
                  rc: list[tuple[float, float]]) -> str:
    """Thevenin battery inside one OCV piece ``OCV = a + s·q``: DC source a, capacitor 1/s charged
    to s·q0, R0 and RC pairs in series; terminal ``term``."""
    lines = [f"Vocv a 0 DC {ocv_offset:.12g}", f"Cq q a {1.0 / slope_V_per_C:.12g} ic={slope_V_per_C * q0_C:.12g}"]
    prev = "q"
    for k, (r, c) in enumerate(rc, start=1):
        lines += [f"Rrc{k} {prev} r{k} {r:.12g}", f"Crc{k} {prev} r{k} {c:.12g} ic=0"]
        prev = f"r{k}"
    lines.append(f"R0 {prev} term {r0:.12g}")
    return "\n".join(lines)


def pv_cell(i_l: float, i_0: float, r_s: float, r_sh: float, n_ns_vth: float, temp_C: float) -> str:
    """Single-diode PV cell between ground and ``term`` (photocurrent into ``pv``)."""
    vth = 1.380649e-23 * (temp_C + 273.15) / 1.602176634e-19
    emission = n_ns_vth / vth
    return "\n".join([
        f"Iph 0 pv DC {i_l:.12g}",
        f"Dpv pv 0 dpv",
        f".model dpv D(IS={i_0:.12g} N={emission:.12g} RS=0)",
        f"Rsh pv 0 {r_sh:.12g}",
        f"Rs pv term {r_s:.12g}",
        f".temp {temp_C:.6g}",
        f".options tnom={temp_C:.6g}",
    ])
