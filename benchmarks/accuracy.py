"""sysim against ngspice on the same circuits over a one-hour window (issue 6 accuracy target:
within 1 mV and 0.1 % of charge).

Circuits: (1) a two-branch supercapacitor with leakage under a BLE-like pulsed load, (2) a
Thevenin battery with two RC pairs inside one OCV piece under a pulsed load, (3) a single-diode PV
cell wired straight to a capacitor. ngspice runs with reltol 1e-6 and a 10 ms step ceiling; its
trace is interpolated onto sysim's samples, which lie between pulses.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ngspice_ref as spice  # noqa: E402

import sysim  # noqa: E402

HOUR = 3600.0


@dataclass
class Comparison:
    name: str
    max_dv_V: float
    charge_sysim_C: float
    charge_spice_C: float
    sysim_wall_s: float
    spice_wall_s: float

    @property
    def charge_rel(self) -> float:
        return abs(self.charge_sysim_C - self.charge_spice_C) / abs(self.charge_spice_C)

    @property
    def ok(self) -> bool:
        return self.max_dv_V <= 1e-3 and self.charge_rel <= 1e-3


def _sysim(data: dict):
    result = sysim.simulate(sysim.from_dict(data))
    return result


def supercap_pulsed(window_s: float = HOUR) -> Comparison:
    esr, c0, r_leak, c1, r1, v0 = 5.0, 0.03, 5e5, 0.015, 200.0, 3.0
    base, pulses, period = 2e-6, [(5e-3, 4e-3)], 1.0
    data = {"simulation": {"duration": window_s, "record_every": 10.0},
            "storage": {"model": "supercap", "capacitance": c0, "esr": esr, "leakage_resistance": r_leak,
                        "branches": [{"capacitance": c1, "resistance": r1}], "initial_voltage": v0},
            "load": [{"type": "periodic", "name": "ble", "period": period, "base_current": base, "offset": 0.5,
                      "phases": [{"current": i, "duration": d} for i, d in pulses]}]}
    res = _sysim(data)
    net = spice.supercap(esr, c0, r_leak, [(c1, r1)], v0) + "\n" + \
        spice.pulse("Iload", "term", "0", base, pulses, period, delay_s=0.5)
    ref = spice.run(net, ["v(term)", "v(n0)", "v(b1)"], window_s, 10e-3, 10e-3)
    t = res.column("time_s")
    v_spice = np.interp(t, ref.time_s, ref.columns["v(term)"])
    stored = lambda n0, b1: c0 * n0 + c1 * b1  # noqa: E731  charge on the capacitors
    q_sysim = stored(res.column("voltage_V")[-1] + base * esr, res.column("branch1_V")[-1]) - stored(v0, v0)
    q_spice = stored(ref.columns["v(n0)"][-1], ref.columns["v(b1)"][-1]) - stored(v0, v0)
    return Comparison("two-branch supercap + leakage, 1 s pulses", float(np.max(np.abs(res.column("voltage_V") - v_spice))),
                      q_sysim, q_spice, res.summary["wall_time_s"], ref.wall_s)


def battery_two_rc(window_s: float = HOUR) -> Comparison:
    cap_c, r0, rc, soc0 = 3.6, 20.0, [(30.0, 2.0), (100.0, 50.0)], 0.8
    ocv = [[0.0, 3.0], [1.0, 4.2]]
    base, pulses, period = 10e-6, [(10e-3, 0.1)], 10.0
    data = {"simulation": {"duration": window_s, "record_every": 10.0},
            "storage": {"model": "battery", "capacity": cap_c, "ocv": ocv, "r0": r0,
                        "rc": [{"resistance": r, "capacitance": c} for r, c in rc], "initial_soc": soc0},
            "load": [{"type": "periodic", "name": "radio", "period": period, "base_current": base, "offset": 5.0,
                      "phases": [{"current": i, "duration": d} for i, d in pulses]}]}
    res = _sysim(data)
    slope = 1.2 / cap_c
    net = spice.battery_piece(3.0, slope, soc0 * cap_c, r0, rc) + "\n" + \
        spice.pulse("Iload", "term", "0", base, pulses, period, delay_s=5.0)
    ref = spice.run(net, ["v(term)", "v(q,a)"], window_s, 10e-3, 10e-3)
    t = res.column("time_s")
    v_spice = np.interp(t, ref.time_s, ref.columns["v(term)"])
    q_sysim = (res.column("soc")[-1] - soc0) * cap_c
    q_spice = ref.columns["v(q,a)"][-1] / slope - soc0 * cap_c
    return Comparison("battery, 2 RC pairs, one OCV piece", float(np.max(np.abs(res.column("voltage_V") - v_spice))),
                      q_sysim, q_spice, res.summary["wall_time_s"], ref.wall_s)


def pv_direct(window_s: float = HOUR) -> Comparison:
    c, esr = 0.047, 1.0
    data = {"simulation": {"duration": window_s, "record_every": 10.0},
            "storage": {"model": "supercap", "capacitance": c, "esr": esr, "initial_voltage": 0.0},
            "harvester": [{"type": "pv", "name": "pv", "preset": "indoor-asi", "area": "20 cm^2",
                           "diode_drop": "0 V", "light": {"lux": 1000, "source": "led"}}]}
    scenario = sysim.from_dict(data)
    res = sysim.simulate(scenario)
    from sysim.node import build_node

    pv = next(comp for comp in build_node(scenario).components if comp.name == "pv")
    i_l, i_0, r_s, r_sh, a = pv.params.at(0)
    temp_c = float(np.atleast_1d(pv.light.temperature_K)[0]) - 273.15
    net = spice.pv_cell(i_l, i_0, r_s, r_sh, a, temp_c) + "\n" + \
        f"Resr term n0 {esr:.12g}\nC0 n0 0 {c:.12g} ic=0"
    ref = spice.run(net, ["v(term)", "v(n0)"], window_s, 1.0, 1.0)
    t = res.column("time_s")
    v_spice = np.interp(t, ref.time_s, ref.columns["v(term)"])
    node_sysim = res.column("voltage_V")[-1] + res.column("current_A")[-1] * esr
    q_sysim = c * node_sysim
    q_spice = c * ref.columns["v(n0)"][-1]
    return Comparison("indoor a-Si PV wired to a capacitor", float(np.max(np.abs(res.column("voltage_V") - v_spice))),
                      q_sysim, q_spice, res.summary["wall_time_s"], ref.wall_s)


CASES = [supercap_pulsed, battery_two_rc, pv_direct]


def main() -> int:
    print(f"{'circuit':42s} {'max |ΔV|':>11s} {'Δcharge':>9s} {'sysim s':>8s} {'ngspice s':>10s}  ok")
    worst = True
    for case in CASES:
        cmp = case()
        worst &= cmp.ok
        print(f"{cmp.name:42s} {cmp.max_dv_V * 1e3:8.4f} mV {cmp.charge_rel * 100:8.4f}% {cmp.sysim_wall_s:8.3f} "
              f"{cmp.spice_wall_s:10.3f}  {'yes' if cmp.ok else 'NO'}")
    return 0 if worst else 1


if __name__ == "__main__":
    sys.exit(main())
