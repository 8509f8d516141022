"""``sysim size SCENARIO.toml --vary KEY --range "LOW..HIGH" --goal GOAL``: the smallest value of one
parameter that meets a goal, with its margin curve (DIR/size.png) and the runs behind it (DIR/size.json)."""
from __future__ import annotations

import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sysim.errors import ScenarioError
from sysim.units import format_duration, parse_quantity, UnitError

from .run import _time_option

console = Console(highlight=False)


def add_parser(sub) -> None:
    p = sub.add_parser("size", help="smallest storage or harvester parameter that meets a goal",
                       description="Find the smallest value of a scenario parameter that meets a goal: a coarse "
                                   "grid checks that the goal is monotone in the parameter, then bisection "
                                   "narrows the answer to the tolerance. Writes DIR/size.png (margin curve) "
                                   "and DIR/size.json.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--vary", required=True, metavar="KEY",
                   help="dotted scenario key, e.g. storage.capacitance, storage.parallel, harvester[0].area")
    p.add_argument("--range", required=True, metavar="LOW..HIGH", dest="value_range",
                   help='search range with units, e.g. "1 mF..1 F" (whole numbers for counts: "1..16")')
    p.add_argument("--goal", default="no-brownout",
                   help='no-brownout (default), margin:<V> e.g. "margin:0.2V", uptime:<%%> e.g. "uptime:99%%"')
    p.add_argument("--tolerance", default="0.1%",
                   help="relative width of the final bracket (default 0.1%%); integer keys are exact")
    p.add_argument("--grid", type=int, default=7, metavar="N", help="points of the coarse monotonicity grid (default 7)")
    p.add_argument("--duration", metavar="D", help='override simulation.duration, e.g. "7 d"')
    p.add_argument("--out", metavar="DIR", help="output folder (default: sysim-out/<scenario name>)")
    p.add_argument("--quiet", action="store_true", help="print only the answer")
    p.set_defaults(handler=main)


def main(args) -> int:
    from sysim.fileio import ensure_dir, write_text
    from sysim.scenario.loader import load
    from sysim.sizing import size
    from sysim.sizing.plot import render_margin_curve

    tolerance = _tolerance(args.tolerance)
    if not 3 <= args.grid <= 200:
        raise ScenarioError(None, "--grid", f"must be between 3 and 200, got {args.grid}")
    duration = _time_option(args.duration, "--duration")
    path = Path(args.scenario)
    scenario = load(path)
    out = ensure_dir(Path(args.out) if args.out else Path("sysim-out") / path.stem)

    from sysim.sizing.parameter import parse_range

    parameter = parse_range(args.value_range, args.vary, scenario)

    def report(e, i, n):
        if args.quiet:
            return
        where = f"grid {i + 1}/{n}" if n else "bisection"
        verdict = "[green]meets[/]" if e.met else "[red]fails[/]"
        console.print(f"  {where:>10}  {args.vary} = {parameter.display(e.x):<14} {verdict}  {_why(e)}", soft_wrap=True)

    if not args.quiet:
        console.print(f"sizing [bold]{args.vary}[/] in {args.value_range} for goal [bold]{args.goal}[/] "
                      f"on {scenario.name}", soft_wrap=True)
    result = size(scenario, args.vary, parameter, args.goal, tolerance=tolerance, grid_points=args.grid,
                  duration=duration, report=report)
    png, js = out / "size.png", out / "size.json"
    render_margin_curve(result, png)
    write_text(js, json.dumps(to_dict(result, args.value_range), indent=2, allow_nan=False) + "\n")
    p = result.parameter
    if result.status == "met-nowhere":
        high = max(result.grid, key=lambda e: e.x)
        raise ScenarioError(None, "--range", f"no value in {args.value_range} meets {result.goal.text} "
                            f"(at {p.display(high.x)}: {_why(high)}); widen the range (see {png})")
    if result.status == "not-monotone":
        pattern = ", ".join(f"{p.display(e.x)} {'meets' if e.met else 'fails'}" for e in sorted(result.grid, key=lambda e: e.x))
        raise ScenarioError(None, "--vary", f"{result.goal.text} is not monotone in {p.key} over the range ({pattern}); "
                            f"narrow the range (see {png})")
    print_answer(result, [png, js])
    return 0


def _why(e) -> str:
    s = e.summary
    parts = []
    if e.voltage_margin_V is not None:
        margin = e.voltage_margin_V if abs(e.voltage_margin_V) > 1e-12 else 0.0  # rounding noise at the threshold
        parts.append(f"margin {margin:+.4g} V")
    if e.complete:
        parts.append(f"uptime {100 * s['uptime_fraction']:.4g} %")
    if s.get("first_brownout_s") is not None:
        parts.append(f"first brown-out after {format_duration(s['first_brownout_s'])}")
    if not e.complete:
        parts.append("run stopped there")
    return ", ".join(parts)


def print_answer(result, paths) -> None:
    p, e = result.parameter, result.answer_evaluation
    word = "smallest" if result.direction == "smallest" else "largest"
    table = Table(title=f"[bold]{result.scenario_name}[/]", show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan")
    table.add_column(justify="right")
    table.add_row("goal", f"{result.goal.text} ({result.goal.describes})")
    table.add_row(f"{word} {p.key}", f"[bold]{p.display(result.answer, 6)}[/]")
    if result.failing is not None:
        span = "exact (whole numbers)" if p.integer else f"{100 * result.tolerance:g} % (relative)"
        table.add_row("fails at", f"{p.display(result.failing, 6)}  (bracket {span})")
    if e.voltage_margin_V is not None:
        table.add_row("voltage margin", f"{e.voltage_margin_V:.4g} V (min {e.summary['min_voltage_V']:.5g} V)")
    table.add_row("uptime", f"{100 * e.summary['uptime_fraction']:.5g} %")
    table.add_row("runs", f"{len(result.evaluations)} ({len(result.grid)} on the grid)")
    console.print(table)
    if result.status == "met-everywhere":
        console.print(f"[yellow]warning:[/] the goal is already met at LOW ({p.display(p.low)}); "
                      f"the smallest value may lie below the range")
    console.print("wrote " + ", ".join(str(x) for x in paths))


def _tolerance(text: str) -> float:
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else parse_quantity(raw, "dimensionless")
    except (ValueError, UnitError):
        raise ScenarioError(None, "--tolerance", f"expected a fraction or a percentage such as 0.1%, got {text!r}") from None
    if not 0 < value < 0.5 or not math.isfinite(value):
        raise ScenarioError(None, "--tolerance", f"must be between 0 and 50 %, got {text!r}")
    return value


def to_dict(result, value_range: str) -> dict:
    p = result.parameter

    def ev(e):
        s = e.summary
        return {"value": e.x, "display": p.display(e.x, 8), "met": e.met, "stage": e.stage, "complete": e.complete,
                "voltage_margin_V": e.voltage_margin_V, "min_voltage_V": s["min_voltage_V"],
                "uptime_fraction": s["uptime_fraction"], "brownouts": s["brownouts"],
                "first_brownout_s": s.get("first_brownout_s"), "duration_s": s["duration_s"]}

    answer = result.answer_evaluation
    return {"scenario": result.scenario_name, "key": p.key, "range": value_range, "unit": p.unit,
            "integer": p.integer, "goal": result.goal.text, "status": result.status, "direction": result.direction,
            "answer": result.answer, "answer_display": p.display(result.answer, 8) if result.answer is not None else None,
            "failing": result.failing, "tolerance": result.tolerance,
            "voltage_margin_V": answer.voltage_margin_V if answer else None,
            "uptime_fraction": answer.summary["uptime_fraction"] if answer else None,
            "evaluations": [ev(e) for e in result.evaluations]}
