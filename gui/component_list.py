"""The ``[[harvester]]`` and ``[[load]]`` arrays: a list of table forms with add and remove.

"Add" offers every registered ``type`` and every preset of the kind, so whatever the harvester and
load libraries register appears here without a change to the GUI.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from sysim.scenario import registry

from .table_form import TableForm


class ComponentList(QtWidgets.QWidget):
    edited = QtCore.Signal()

    def __init__(self, key: str, tables: dict[str, type], parent=None):
        super().__init__(parent)
        self.key = key            # "harvester" or "load" (also the preset kind)
        self.tables = tables
        self.forms: list[TableForm] = []
        self._boxes: list[QtWidgets.QGroupBox] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.items = QtWidgets.QVBoxLayout()
        layout.addLayout(self.items)
        self.add_button = QtWidgets.QToolButton()
        self.add_button.setText(f"+ add {key}")
        self.add_button.setObjectName(f"add_{key}")
        self.add_button.setPopupMode(QtWidgets.QToolButton.InstantPopup)
        self.add_button.setMenu(QtWidgets.QMenu(self.add_button))
        self.add_button.menu().aboutToShow.connect(self._fill_menu)
        layout.addWidget(self.add_button)

    def _fill_menu(self) -> None:
        menu = self.add_button.menu()
        menu.clear()
        for name in sorted(self.tables):
            menu.addAction(f"{self.key} type: {name}", lambda n=name: self.add(type_=n))
        presets = sorted(registry.presets(self.key), key=lambda p: p.name)
        if presets:
            menu.addSeparator()
        for preset in presets:
            menu.addAction(f"preset: {preset.name} — {preset.title}", lambda n=preset.name: self.add(preset=n))

    def add(self, type_: str | None = None, preset: str | None = None, data: dict | None = None) -> TableForm:
        """Append a table, as the "add" menu does (``type_`` or ``preset``) or from file data."""
        form = TableForm(f"{self.key}[{len(self.forms)}]", self.tables, kind=self.key, selector="type")
        if data is not None:
            form.set_data(data)
        elif preset is not None:
            form.choose_preset(preset)
        elif type_ is not None:
            form.choose(type_)
        box = QtWidgets.QGroupBox()
        inner = QtWidgets.QVBoxLayout(box)
        remove = QtWidgets.QPushButton(f"remove this {self.key}")
        remove.clicked.connect(lambda: self.remove(self.forms.index(form)))
        inner.addWidget(form)
        inner.addWidget(remove, 0, QtCore.Qt.AlignRight)
        form.edited.connect(self._retitle)
        form.edited.connect(self.edited)
        self.forms.append(form)
        self._boxes.append(box)
        self.items.addWidget(box)
        self._retitle()
        self.edited.emit()
        return form

    def remove(self, index: int) -> None:
        self.forms.pop(index)
        box = self._boxes.pop(index)
        box.setParent(None)
        box.deleteLater()
        for i, f in enumerate(self.forms):
            f.path = f"{self.key}[{i}]"
        self._retitle()
        self.edited.emit()

    def _retitle(self) -> None:
        for i, (form, box) in enumerate(zip(self.forms, self._boxes)):
            data = form.data()
            what = data.get("type") or data.get("preset") or "?"
            name = data.get("name")
            box.setTitle(f"{self.key}[{i}]: {name} ({what})" if name else f"{self.key}[{i}]: {what}")

    def data(self) -> list[dict]:
        return [form.data() for form in self.forms]

    def set_data(self, items: list[dict]) -> None:
        while self.forms:
            self.remove(0)
        for item in items:
            self.add(data=item if isinstance(item, dict) else {})
