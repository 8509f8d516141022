"""The sysim dashboard (PySide6 + pyqtgraph): build a node, run it live, compare runs.

``sysim gui [SCENARIO.toml]`` opens it; :func:`gui.app.run_app` does the same from Python. The GUI
knows no physics: it edits scenario dicts, validates them with the scenario loader, runs them with
:func:`sysim.api.prepare` on a worker thread, and plots the trace the engine records.
"""
