"""``sysim run [SCENARIO.toml] [--out DIR] [--duration D]``: run a scenario and write its files."""
from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sysim.errors import ScenarioError
from sysim.units import UnitError, format_quantity, parse_quantity

from sysim.units import format_duration as _duration

from .progress import LazyProgress

console = Console(highlight=False)


def default_scenario_path() -> Path:
    return Path(str(resources.files("sysim") / "data" / "default.toml"))


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run a scenario (the bundled default without a file)",
                       description="Run a scenario and write summary.json, trace.csv and report.png.")
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the bundled default scenario)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: sysim-out/<scenario name>)")
    p.add_argument("--duration", metavar="D", help='override simulation.duration, e.g. "3 d"')
    p.add_argument("--record-every", metavar="D", help='override simulation.record_every, e.g. "10 min"')
    p.add_argument("--method", choices=["auto", "event", "fast-forward"], help="override simulation.method")
    p.add_argument("--stream", action="store_true", help="stream the trace to disk while running (flat memory)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=main)


def _time_option(value, option) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_quantity(value, "time")
    except UnitError as exc:
        raise ScenarioError(None, option, str(exc)) from None
    if not seconds > 0:
        raise ScenarioError(None, option, "must be positive")
    return seconds


def main(args) -> int:
    from sysim.api import simulate
    from sysim.fileio import ensure_dir
    from sysim.scenario.loader import load

    path = Path(args.scenario) if args.scenario else default_scenario_path()
    duration = _time_option(args.duration, "--duration")
    record_every = _time_option(args.record_every, "--record-every")
    scenario = load(path)
    out = Path(args.out) if args.out else Path("sysim-out") / path.stem
    ensure_dir(out)  # fail before a long run, not after
    progress = LazyProgress(f"simulating {scenario.name}", console, enabled=not args.quiet)
    stream_to = str(out / "trace.csv") if args.stream else None
    firmware_start_errors: tuple = ()
    if scenario.firmware is not None:  # the bridge is installed: it registered the [firmware] table
        from firmware_bridge.channels import ChannelError
        from firmware_bridge.protocol import ProtocolError

        firmware_start_errors = (ChannelError, ProtocolError)
    try:
        result = simulate(scenario, duration=duration, record_every=record_every, progress=progress,
                          stream_trace_to=stream_to, method=args.method)
    except firmware_start_errors as exc:  # as `sysim firmware run`: no interpreter, port gone, no hello
        from sysim.cli import err_console

        err_console.print(f"[bold red]firmware error:[/] {escape(f'{scenario.source}: firmware: {exc}')}",
                          soft_wrap=True)
        return 1
    finally:
        progress.close()
    paths = result.save(out)
    if not args.quiet:
        print_summary(result, paths)
    if result.summary.get("firmware_error"):  # as `sysim firmware run`: the firmware stopped, not Ctrl-C
        from sysim.cli import err_console

        err_console.print(f"[bold red]firmware error:[/] {escape(result.summary['firmware_error'])} "
                          "(the files hold the part that ran)", soft_wrap=True)
        return 1
    return 130 if result.summary.get("interrupted") else 0


def print_summary(result, paths: dict | None = None) -> None:
    s = result.summary
    table = Table(title=f"[bold]{s.get('scenario', 'run')}[/]", show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan")
    table.add_column(justify="right")

    def v(key, unit, digits=5):
        value = s.get(key)
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return format_quantity(value, unit, digits)

    table.add_row("simulated", _duration(s["duration_s"]))
    table.add_row("final voltage", v("final_voltage_V", "V"))
    table.add_row("min / max voltage", f"{v('min_voltage_V', 'V')} / {v('max_voltage_V', 'V')}")
    table.add_row("energy harvested", v("energy_harvested_J", "J"))
    table.add_row("energy to loads", v("energy_to_loads_J", "J"))
    table.add_row("energy lost", v("energy_lost_J", "J"))
    table.add_row("energy balance error", f"{s['energy_balance_error_J']:.2e} J ({s['energy_balance_relative']:.1e} of throughput)")
    first = s.get("first_brownout_s")
    table.add_row("brown-outs", f"{s['brownouts']}" + (f" (first after {_duration(first)})" if first is not None else ""))
    table.add_row("uptime", f"{100 * s['uptime_fraction']:.4g} %")
    table.add_row("events", f"{s['events']:,}")
    table.add_row("wall time", f"{s['wall_time_s']:.3g} s")
    console.print(table)
    if s.get("interrupted"):
        console.print("[yellow]interrupted: the files hold the part that finished[/]")
    if paths:
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))


