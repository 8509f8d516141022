"""Speed-up of a 200-point sweep on a Dask LocalCluster: 2 worker processes against 1.

    python benchmarks/sweep_speedup.py [--repeats 3] [--points-duration "2 d"]

Both clusters are started first and kept running; the timed runs alternate between them (1, 2, 1,
2, ...) so that a change in the machine's load hits both alike. Each timed run is a complete
`run_sweep` into a fresh output folder (results file, CSV, no plots): submission, the simulations,
result transfer and the appends. Cluster start-up is timed separately. "Workers busy" is the time
spent inside tasks over workers × sweep time: near 100 % means the scheduling, transfers and
appends cost nothing, and any shortfall of the speed-up comes from the cores themselves (a slower
point when two run at once: shared caches, or other jobs on the machine). The target is a ratio of at
least 1.7 on 2 cores; the script prints the load average, because on a machine shared with other
jobs the workers compete for the cores and the ratio says more about the neighbours than about
the sweep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

NODE = """
name = "benchmark node"
[simulation]
duration = "{duration}"
record_every = "1 h"
[storage]
model = "supercap"
capacitance = "40 mF"
esr = "2 ohm"
leakage_resistance = "2 Mohm"
branches = [{{ capacitance = "20 mF", resistance = "5 kohm" }}]
initial_voltage = "2.6 V"
v_min = "1.8 V"
v_max = "3.3 V"
[[harvester]]
type = "current"
name = "light"
current = "0 A"
steps = [{{ at = "8 h", current = "40 uA" }}, {{ at = "18 h", current = "0 A" }}]
[[load]]
type = "periodic"
name = "sensor"
period = "60 s"
base_current = "1.5 uA"
phases = [{{ current = "0.7 mA", duration = "10 ms" }}]
"""

STUDY = """
name = "benchmark: 20 capacitances x 10 periods"
scenario = "node.toml"
[[axis]]
key = "storage.capacitance"
from = "10 mF"
to = "200 mF"
steps = 20
scale = "log"
[[axis]]
key = "load[0].period"
from = "2 s"
to = "60 s"
steps = 10
scale = "log"
"""


def _worker_cpu(client) -> float:
    """CPU seconds (user + system) used so far by all worker processes of ``client``'s cluster."""
    def cpu():
        import psutil

        t = psutil.Process().cpu_times()
        return t.user + t.system
    return sum(client.run(cpu).values())


def _own_cpu() -> float:
    """CPU seconds of this process: the client, and the scheduler of a LocalCluster."""
    t = os.times()
    return t.user + t.system


def main() -> None:
    from sysim.sweep import load_sweep, run_sweep
    from sysim.sweep.execute import local_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--points-duration", default="1 d", help="simulated time per point")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "node.toml").write_text(NODE.format(duration=args.points_duration))
        (folder / "study.toml").write_text(STUDY)
        study = load_sweep(folder / "study.toml")
        assert len(study.points) == 200

        clients, startup = {}, {}
        for workers in (1, 2):
            t0 = time.perf_counter()
            client, cluster = local_cluster(workers)  # the cluster `sysim sweep` starts
            client.run(lambda: __import__("sysim.sweep.worker"))  # imports done before timing
            startup[workers] = time.perf_counter() - t0
            clients[workers] = (client, cluster)

        times: dict[int, list[float]] = {1: [], 2: []}
        per_point: dict[int, list[float]] = {1: [], 2: []}
        busy: dict[int, list[float]] = {1: [], 2: []}
        cpu_workers: dict[int, list[float]] = {1: [], 2: []}
        cpu_client: dict[int, list[float]] = {1: [], 2: []}
        for repeat in range(args.repeats):
            for workers in (1, 2):
                out = folder / f"out-{workers}-{repeat}"
                client = clients[workers][0]
                w0, c0 = _worker_cpu(client), _own_cpu()
                t0 = time.perf_counter()
                outcome = run_sweep(study, out, client=client, plots=False)
                times[workers].append(time.perf_counter() - t0)
                cpu_workers[workers].append(_worker_cpu(client) - w0)
                cpu_client[workers].append(_own_cpu() - c0)
                assert outcome.ran == 200 and not outcome.lost and outcome.errors == 0
                per_point[workers].append(statistics.median(r["wall_s"] for r in outcome.records))
                busy[workers].append(sum(r["wall_s"] for r in outcome.records) / (workers * times[workers][-1]))
                print(f"  run {repeat + 1}, {workers} worker(s): {times[workers][-1]:.2f} s", flush=True)
        for client, cluster in clients.values():
            client.close()
            cluster.close()

    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"200-point sweep, {args.points_duration} per point, {args.repeats} repeats, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"  cluster start-up       1 worker {startup[1]:.2f} s   2 workers {startup[2]:.2f} s")
    print(f"  median point (worker)  1 worker {statistics.median(per_point[1]) * 1e3:.1f} ms   "
          f"2 workers {statistics.median(per_point[2]) * 1e3:.1f} ms")
    print(f"  median sweep           1 worker {one:.2f} s   2 workers {two:.2f} s")
    print(f"  workers busy           1 worker {100 * statistics.median(busy[1]):.1f} %   "
          f"2 workers {100 * statistics.median(busy[2]):.1f} %   (time inside tasks / (workers x sweep time))")
    w2, c2 = statistics.median(cpu_workers[2]), statistics.median(cpu_client[2])
    print(f"  CPU per sweep          workers {statistics.median(cpu_workers[1]):.2f} s / {w2:.2f} s, "
          f"client + scheduler {statistics.median(cpu_client[1]):.2f} s / {c2:.2f} s (1 / 2 workers)")
    print(f"  speed-up (1 worker / 2 workers): {one / two:.2f}x   (target >= 1.7x)")
    # On two otherwise idle cores the 2-worker sweep needs at least (worker CPU + client CPU) / 2 of
    # wall time; the 1-worker sweep needs its worker CPU (its client runs beside it on the other core).
    print(f"  bound on two idle cores from the CPU figures: "
          f"{statistics.median(cpu_workers[1]) / ((w2 + c2) / 2):.2f}x")


if __name__ == "__main__":
    main()
