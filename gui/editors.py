"""One editor widget per kind of scenario key (schema_info.FieldSpec.kind).

Every editor shows the key's unit, its default or preset value as grey placeholder text, and the
validator's message in red underneath when the value is wrong. ``value()`` is the TOML value the
user means, or ``MISSING`` when the field is empty (the preset or the default applies). Text a user
has not touched gives back exactly the value it was loaded from.
"""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from .schema_info import FieldSpec
from .tomlio import MISSING, text_to_value, value_to_text

_ERROR_STYLE = "color: #c0392b;"


class FieldEditor(QtWidgets.QWidget):
    """Base: a row with the input, the unit, and an error line below."""

    edited = QtCore.Signal()

    def __init__(self, spec: FieldSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        self.row = QtWidgets.QHBoxLayout()
        self.row.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.row)
        self.error_label = QtWidgets.QLabel()
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        outer.addWidget(self.error_label)
        if spec.doc:
            self.setToolTip(spec.doc)

    def value(self) -> Any:
        raise NotImplementedError  # pragma: no cover - abstract

    def set_value(self, value: Any) -> None:
        raise NotImplementedError  # pragma: no cover - abstract

    def set_hint(self, text: str) -> None:
        """Grey text shown while the field is empty (the default or the preset's value)."""

    def set_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    @property
    def error(self) -> str:
        """The message shown under the field ('' when the value is fine)."""
        return self.error_label.text()


class LineEditor(FieldEditor):
    """Quantities, numbers, text, file names and any other value as inline TOML."""

    def __init__(self, spec: FieldSpec, parent=None):
        super().__init__(spec, parent)
        self.line = QtWidgets.QLineEdit()
        self.line.setObjectName(f"field_{spec.key}")
        self.row.addWidget(self.line, 1)
        if spec.kind == "quantity":
            unit = QtWidgets.QLabel(spec.unit or spec.dimension or "")
            unit.setMinimumWidth(28)
            unit.setToolTip(f"{spec.dimension}: a number in {spec.unit or 'SI units'} or a string with "
                            f"any unit of that dimension, e.g. 10 m{spec.unit}")
            self.row.addWidget(unit)
        if spec.kind == "file":
            browse = QtWidgets.QToolButton()
            browse.setText("…")
            browse.clicked.connect(self._browse)
            self.row.addWidget(browse)
        self._loaded: Any = MISSING
        self._loaded_text = ""
        self.line.textEdited.connect(lambda _: self.edited.emit())

    def value(self) -> Any:
        text = self.line.text()
        if text == self._loaded_text and self._loaded is not MISSING:
            return self._loaded
        return text_to_value(text, self.spec.kind)

    def set_value(self, value: Any) -> None:
        self._loaded = value
        self._loaded_text = value_to_text(value)
        self.line.setText(self._loaded_text)

    def set_hint(self, text: str) -> None:
        self.line.setPlaceholderText(text)

    def set_text(self, text: str) -> None:
        """Type ``text`` as a user would (tests, scripts)."""
        self.line.setText(text)
        self.edited.emit()

    def _browse(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, f"choose {self.spec.key}")
        if path:
            self.set_text(path)


class ChoiceEditor(FieldEditor):
    """Literal choices and booleans; the first entry means 'not given'."""

    def __init__(self, spec: FieldSpec, parent=None):
        super().__init__(spec, parent)
        self.combo = QtWidgets.QComboBox()
        self.combo.setObjectName(f"field_{spec.key}")
        self.choices = [True, False] if spec.kind == "bool" else list(spec.choices)
        self.combo.addItem("")
        for choice in self.choices:
            self.combo.addItem(value_to_text(choice) if not isinstance(choice, str) else choice)
        self.row.addWidget(self.combo, 1)
        self._other: Any = MISSING  # a loaded value that is not one of the choices
        self.combo.activated.connect(lambda _: self.edited.emit())

    def value(self) -> Any:
        index = self.combo.currentIndex()
        if index <= 0:
            return MISSING
        if index > len(self.choices):
            return self._other
        return self.choices[index - 1]

    def set_value(self, value: Any) -> None:
        if self.combo.count() > len(self.choices) + 1:
            self.combo.removeItem(self.combo.count() - 1)
        if value is MISSING:
            self.combo.setCurrentIndex(0)
        elif value in self.choices and type(value) in {type(c) for c in self.choices}:
            self.combo.setCurrentIndex(self.choices.index(value) + 1)
        else:  # keep what the file says; the validator explains why it is wrong
            self._other = value
            self.combo.addItem(value_to_text(value))
            self.combo.setCurrentIndex(self.combo.count() - 1)

    def set_hint(self, text: str) -> None:
        self.combo.setItemText(0, f"({text})" if text else "")

    def choose(self, value: Any) -> None:
        self.set_value(value)
        self.edited.emit()


class RowsEditor(FieldEditor):
    """An array of sub-tables (``branches``, ``phases``) or of tuples (``ocv``) as a grid."""

    def __init__(self, spec: FieldSpec, parent=None):
        super().__init__(spec, parent)
        box = QtWidgets.QVBoxLayout()
        self.grid = QtWidgets.QTableWidget(0, len(spec.columns))
        self.grid.setObjectName(f"field_{spec.key}")
        headers = [_column_title(c, spec.row_tables) for c in spec.columns]
        self.grid.setHorizontalHeaderLabels(headers)
        self.grid.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.Stretch)
        self.grid.verticalHeader().setDefaultSectionSize(22)
        self.grid.setMinimumHeight(70)
        self.grid.setMaximumHeight(150)
        box.addWidget(self.grid)
        buttons = QtWidgets.QHBoxLayout()
        add, remove = QtWidgets.QPushButton("+ row"), QtWidgets.QPushButton("− row")
        add.clicked.connect(lambda: self.add_row())
        remove.clicked.connect(self._remove_row)
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        box.addLayout(buttons)
        self.row.addLayout(box, 1)
        self._given = False  # the key is present (possibly as an empty array)
        self.grid.itemChanged.connect(lambda _: self.edited.emit())

    def add_row(self, values: list[str] | None = None) -> None:
        self._given = True
        self.grid.blockSignals(True)
        r = self.grid.rowCount()
        self.grid.insertRow(r)
        for c in range(len(self.spec.columns)):
            text = values[c] if values and c < len(values) else ""
            self.grid.setItem(r, c, QtWidgets.QTableWidgetItem(text))
        self.grid.blockSignals(False)
        self.edited.emit()

    def _remove_row(self) -> None:
        r = self.grid.currentRow() if self.grid.currentRow() >= 0 else self.grid.rowCount() - 1
        if r >= 0:
            self.grid.removeRow(r)
            self.edited.emit()

    def set_cell(self, row: int, column: int | str, text: str) -> None:
        """Type into one cell as a user would; ``column`` is an index or a key (``"duration"``)."""
        if isinstance(column, str):
            column = [c.key for c in self.spec.columns].index(column)
        self.grid.item(row, column).setText(text)

    def value(self) -> Any:
        rows = []
        for r in range(self.grid.rowCount()):
            cells = [self.grid.item(r, c).text() if self.grid.item(r, c) else "" for c in range(self.grid.columnCount())]
            values = [text_to_value(t, col.kind) for t, col in zip(cells, self.spec.columns)]
            if self.spec.row_tables:
                rows.append({col.key: v for col, v in zip(self.spec.columns, values) if v is not MISSING})
            else:
                rows.append([v for v in values if v is not MISSING])
        return rows if rows or self._given else MISSING

    def set_value(self, value: Any) -> None:
        self.grid.blockSignals(True)
        self.grid.setRowCount(0)
        self.grid.blockSignals(False)
        self._given = value is not MISSING
        if not isinstance(value, list):
            return
        for item in value:
            if self.spec.row_tables and isinstance(item, dict):
                cells = [value_to_text(item.get(col.key, MISSING)) for col in self.spec.columns]
            elif isinstance(item, (list, tuple)):
                cells = [value_to_text(v) for v in item]
            else:
                cells = [value_to_text(item)]
            self.add_row(cells)
        self._given = True

    def set_hint(self, text: str) -> None:
        self.grid.setToolTip(f"{self.spec.doc}\n{text}".strip())


def _column_title(col: FieldSpec, named: bool) -> str:
    name = col.key if named else (col.dimension or "value")
    return f"{name} [{col.unit}]" if col.unit else name


def make_editor(spec: FieldSpec, parent=None) -> FieldEditor:
    if spec.kind in ("choice", "bool"):
        return ChoiceEditor(spec, parent)
    if spec.kind == "rows":
        return RowsEditor(spec, parent)
    return LineEditor(spec, parent)
