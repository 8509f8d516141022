"""``sysim gui [SCENARIO.toml] [--run]``: the Qt dashboard (needs the ``gui`` extra)."""
from __future__ import annotations

from pathlib import Path

from sysim.errors import ScenarioError


def add_parser(sub) -> None:
    p = sub.add_parser("gui", help="the dashboard: build a node, run it live, compare runs",
                       description="Open the Qt dashboard with a scenario (the bundled default without a file).")
    p.add_argument("scenario", nargs="?", help="scenario TOML file")
    p.add_argument("--run", action="store_true", help="start the run as soon as the window opens")
    p.set_defaults(handler=main)


def main(args) -> int:
    if args.scenario is not None:
        path = Path(args.scenario)
        if not path.is_file():
            raise ScenarioError(str(path), None, "file not found" if not path.exists() else "not a file")
    try:
        from gui.app import run_app
    except ImportError as exc:
        from sysim.cli import err_console

        err_console.print(f"[bold red]error:[/] the dashboard needs PySide6 and pyqtgraph "
                          f"(pip install 'sysim[gui]'): {exc}")
        return 1
    return run_app(args.scenario, run=args.run)
