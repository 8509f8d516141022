"""The ``sysim`` command. Subcommands live in sysim.commands, one module each.

Exit codes (DESIGN.md): 0 ok, 2 bad input (one line naming file, key and reason), 1 internal error,
130 interrupted (files written so far are complete).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from rich.console import Console
from rich.markup import escape

from .errors import ScenarioError
from .fileio import OutputError

#: subcommand modules in sysim.commands; each has ``add_parser(subparsers)`` and ``main(args)``
COMMANDS = ["run", "presets", "size", "sweep", "eno", "gui", "firmware"]

err_console = Console(stderr=True, highlight=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sysim", description="Simulate self-powered sensor nodes.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"sysim.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sysim.commands.{name}":
                continue  # that capability is not part of this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except ScenarioError as exc:
        err_console.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)
        return 2
    except OutputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/]")
        return 130
    except Exception as exc:  # an internal error: say so plainly
        if args.debug:
            raise
        err_console.print(f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} "
                          f"(run with --debug for the traceback)", soft_wrap=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
