"""The component panel: the whole scenario as forms, validated as scenario files are.

Sections follow the scenario file: name and description, ``[simulation]``, ``[storage]``,
``[[harvester]]``, ``[pmic]``, ``[[load]]``, ``[firmware]`` and any top-level table an extension
registers. Every edit re-validates (debounced) with :func:`gui.validation.check`; each message
appears next to the field its key path names, or in the banner on top when it names no field.
"""
from __future__ import annotations

import os

from PySide6 import QtCore, QtWidgets

from sysim.errors import ScenarioError
from sysim.scenario import registry
from sysim.scenario.schema import SimulationTable

from .component_list import ComponentList
from .table_form import TableForm
from .validation import check, split_key

_KNOWN = ("name", "description", "simulation", "storage", "harvester", "pmic", "load", "firmware")


class ComponentPanel(QtWidgets.QScrollArea):
    edited = QtCore.Signal()
    #: (Scenario or None, [ScenarioError]) after each validation
    validated = QtCore.Signal(object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        import sysim.components  # noqa: F401  (fills the registry)

        self.source, self.base_dir = "<gui>", os.getcwd()
        self.scenario = None
        self.errors: list[ScenarioError] = []
        self._unknown_top: dict = {}
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarAlwaysOff)
        body = QtWidgets.QWidget()
        self.setWidget(body)
        layout = QtWidgets.QVBoxLayout(body)
        self.banner = QtWidgets.QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #c0392b; font-weight: bold;")
        self.banner.hide()
        layout.addWidget(self.banner)

        head = QtWidgets.QGroupBox("scenario")
        form = QtWidgets.QFormLayout(head)
        self.name_edit = QtWidgets.QLineEdit()
        self.name_edit.setObjectName("scenario_name")
        self.description_edit = QtWidgets.QPlainTextEdit()
        self.description_edit.setMaximumHeight(60)
        form.addRow("name", self.name_edit)
        form.addRow("description", self.description_edit)
        layout.addWidget(head)

        self.simulation = TableForm("simulation", SimulationTable)
        self.storage = TableForm("storage", registry.STORAGE_MODELS, kind="storage", selector="model")
        self.harvesters = ComponentList("harvester", registry.HARVESTERS)
        self.pmic = TableForm("pmic", registry.PMICS, kind="pmic", selector="model", optional=True)
        self.loads = ComponentList("load", registry.LOADS)
        for title, widget in (("simulation", self.simulation), ("storage", self.storage),
                              ("harvesters", self.harvesters), ("PMIC (none: harvesters wired to the storage)", self.pmic),
                              ("loads", self.loads)):
            layout.addWidget(_section(title, widget))
        self.firmware: TableForm | None = None
        self.optional_tables: dict[str, tuple[QtWidgets.QGroupBox, TableForm]] = {}
        extras = ([("firmware", registry.FIRMWARE_TABLE)] if registry.FIRMWARE_TABLE is not None else []) + \
            sorted(registry.TOP_LEVEL_TABLES.items())
        for key, table in extras:
            form_ = TableForm(key, table)
            box = _section(f"[{key}]", form_, checkable=True)
            box.toggled.connect(lambda _=None: self._changed())
            self.optional_tables[key] = (box, form_)
            layout.addWidget(box)
        if registry.FIRMWARE_TABLE is None:
            layout.addWidget(QtWidgets.QLabel("firmware: the firmware bridge is not installed"))
        layout.addStretch(1)

        self._timer = QtCore.QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.validate)
        for widget in (self.simulation, self.storage, self.harvesters, self.pmic, self.loads,
                       *(f for _, f in self.optional_tables.values())):
            widget.edited.connect(self._changed)
        self.name_edit.textEdited.connect(self._changed)
        self.description_edit.textChanged.connect(self._changed)

    def _changed(self, *_):
        self.edited.emit()
        self._timer.start()

    # --- the scenario dict --------------------------------------------------------------------
    def scenario_data(self) -> dict:
        data: dict = {}
        if self.name_edit.text().strip():
            data["name"] = self.name_edit.text().strip()
        if self.description_edit.toPlainText().strip():
            data["description"] = self.description_edit.toPlainText()
        data["simulation"] = self.simulation.data()
        data["storage"] = self.storage.data()
        if self.harvesters.forms:
            data["harvester"] = self.harvesters.data()
        if not self.pmic.is_empty():
            data["pmic"] = self.pmic.data()
        if self.loads.forms:
            data["load"] = self.loads.data()
        for key, (box, form) in self.optional_tables.items():
            if box.isChecked():
                data[key] = form.data()
        data.update(self._unknown_top)
        return data

    def set_scenario_data(self, data: dict, source: str = "<gui>", base_dir: str | None = None) -> None:
        """Show ``data`` (as parsed from a TOML file) in the forms and validate it at once."""
        self.source, self.base_dir = source, base_dir or os.getcwd()
        self.name_edit.setText(str(data.get("name", "")))
        self.description_edit.blockSignals(True)
        self.description_edit.setPlainText(str(data.get("description", "")))
        self.description_edit.blockSignals(False)
        self.simulation.set_data(_as_table(data.get("simulation")))
        self.storage.set_data(_as_table(data.get("storage")))
        self.harvesters.set_data(_as_list(data.get("harvester")))
        self.pmic.set_data(_as_table(data.get("pmic")))
        self.loads.set_data(_as_list(data.get("load")))
        for key, (box, form) in self.optional_tables.items():
            box.blockSignals(True)
            box.setChecked(key in data)
            box.blockSignals(False)
            form.set_data(_as_table(data.get(key)))
        self._unknown_top = {k: v for k, v in data.items() if k not in _KNOWN and k not in self.optional_tables}
        self.validate()

    # --- validation ---------------------------------------------------------------------------
    def validate(self):
        """Validate now; returns the Scenario or None (errors shown next to their fields)."""
        self._timer.stop()
        self.scenario, self.errors = check(self.scenario_data(), self.source, self.base_dir)
        self.show_errors(self.errors)
        self.validated.emit(self.scenario, self.errors)
        return self.scenario

    def forms(self) -> list[TableForm]:
        return [self.simulation, self.storage, self.pmic, *self.harvesters.forms, *self.loads.forms,
                *(f for _, f in self.optional_tables.values())]

    def show_errors(self, errors: list[ScenarioError]) -> None:
        for form in self.forms():
            form.clear_errors()
        unplaced = []
        for error in errors:
            form, rest = self._form_for(error.key)
            if form is None:
                unplaced.append(error.message)
            else:
                form.show_error(rest, error.reason)
        self.banner.setText("\n".join(unplaced))
        self.banner.setVisible(bool(unplaced))

    def _form_for(self, key: str | None) -> tuple[TableForm | None, str]:
        head, index, rest = split_key(key)
        lists = {"harvester": self.harvesters, "load": self.loads}
        if head in lists and index is not None and index < len(lists[head].forms):
            return lists[head].forms[index], rest
        singles = {"simulation": self.simulation, "storage": self.storage, "pmic": self.pmic,
                   **{k: f for k, (_, f) in self.optional_tables.items()}}
        if head in singles and index is None:
            return singles[head], rest
        return None, ""


def _section(title: str, widget: QtWidgets.QWidget, checkable: bool = False) -> QtWidgets.QGroupBox:
    box = QtWidgets.QGroupBox(title)
    box.setCheckable(checkable)
    if checkable:
        box.setChecked(False)
    QtWidgets.QVBoxLayout(box).addWidget(widget)
    return box


def _as_table(value) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value) -> list:
    if isinstance(value, dict):
        return [value]
    return value if isinstance(value, list) else []
