"""ngspice (batch mode) as the reference: RC networks under the same pulsed current profile agree
with the engine within 1 mV over a one-hour run (models-and-numerics.md §5.7 item 3).

Profile: 20 µA base, 5 mA for 20 ms every 10 s starting at 0.5 s (a radio burst), one hour; the
terminal voltage is compared every second (ngspice ``.options interp`` output on the same grid,
samples fall between pulses). ngspice gets 1 µs edges with the flat top shortened by 1 µs, so
each pulse carries exactly I·20 ms; with 1 ns edges ngspice silently skips pulses.
"""
import shutil
import subprocess

import numpy as np

from device_models.base import IdenticalPack
from device_models.battery import Battery, BatteryParameters, RCPair
from device_models.pack import Pack
from device_models.supercap import Branch, Supercap, SupercapParameters
from loads.basic import PeriodicLoad
from storage_helpers import balance_error, run_components

NGSPICE = shutil.which("ngspice") or "/usr/bin/ngspice"
BASE_A, PULSE_A, WIDTH_S, PERIOD_S, OFFSET_S, HOUR = 20e-6, 5e-3, 0.02, 10.0, 0.5, 3600.0


def _spice(netlist: str, tmp_path, node: str = "t") -> tuple[np.ndarray, np.ndarray]:
    source = f"""* sysim storage reference
{netlist}
Iload {node} 0 PULSE({BASE_A} {PULSE_A} {OFFSET_S - 0.5e-6} 1u 1u {WIDTH_S - 1e-6} {PERIOD_S})
.options reltol=1e-7 abstol=1e-14 vntol=1e-9 chgtol=1e-16 interp
.tran 1 {HOUR} 0 0.05 uic
.control
set filetype=ascii
set wr_singlescale
run
wrdata {tmp_path}/out.txt v({node})
quit
.endc
.end
"""
    path = tmp_path / "net.cir"
    path.write_text(source)
    proc = subprocess.run([NGSPICE, "-b", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    data = np.loadtxt(tmp_path / "out.txt")
    return data[:, 0], data[:, 1]


def _engine(model):
    load = PeriodicLoad("load", PERIOD_S, BASE_A, [(PULSE_A, WIDTH_S)], OFFSET_S)
    _, raw = run_components(model, [load], HOUR, record_every=1.0)
    assert balance_error(raw) < 1e-9
    return raw.rows[:, 0], raw.rows[:, 1]


def _compare(model, netlist, tmp_path):
    t_ref, v_ref = _spice(netlist, tmp_path)
    t, v = _engine(model)
    keep = (t >= t_ref[0]) & (t <= t_ref[-1])  # ngspice's interpolated output starts at the first step
    assert keep.sum() >= HOUR - 1
    ref = np.interp(t[keep], t_ref, v_ref)
    worst = float(np.max(np.abs(v[keep] - ref)))
    assert worst < 1e-3, worst
    assert v[0] - v[-1] > 0.2  # the hour really moved the store
    return worst


def _supercap_cell(prefix, plus, minus, c, esr, r_leak, branches, v0):
    lines = [f"R{prefix}esr {plus} {prefix}n {esr}", f"C{prefix}0 {prefix}n {minus} {c} IC={v0}",
             f"R{prefix}leak {prefix}n {minus} {r_leak}"]
    for k, (cb, rb) in enumerate(branches):
        lines += [f"R{prefix}b{k} {prefix}n {prefix}b{k} {rb}", f"C{prefix}b{k} {prefix}b{k} {minus} {cb} IC={v0}"]
    return lines


def test_three_branch_supercap_matches_ngspice(tmp_path):
    # Zubieta-style: immediate 70 mF, delayed 20 mF / 100 s, long-term 10 mF / 1000 s, ESR, leakage
    branches = [(0.02, 5000.0), (0.01, 1e5)]
    model = Supercap(SupercapParameters(0.07, 4.0, 2e5, tuple(Branch(c, r) for c, r in branches)), 3.0)
    netlist = "\n".join(_supercap_cell("x", "t", "0", 0.07, 4.0, 2e5, branches, 3.0))
    _compare(model, netlist, tmp_path)


def test_thevenin_battery_with_two_rc_pairs_matches_ngspice(tmp_path):
    # linear OCV a + s·q is a capacitor 1/s behind a source a; self-discharge k·q is R = 1/(C·k)
    cap, v_lo, v_hi, soc0 = 3.6 * 0.05, 3.4, 4.1, 0.8
    s = (v_hi - v_lo) / cap
    params = BatteryParameters(cap, ((0.0, v_lo), (1.0, v_hi)), 15.0, (RCPair(40.0, 2.0), RCPair(120.0, 60.0)), 0.5)
    model = Battery(params, soc0)
    c_ocv, k_sd = 1.0 / s, model.k_sd
    netlist = "\n".join([f"Vocv a q DC {v_lo}", f"Cq q 0 {c_ocv} IC={soc0 * cap * s}", f"Rsd q 0 {1.0 / (c_ocv * k_sd)}",
                         "R0 a x1 15", "R1 x1 x2 40", "C1 x1 x2 2 IC=0", "R2 x2 t 120", "C2 x2 t 60 IC=0"])
    _compare(model, netlist, tmp_path)


def test_mismatched_pack_with_balancing_resistors_matches_ngspice(tmp_path):
    # 2s2p of individual supercap cells (one branch each), a balancing resistor across every cell
    cells = [(0.010, 2.0, 3e5, 0.004, 800.0), (0.011, 2.5, 2e5, 0.005, 600.0),
             (0.0095, 1.5, 4e5, 0.0035, 900.0), (0.0105, 3.0, 1.5e5, 0.0045, 700.0)]
    r_bal, v0 = 2e4, 1.5
    model = Pack([Supercap(SupercapParameters(c, esr, rl, (Branch(cb, rb),)), v0) for c, esr, rl, cb, rb in cells],
                 2, 2, r_bal)
    lines = []
    for j in range(2):
        top, mid = "t", f"m{j}"
        for i, (plus, minus) in enumerate(((top, mid), (mid, "0"))):
            c, esr, rl, cb, rb = cells[j * 2 + i]
            prefix = f"s{j}c{i}"
            lines += _supercap_cell(prefix, plus, minus, c, esr, rl, [(cb, rb)], v0)
            lines.append(f"R{prefix}bal {plus} {minus} {r_bal}")
    netlist = "\n".join(lines)
    _compare(model, netlist, tmp_path)


def test_identical_cell_pack_matches_ngspice(tmp_path):
    # 3s1p identical cells collapse exactly: the same string in SPICE, cell by cell
    cell = (0.05, 1.0, 5e5, 0.02, 2000.0)
    model = IdenticalPack(Supercap(SupercapParameters(0.05, 1.0, 5e5, (Branch(0.02, 2000.0),)), 1.2), 3, 1)
    lines = []
    nodes = ["t", "m1", "m2", "0"]
    for i in range(3):
        lines += _supercap_cell(f"c{i}", nodes[i], nodes[i + 1], *cell[:3], [cell[3:]], 1.2)
    netlist = "\n".join(lines)
    _compare(model, netlist, tmp_path)
