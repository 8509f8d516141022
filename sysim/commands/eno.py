"""``sysim eno SCENARIO.toml``: energy-neutral-operation report: per day harvested against consumed,
and days of autonomy from a full store without harvest. Writes DIR/eno.json, DIR/eno.csv, DIR/eno.png."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from sysim.units import format_quantity

from .run import _time_option

console = Console(highlight=False)
MAX_ROWS_SHOWN = 31


def add_parser(sub) -> None:
    p = sub.add_parser("eno", help="energy-neutral operation: per-day energy and days of autonomy",
                       description="Run a scenario with a per-day energy meter (harvested, to loads, lost, from the "
                                   "exact ledger at each 24 h boundary) and a second run from a full store with "
                                   "every harvester removed, until the first brown-out (days of autonomy).")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--duration", metavar="D", help='override simulation.duration, e.g. "30 d"')
    p.add_argument("--autonomy-limit", metavar="D", default="365 d",
                   help='longest no-harvest run for the days of autonomy (default "365 d")')
    p.add_argument("--no-autonomy", action="store_true", help="skip the days-of-autonomy run")
    p.add_argument("--out", metavar="DIR", help="output folder (default: sysim-out/<scenario name>)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(handler=main)


def main(args) -> int:
    from sysim.eno import energy_neutrality
    from sysim.eno.plot import render_eno
    from sysim.fileio import ensure_dir, write_text
    from sysim.scenario.loader import load

    duration = _time_option(args.duration, "--duration")
    limit = _time_option(args.autonomy_limit, "--autonomy-limit")
    path = Path(args.scenario)
    scenario = load(path)
    out = ensure_dir(Path(args.out) if args.out else Path("sysim-out") / path.stem)
    if not args.quiet:
        console.print(f"energy-neutrality report for {scenario.name}", soft_wrap=True)
    report = energy_neutrality(scenario, duration=duration, autonomy=not args.no_autonomy, autonomy_limit_s=limit)
    paths = [out / "eno.json", out / "eno.csv", out / "eno.png"]
    write_text(paths[0], json.dumps(_jsonable(report.to_dict()), indent=2, allow_nan=False) + "\n")
    write_text(paths[1], to_csv(report))
    render_eno(report, paths[2])
    if not args.quiet:
        print_report(report)
        console.print("wrote " + ", ".join(str(p) for p in paths), soft_wrap=True)
    return 0


def to_csv(report) -> str:
    buffer = io.StringIO()
    rows = [d.to_dict() for d in report.days]
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else (f"{v:.12g}" if isinstance(v, float) else v)) for k, v in row.items()})
    return buffer.getvalue()


def print_report(report) -> None:
    table = Table(title=f"[bold]{report.scenario}[/]: energy per day", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("day", "harvested", "to loads", "lost", "net", "ratio", "V at end", "brown-outs"):
        table.add_column(name, justify="right", no_wrap=True)
    days = report.days
    shown = days if len(days) <= MAX_ROWS_SHOWN else sorted(days, key=lambda d: d.net_J)[:10]
    for d in sorted(shown, key=lambda d: d.day):
        label = str(d.day) if d.complete else f"{d.day} ({(d.end_s - d.start_s) / 3600:.3g} h)"
        net = format_quantity(d.net_J, "J", 3)
        table.add_row(label, format_quantity(d.harvested_J, "J", 3), format_quantity(d.to_loads_J, "J", 3),
                      format_quantity(d.lost_J, "J", 3), f"[red]{net}[/]" if d.deficit else f"[green]{net}[/]",
                      f"{d.ratio:.3g}", f"{d.voltage_end_V:.4g} V", str(d.brownouts))
    console.print(table)
    console.print("ratio = harvested / consumed, consumed = to loads + lost", style="dim")
    if len(days) > MAX_ROWS_SHOWN:
        console.print(f"(the 10 worst of {len(days)} days; all of them are in eno.csv)")
    from sysim.eno.plot import headline

    console.print(headline(report), soft_wrap=True)
    a = report.autonomy
    if a is not None and a.days is not None:
        console.print(f"days of autonomy: [bold]{a.days:.4g} d[/] (no harvest, from full: {a.full_means})", soft_wrap=True)
    elif a is not None and not a.note:
        console.print(f"days of autonomy: more than {a.limit_days:g} d (no brown-out within --autonomy-limit)")


def _jsonable(value):
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
