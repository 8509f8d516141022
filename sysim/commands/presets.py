"""``sysim presets [NAME]``: the preset library, each entry with its source figure."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from sysim.errors import ScenarioError

console = Console(highlight=False)


def add_parser(sub) -> None:
    p = sub.add_parser("presets", help="list the preset library with sources")
    p.add_argument("name", nargs="?", help="show one preset in full")
    p.add_argument("--kind", choices=["storage", "harvester", "pmic", "load", "mcu"], help="only this library")
    p.set_defaults(handler=main)


def main(args) -> int:
    import sysim.components  # noqa: F401
    from sysim.scenario.registry import PRESETS, presets

    if args.name:
        preset = PRESETS.get(args.name)
        if preset is None:
            raise ScenarioError(None, "presets", f"unknown preset {args.name!r}")
        console.print(f"[bold]{preset.name}[/] ({preset.kind}): {preset.title}")
        console.print(f"[cyan]source:[/] {preset.source}")
        if preset.notes:
            console.print(f"[cyan]notes:[/] {preset.notes}")
        if not preset.verified:
            console.print("[yellow]contains figures marked unverified in the reference[/]")
        table = Table("key", "value", box=None)
        for key, value in preset.values.items():
            table.add_row(key, str(value))
        console.print(table)
        if preset.figures:
            console.print("[cyan]published figures it reproduces:[/]")
            for key, value in preset.figures.items():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    console.print(f"  {key}:")
                    for item in value:  # one published figure per line
                        console.print("    " + ", ".join(f"{k} = {v}" for k, v in item.items()))
                else:
                    console.print(f"  {key}: {value}")
        return 0
    items = presets(args.kind)
    table = Table("name", "kind", "what", "source", title=f"{len(items)} presets")
    for p in sorted(items, key=lambda p: (p.kind, p.name)):
        table.add_row(p.name, p.kind, p.title + ("" if p.verified else " [yellow](unverified)[/]"), p.source)
    console.print(table)
    return 0
