"""Benchmark: one simulated day of a firmware that wakes every second (86,400 wakes).

Goal (issue 7): ≤ 20 s of wall time under the real MicroPython runner. Prints the median of a few
repeats for each runner (the MicroPython one also with blocking waits only, SYSIM_SPIN_WAIT_US=0,
the reference for what polling for the next line saves: firmware_bridge.channels.SPIN_WAIT_US), and
two baselines that split the cost:

* engine only: the same MCU current pattern (1 ms active, 999 ms light sleep... exactly the
  firmware's) driven by a plain SimPy process inside sysim, no firmware and no protocol;
* protocol only: the raw round trip of one wake over the pipes to a MicroPython process (blocking).

Run: ``python benchmarks/firmware_day.py [--repeats 3]``. Wall time depends on the machine's load.
The CPU-time column (this process plus the interpreter child) counts the polling too: with it, each
end keeps a core busy while the other works.
"""
from __future__ import annotations

import argparse
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import sysim
from firmware_bridge.api import run
from firmware_bridge.channels import SPIN_WAIT_ENV, micropython_command, spin_wait_us
from sysim.api import prepare
from sysim.engine.component import Component
from sysim.engine.draws import load_draw
from sysim.engine.schedule import ConstantSchedule

FIRMWARE = """
import machine
adc = machine.ADC(0)
while True:
    v = adc.read_u16()
    machine.lightsleep(999)
"""
SCENARIO = {
    "simulation": {"duration": "1 d", "record_every": "1 min"},
    "storage": {"model": "supercap", "capacitance": "1 F", "esr": "1 ohm", "initial_voltage": "3 V",
                "v_min": "1.8 V", "v_max": "3.3 V"},
    "harvester": [{"type": "current", "current": "10 uA"}],
    "firmware": {"script": "fw.py", "mcu": "nrf52", "active_time": "1 ms", "adc": {"0": {"divider": 0.5}}},
}


def cpu_now() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def firmware_day(folder: Path, runner: str, spin_wait_us: str | None = None) -> tuple[float, float, int]:
    """One day under ``runner``; ``spin_wait_us``: SYSIM_SPIN_WAIT_US for the run (None: default)."""
    scenario = sysim.from_dict(SCENARIO, source=str(folder / "day.toml"), base_dir=str(folder))
    saved = os.environ.pop(SPIN_WAIT_ENV, None)
    if spin_wait_us is not None:
        os.environ[SPIN_WAIT_ENV] = spin_wait_us
    try:
        wall, cpu = time.perf_counter(), cpu_now()
        result = run(scenario, runner=runner)
        wall, cpu = time.perf_counter() - wall, cpu_now() - cpu
    finally:
        os.environ.pop(SPIN_WAIT_ENV, None)
        if saved is not None:
            os.environ[SPIN_WAIT_ENV] = saved
    assert result.summary["firmware_error"] is None
    return wall, cpu, result.summary["firmware_wakes"]


class Pattern(Component):
    """The firmware's MCU current pattern without the firmware: the engine's share."""

    name, kind = "mcu", "load"

    def __init__(self):
        self.active = ConstantSchedule((load_draw("mcu", 3.4e-3),))
        self.sleep = ConstantSchedule((load_draw("mcu", 2.0e-6),))
        self.now = self.active

    def schedule(self, sim):
        return self.now

    def start(self, sim):
        sim.env.process(self._loop(sim))

    def _loop(self, sim):
        while True:
            self.now = self.active
            sim.voltage()  # the ADC reading
            yield sim.env.timeout(1e-3)
            self.now = self.sleep
            yield sim.env.timeout(0.999)


def engine_day() -> tuple[float, float]:
    data = {k: v for k, v in SCENARIO.items() if k != "firmware"}
    sim = prepare(sysim.from_dict(data))
    sim.components.append(Pattern())
    sim.kinds["mcu"] = "load"
    wall, cpu = time.perf_counter(), time.process_time()
    sim.run()
    return time.perf_counter() - wall, time.process_time() - cpu


def protocol_round_trip_us(n: int = 20000) -> float:
    echo = "import sys\ni=open(int(sys.argv[1]),'rb')\no=open(int(sys.argv[2]),'wb')\n" \
           "while True:\n    l=i.readline()\n    if not l or l==b'Q\\n': break\n    o.write(b'S l 1000000000 -1\\n')\n"
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "echo.py"
        script.write_text(echo)
        to_r, to_w = os.pipe()
        fr_r, fr_w = os.pipe()
        proc = subprocess.Popen(micropython_command() + [str(script), str(to_r), str(fr_w)], pass_fds=(to_r, fr_w))
        os.close(to_r)
        os.close(fr_w)
        t = time.perf_counter()
        for _ in range(n):
            os.write(to_w, b"W 86313686000000 1419433\n")
            select.select([fr_r], [], [], 5)
            os.read(fr_r, 1 << 16)
        dt = time.perf_counter() - t
        os.write(to_w, b"Q\n")
        proc.wait()
    return dt / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "fw.py").write_text(textwrap.dedent(FIRMWARE))
        medians, cpus = {}, {}
        # the MicroPython runner as it runs by default, and with blocking waits only: the
        # reference for what polling for the next line (channels.SPIN_WAIT_US) saves
        for label, runner, spin in (("micropython", "micropython", None),
                                    ("  blocking", "micropython", "0"), ("cpython", "cpython", None)):
            runs = [firmware_day(folder, runner, spin) for _ in range(args.repeats)]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            medians[label], cpus[label] = wall, cpu
            print(f"{label:12s} 1 d, {runs[0][2]:,} wakes: median wall {wall:6.2f} s, CPU {cpu:6.2f} s "
                  f"({wall / runs[0][2] * 1e6:.0f} µs per wake)")
    engine_runs = [engine_day() for _ in range(args.repeats)]
    engine = statistics.median(r[0] for r in engine_runs)
    engine_cpu = statistics.median(r[1] for r in engine_runs)
    rtt = protocol_round_trip_us()
    print(f"{'engine only':12s} same current pattern: median wall {engine:6.2f} s, CPU {engine_cpu:6.2f} s "
          f"({engine_cpu / 86400 * 1e6:.0f} µs CPU per wake)")
    print(f"{'protocol':12s} raw MicroPython round trip: {rtt:.0f} µs per wake ({rtt * 86400 / 1e6:.1f} s per day)")
    mp, mp_cpu = medians["micropython"], cpus["micropython"]
    blocking = medians["  blocking"]
    print(f"goal ≤ 20 s under micropython: {'met' if mp <= 20 else 'NOT met'} ({mp:.2f} s wall, {mp_cpu:.2f} s CPU "
          f"with both ends polling {spin_wait_us()} µs for the next line; {blocking / mp:.2f}× faster than blocking "
          f"waits); of the wall time: engine {engine / mp:.0%}, bridge, interpreter and waits {1 - engine / mp:.0%}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
