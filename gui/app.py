"""Start the dashboard: ``sysim gui [SCENARIO.toml]`` or ``gui.app.run_app(path)``."""
from __future__ import annotations

import os
import sys

from PySide6 import QtWidgets

from .main_window import MainWindow


def make_window(path: str | os.PathLike | None = None) -> MainWindow:
    """The main window showing ``path`` (or the bundled default scenario); needs a QApplication.
    Raises ScenarioError when the file cannot be read as TOML; a file that reads but has wrong
    values opens with the errors shown next to their fields."""
    window = MainWindow()
    if path is None:
        window.new_scenario()
    else:
        window.open_file(path)
    return window


def run_app(path: str | os.PathLike | None = None, run: bool = False) -> int:
    """Open the window and run Qt's event loop until it is closed; ``run`` starts the run at once."""
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("sysim")
    window = make_window(path)
    window.show()
    if run:
        window.start_run()
    return app.exec()
