"""One command for the issue-6 benchmark table: ``python benchmarks/run.py [--repeats 3] [--quick]``.

For each scenario it prints the median sysim wall time (each repeat in a fresh process, so the
peak memory is that run's), the wall time ngspice takes for one simulated hour of the same
storage and pulsed load, that figure extrapolated to the scenario's span, the ratio, and the peak
resident memory. Rows:

* ``year, hourly weather``: BLE every 1 s, two-branch supercap with leakage, 20 cm² c-Si cell on
  pvlib's TMY3 year through a BQ25570 (benchmarks/scenarios.py), recorded daily.
* ``year, 1-min irradiance``: the same with 525,600 one-minute light segments.
* ``year, hourly, recorded every minute``: the memory case (525,600 trace rows kept in memory).
* ``event path, 1 day``: event-by-event stepping (no fast-forward) of the same storage under the
  BLE pulses: the events-per-second figure.

``--quick`` runs only the hourly year and the event path once (a few seconds).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ngspice_ref as spice  # noqa: E402

YEAR_S = 365 * 86400.0

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    sys.path.insert(0, {here!r})
    import scenarios, sysim
    kind, folder = sys.argv[1], sys.argv[2]
    data = {{"hourly": lambda: scenarios.year_hourly(),
             "minute": lambda: scenarios.year_minute(folder),
             "memory": lambda: scenarios.year_hourly(record_every="1 min"),
             "events": lambda: scenarios.event_stepping()}}[kind]()
    scenario = sysim.from_dict(data)
    start = time.perf_counter()
    result = sysim.simulate(scenario)
    wall = time.perf_counter() - start
    s = result.summary
    print(json.dumps({{"wall_s": wall, "events": s["events"], "stepped": s["events_stepped"],
                      "rows": len(result.rows), "duration_s": s["duration_s"],
                      "balance": s["energy_balance_relative"],
                      "peak_MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
""")


def run_child(kind: str, folder: str) -> dict:
    code = CHILD.format(here=str(HERE))
    proc = subprocess.run([sys.executable, "-c", code, kind, folder], capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def spice_hour() -> float:
    """ngspice wall time for one simulated hour of the benchmark storage under the BLE pulses."""
    import scenarios

    st = scenarios.NODE["storage"]
    net = spice.supercap(0.5, 0.47, 5e5, [(0.2, 50.0)], 3.0) + "\n" + spice.pulse(
        "Iload", "term", "0", 2e-6, [(3e-3, 0.3e-3), (5.3e-3, 1.2e-3), (3e-3, 0.5e-3)], 1.0, delay_s=0.5)
    assert st["capacitance"] == "0.47 F"  # keep the netlist in step with the scenario
    return spice.run(net, ["v(term)"], 3600.0, 10e-3, 10e-3).wall_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = [("year, hourly weather", "hourly"), ("event path, 1 day", "events")] if args.quick else [
        ("year, hourly weather", "hourly"), ("year, 1-min irradiance", "minute"),
        ("year, hourly, recorded every minute", "memory"), ("event path, 1 day", "events")]
    repeats = 1 if args.quick else args.repeats
    spice_s = spice_hour()
    print(f"ngspice: {spice_s:.2f} s per simulated hour of the storage under 1 s BLE pulses")
    header = f"{'scenario':38s} {'sysim median':>13s} {'ngspice 1 h':>12s} {'ngspice span':>13s} {'ratio':>8s} " \
             f"{'peak MB':>8s} {'events':>13s} {'ev/s (stepped)':>15s}"
    print(header)
    with tempfile.TemporaryDirectory(prefix="sysim-bench-") as folder:
        for label, kind in rows:
            results = [run_child(kind, folder) for _ in range(repeats)]
            wall = statistics.median(r["wall_s"] for r in results)
            last = results[-1]
            span_h = last["duration_s"] / 3600.0
            spice_span = spice_s * span_h
            rate = last["stepped"] / wall
            print(f"{label:38s} {wall:11.2f} s {spice_s:10.2f} s {spice_span / 3600:10.2f} h {spice_span / wall:8.0f} "
                  f"{max(r['peak_MB'] for r in results):8.0f} {last['events']:13,d} {rate:15,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
