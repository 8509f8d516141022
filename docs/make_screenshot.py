"""Write docs/gui-screenshot.png: the dashboard after real runs of the bundled default scenario.

It opens the default scenario, runs it, keeps that run as the reference, doubles the capacitance
(40 mF -> 80 mF), runs again, and saves a picture of the main window with the two runs overlaid.

    python docs/make_screenshot.py [OUT.png]

Runs offscreen when there is no display (QT_QPA_PLATFORM=offscreen).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out: Path) -> Path:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore, QtWidgets

    from gui.app import make_window

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = make_window(None)
    window.resize(1500, 980)
    window.show()

    def run() -> None:
        loop = QtCore.QEventLoop()
        window.run_finished.connect(loop.quit)
        window.run_failed.connect(lambda error: (print(error, file=sys.stderr), loop.exit(1)))
        if not window.start_run(speed=None):
            raise SystemExit("the default scenario did not validate: " + "; ".join(e.message for e in window.panel.errors))
        if loop.exec() != 0:
            raise SystemExit("the run failed")
        window.run_finished.disconnect(loop.quit)

    run()
    window.keep_reference()
    window.panel.storage.editor("capacitance").set_text("80 mF")
    run()
    window.plots.auto_range()
    for _ in range(20):  # let the last redraws and layouts settle
        app.processEvents()
        QtCore.QThread.msleep(20)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        raise SystemExit(f"cannot write {out}")
    summary = window.result.summary
    print(f"wrote {out}: {summary['brownouts']} brown-out(s) with 80 mF, "
          f"{window.ref_summary['brownouts']} with 40 mF")
    window.close()
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "gui-screenshot.png")
