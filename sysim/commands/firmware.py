"""``sysim firmware run SCENARIO.toml [--runner micropython]``: firmware in the loop."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape

from sysim.units import format_duration

from .progress import LazyProgress
from .run import _time_option, print_summary

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def add_parser(sub) -> None:
    p = sub.add_parser("firmware", help="run MicroPython power-management firmware against the simulated node",
                       description="Firmware in the loop (the scenario's [firmware] table).")
    fsub = p.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)
    r = fsub.add_parser("run", help="run the scenario with its firmware",
                        description="Run the scenario with its firmware; writes summary.json, trace.csv, "
                                    "report.png and firmware_events.csv.")
    r.add_argument("scenario", help="scenario TOML file with a [firmware] table")
    r.add_argument("--runner", help='override firmware.runner: "cpython", "micropython" or "serial:PORT"')
    r.add_argument("--out", metavar="DIR", help="output folder (default: sysim-out/<scenario name>)")
    r.add_argument("--duration", metavar="D", help='override simulation.duration, e.g. "1 d"')
    r.add_argument("--record-every", metavar="D", help='override simulation.record_every')
    r.add_argument("--quiet", action="store_true", help="print nothing but errors")
    r.set_defaults(handler=main)


def main(args) -> int:
    from firmware_bridge.api import FirmwareStartError, run
    from sysim.fileio import ensure_dir
    from sysim.scenario.loader import load

    path = Path(args.scenario)
    duration = _time_option(args.duration, "--duration")
    record_every = _time_option(args.record_every, "--record-every")
    scenario = load(path)
    if args.runner:
        scenario = scenario.with_changes({"firmware.runner": args.runner}) if scenario.firmware else scenario
    out = Path(args.out) if args.out else Path("sysim-out") / path.stem
    ensure_dir(out)
    progress = LazyProgress(f"firmware {scenario.name}", console, enabled=not args.quiet)
    try:
        fw_run = run(scenario, duration=duration, record_every=record_every, progress=progress)
    except FirmwareStartError as exc:
        err_console.print(f"[bold red]firmware error:[/] {escape(str(exc))}", soft_wrap=True)
        return 1
    finally:
        progress.close()
    paths = fw_run.result.save(out)
    paths["firmware_events"] = fw_run.write_events(out / "firmware_events.csv")
    s = fw_run.summary
    if not args.quiet:
        print_summary(fw_run.result)
        console.print(f"firmware ({s['firmware_runner']}): {s['firmware_boots']} boots, {s['firmware_wakes']:,} wakes, "
                      f"{s['firmware_exceptions']} exceptions, {s['firmware_watchdog_resets']} watchdog resets; "
                      f"MCU active {format_duration(s['mcu_active_s'])}, asleep "
                      f"{format_duration(s['mcu_sleep_s'] + s['mcu_deepsleep_s'])}")
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    if s.get("firmware_error"):
        err_console.print(f"[bold red]firmware error:[/] {escape(s['firmware_error'])} "
                          f"(the files hold the part that ran)", soft_wrap=True)
        return 1
    return 130 if s.get("interrupted") else 0
