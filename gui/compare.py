"""Compare two runs: what differs between their scenarios, and their summaries side by side.

The curves of the reference run are overlaid on the plots (PlotPanel role ``"ref"``); this view
names the scenario keys that differ (``storage.capacitance: 40 mF → 80 mF``), which become the two
runs' labels, and tabulates the summary figures of both with their difference.
"""
from __future__ import annotations

import math

from PySide6 import QtWidgets

from sysim.units import format_duration, format_quantity

from .tomlio import value_to_text

#: summary rows: (key, title, unit or formatter)
ROWS = (("duration_s", "simulated", "duration"), ("final_voltage_V", "final voltage", "V"),
        ("min_voltage_V", "min voltage (exact)", "V"), ("max_voltage_V", "max voltage (exact)", "V"),
        ("brownouts", "brown-outs", "count"), ("first_brownout_s", "first brown-out", "duration"),
        ("uptime_fraction", "uptime", "percent"), ("energy_harvested_J", "energy harvested", "J"),
        ("energy_to_loads_J", "energy to loads", "J"), ("energy_lost_J", "energy lost", "J"),
        ("energy_balance_error_J", "energy balance error", "J"), ("final_soc", "final state of charge", "percent"),
        ("events", "events", "count"), ("wall_time_s", "wall time", "s"))


def flatten(data, prefix: str = "") -> dict[str, object]:
    """``{"storage": {"capacitance": "40 mF"}}`` -> ``{"storage.capacitance": "40 mF"}``."""
    out: dict[str, object] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def differences(a: dict, b: dict) -> list[tuple[str, str, str]]:
    """Keys whose values differ between two scenario dicts: (key, a as text, b as text)."""
    fa, fb = flatten(a), flatten(b)
    out = []
    for key in list(fa) + [k for k in fb if k not in fa]:
        if fa.get(key) != fb.get(key):
            out.append((key, value_to_text(fa.get(key)) or "—", value_to_text(fb.get(key)) or "—"))
    return out


def run_labels(ref: dict, run: dict, limit: int = 2) -> tuple[str, str]:
    """Short labels naming what differs, e.g. ("capacitance 40 mF", "capacitance 80 mF")."""
    diffs = [d for d in differences(ref, run) if d[0] not in ("name", "description")][:limit]
    if not diffs:
        return "reference", "run"
    def short(key: str) -> str:
        return key.rsplit(".", 1)[-1]
    return (", ".join(f"{short(k)} {a}" for k, a, _ in diffs), ", ".join(f"{short(k)} {b}" for k, _, b in diffs))


def format_value(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit == "duration":
        return format_duration(value)
    if unit == "count":
        return f"{int(value):,}"
    if unit == "percent":
        return f"{100.0 * value:.4g} %"
    return format_quantity(float(value), unit, 5)


class CompareView(QtWidgets.QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        self.diff_label = QtWidgets.QLabel("Run a scenario, then “Keep as reference”, change it and run again "
                                           "to overlay the two runs.")
        self.diff_label.setWordWrap(True)
        layout.addWidget(self.diff_label)
        self.table = QtWidgets.QTableWidget(len(ROWS), 3)
        self.table.setHorizontalHeaderLabels(["reference", "run", "difference"])
        self.table.setVerticalHeaderLabels([title for _, title, _ in ROWS])
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Stretch)
        layout.addWidget(self.table)
        self.ledger = QtWidgets.QTableWidget(0, 2)
        self.ledger.setHorizontalHeaderLabels(["ledger account (run)", "energy"])
        self.ledger.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Stretch)
        layout.addWidget(self.ledger)

    def update_runs(self, run: dict | None, ref: dict | None, run_label: str = "run", ref_label: str = "reference",
             diffs: list | None = None, ledger: dict | None = None) -> None:
        self.table.setHorizontalHeaderLabels([ref_label, run_label, "difference"])
        for r, (key, _, unit) in enumerate(ROWS):
            a = (ref or {}).get(key)
            b = (run or {}).get(key)
            delta = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
            if delta is not None and abs(delta) <= 1e-9 * max(abs(a), abs(b)):
                delta = 0  # rounding, not a difference
            cells = (format_value(a, unit) if ref else "", format_value(b, unit) if run else "",
                     format_value(delta, unit) if delta is not None and ref else "")
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        if diffs:
            self.diff_label.setText("differences: " + "; ".join(f"{k}: {a} → {b}" for k, a, b in diffs))
        elif ref is not None:
            self.diff_label.setText("the two scenarios are the same")
        self.ledger.setRowCount(0)
        for account, energy in sorted((ledger or {}).items()):
            r = self.ledger.rowCount()
            self.ledger.insertRow(r)
            self.ledger.setItem(r, 0, QtWidgets.QTableWidgetItem(account))
            self.ledger.setItem(r, 1, QtWidgets.QTableWidgetItem(format_quantity(energy, "J", 6)))
