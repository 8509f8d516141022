"""``sysim gui`` on the command line, and the screenshot script under docs/."""
from __future__ import annotations

import argparse
import os
import subprocess
from pathlib import Path

from PySide6 import QtGui, QtWidgets

from sysim.commands import gui as gui_command
from sysim.commands.run import default_scenario_path

ROOT = Path(__file__).resolve().parent.parent


def test_gui_command_is_listed_and_checks_the_file(python_exe, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    listed = subprocess.run([python_exe, "-m", "sysim", "--help"], capture_output=True, text=True, env=env)
    assert "gui" in listed.stdout
    usage = subprocess.run([python_exe, "-m", "sysim", "gui", "--help"], capture_output=True, text=True, env=env)
    assert usage.returncode == 0 and "scenario" in usage.stdout and "--run" in usage.stdout
    missing = tmp_path / "nope.toml"
    bad = subprocess.run([python_exe, "-m", "sysim", "gui", str(missing)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2
    assert f"{missing}: file not found" in bad.stderr


def test_gui_command_opens_the_scenario(qtbot, monkeypatch):
    monkeypatch.setattr(QtWidgets.QApplication, "exec", lambda *args: 0)
    args = argparse.Namespace(scenario=str(default_scenario_path()), run=False)
    assert gui_command.main(args) == 0
    windows = [w for w in QtWidgets.QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow" and w.isVisible()]
    assert windows and windows[-1].path == default_scenario_path()
    assert windows[-1].panel.scenario is not None
    for w in windows:
        w.close()


def test_screenshot_script_shows_a_real_run(python_exe, tmp_path):
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([python_exe, str(ROOT / "docs" / "make_screenshot.py"), str(out)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "brown-out(s) with 80 mF" in done.stdout
    image = QtGui.QImage(str(out))
    assert (image.width(), image.height()) == (1500, 980)
    colours = {image.pixel(x, y) for x in range(0, 1500, 7) for y in range(0, 980, 7)}
    assert len(colours) > 40  # curves, text and widgets, not a blank window
    readme = (ROOT / "README.md").read_text()
    assert "### Dashboard" in readme and "docs/gui-screenshot.png" in readme
    assert (ROOT / "docs" / "gui-screenshot.png").stat().st_size > 50_000
