"""A form for one scenario table (``[storage]``, one ``[[load]]``, ``[pmic]`` ...).

The form is generated from the registered table classes (schema_info): a preset chooser (presets of
the table's kind), a chooser for ``model`` / ``type`` when the table has one, then one editor per
field of the chosen class. It holds exactly the keys a scenario file would hold: empty fields are
absent, the preset's values and the defaults show as grey hints, and keys the form has no field for
(read from a file) are kept in an "other keys" line so nothing is silently dropped.
"""
from __future__ import annotations

import re
from typing import Any

from PySide6 import QtCore, QtWidgets

from sysim.scenario import registry

from .editors import FieldEditor, LineEditor, make_editor
from .schema_info import FieldSpec, table_fields
from .tomlio import MISSING, value_to_text

NONE_TEXT = "(none)"


class TableForm(QtWidgets.QWidget):
    """Edits one table; ``data()`` / ``set_data()`` speak scenario dicts."""

    edited = QtCore.Signal()

    def __init__(self, path: str, tables: dict[str, type] | type, *, kind: str | None = None,
                 selector: str | None = None, optional: bool = False, parent=None):
        super().__init__(parent)
        self.path = path
        self.kind, self.selector, self.optional = kind, selector, optional
        self._tables = tables
        self._selector_value: Any = MISSING
        self._table_cls: type | None = None
        self.editors: dict[str, FieldEditor] = {}
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        header = QtWidgets.QFormLayout()
        self.preset_combo = QtWidgets.QComboBox()
        self.preset_combo.setObjectName("preset")
        self.select_combo = QtWidgets.QComboBox()
        self.select_combo.setObjectName(selector or "table")
        for combo in (self.preset_combo, self.select_combo):  # long preset titles must not widen the panel
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        if kind is not None:
            header.addRow("preset", self.preset_combo)
        if selector is not None:
            header.addRow(selector, self.select_combo)
        layout.addLayout(header)
        self.section_error = QtWidgets.QLabel()
        self.section_error.setStyleSheet("color: #c0392b;")
        self.section_error.setWordWrap(True)
        self.section_error.hide()
        layout.addWidget(self.section_error)
        self.fields_box = QtWidgets.QWidget()
        self.fields = QtWidgets.QFormLayout(self.fields_box)
        self.fields.setContentsMargins(0, 0, 0, 0)
        self.fields.setFieldGrowthPolicy(QtWidgets.QFormLayout.AllNonFixedFieldsGrow)
        layout.addWidget(self.fields_box)
        self.other = LineEditor(FieldSpec("other keys", "value", doc="keys this form has no field for, as an "
                                          "inline TOML table"))
        self.other.line.setObjectName("other_keys")
        self.other.edited.connect(self.edited)
        self.other_label = QtWidgets.QLabel("other keys")
        layout.addWidget(self.other_label)
        layout.addWidget(self.other)
        self._fill_choosers()
        self.preset_combo.activated.connect(self._preset_chosen)
        self.select_combo.activated.connect(self._selector_chosen)
        self._rebuild({})

    # --- choosers -----------------------------------------------------------------------------
    def _fill_choosers(self) -> None:
        self.preset_combo.clear()
        self.preset_combo.addItem(NONE_TEXT, None)
        for preset in sorted(registry.presets(self.kind), key=lambda p: p.name) if self.kind else ():
            self.preset_combo.addItem(f"{preset.name} — {preset.title}", preset.name)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, f"{preset.source}\n{preset.notes}".strip(),
                                          QtCore.Qt.ToolTipRole)
        self.select_combo.clear()
        if self.optional:
            self.select_combo.addItem(NONE_TEXT, None)
        if isinstance(self._tables, dict):
            for name in sorted(self._tables):
                self.select_combo.addItem(name, name)

    @property
    def preset(self) -> str | None:
        return self.preset_combo.currentData()

    def is_empty(self) -> bool:
        """An optional table with neither preset nor model chosen is absent from the scenario."""
        return self.optional and self.preset is None and self._selector_value is MISSING

    def _preset_values(self) -> dict:
        preset = registry.PRESETS.get(self.preset or "")
        return dict(preset.values) if preset else {}

    def _resolve_class(self) -> type | None:
        if not isinstance(self._tables, dict):
            return self._tables
        chosen = self._selector_value if self._selector_value is not MISSING else self._preset_values().get(self.selector)
        if chosen in self._tables:
            return self._tables[chosen]
        preset = registry.PRESETS.get(chosen) if isinstance(chosen, str) else None
        if preset is not None and preset.values.get(self.selector) in self._tables:
            return self._tables[preset.values[self.selector]]  # ``type = "<preset name>"``
        return None

    def choose_preset(self, name: str | None) -> None:
        index = self.preset_combo.findData(name)
        if index < 0:
            raise KeyError(f"no {self.kind} preset {name!r}")
        self.preset_combo.setCurrentIndex(index)
        self._preset_chosen()

    def choose(self, selector_value: str | None) -> None:
        """Pick ``model`` / ``type`` as a user would."""
        index = self.select_combo.findData(selector_value)
        if index < 0:
            raise KeyError(f"{self.selector} {selector_value!r} is not registered")
        self.select_combo.setCurrentIndex(index)
        self._selector_chosen()

    def _preset_chosen(self, *_):
        implied = self._preset_values().get(self.selector)
        if self.preset is not None and implied is not None and self._selector_value == implied:
            self._selector_value = MISSING  # the preset names it; do not repeat it in the file
        self._switch()

    def _selector_chosen(self, *_):
        chosen = self.select_combo.currentData()
        implied = self._preset_values().get(self.selector)
        self._selector_value = MISSING if chosen is None or (chosen == implied and self.preset) else chosen
        self._switch()

    def _switch(self) -> None:
        """After a chooser changed: fields the new class shares keep their values, the old
        class's other fields go, keys from a file the form had no field for stay."""
        other = self.other.value() if isinstance(self.other.value(), dict) else {}
        self._rebuild(self._field_values())
        self._set_other({k: v for k, v in other.items() if k not in self.editors})
        self.edited.emit()

    # --- fields -------------------------------------------------------------------------------
    def _field_values(self) -> dict:
        values = {key: ed.value() for key, ed in self.editors.items()}
        values = {k: v for k, v in values.items() if v is not MISSING}
        other = self.other.value()
        if isinstance(other, dict):
            values.update(other)
        return values

    def _rebuild(self, values: dict) -> None:
        """Show the fields of the chosen class, filled from ``values``; keys the new class does
        not have are dropped when the user switched class, kept as 'other keys' when loading."""
        self._table_cls = self._resolve_class()
        while self.fields.rowCount():
            self.fields.removeRow(0)
        self.editors = {}
        skip = tuple(k for k in ("preset", self.selector) if k)
        specs = table_fields(self._table_cls, skip) if self._table_cls is not None else []
        preset_values = self._preset_values()
        for spec in specs:
            editor = make_editor(spec)
            editor.set_value(values.get(spec.key, MISSING))
            editor.set_hint(self._hint(spec, preset_values))
            editor.edited.connect(self.edited)
            label = QtWidgets.QLabel(spec.key + (" *" if spec.required and spec.key not in preset_values else ""))
            label.setToolTip(spec.doc)
            self.fields.addRow(label, editor)
            self.editors[spec.key] = editor
        self._sync_choosers()
        self.fields_box.setVisible(not self.is_empty())

    def _set_other(self, unknown: dict) -> None:
        self.other.set_value(unknown if unknown else MISSING)
        self.other.setVisible(bool(unknown))
        self.other_label.setVisible(bool(unknown))

    def _hint(self, spec: FieldSpec, preset_values: dict) -> str:
        if spec.key in preset_values:
            return f"preset: {value_to_text(preset_values[spec.key])}"
        if spec.required:
            return "required"
        default = spec.default_text()
        return f"default: {default}" if default else "optional"

    def _sync_choosers(self) -> None:
        for combo, value in ((self.select_combo, self._selector_value if self._selector_value is not MISSING
                              else self._preset_values().get(self.selector)),):
            index = combo.findData(value)
            if index < 0 and value is not None:  # a type the registry does not know: show it anyway
                combo.addItem(str(value), value)
                index = combo.count() - 1
            combo.setCurrentIndex(max(index, 0))

    # --- scenario dicts -----------------------------------------------------------------------
    def data(self) -> dict:
        out: dict = {}
        if self.preset is not None:
            out["preset"] = self.preset
        if self.selector and self._selector_value is not MISSING:
            out[self.selector] = self._selector_value
        for key, editor in self.editors.items():
            value = editor.value()
            if value is not MISSING:
                out[key] = value
        other = self.other.value()
        if isinstance(other, dict):
            out.update({k: v for k, v in other.items() if k not in out})
        elif other is not MISSING:
            out["other keys"] = other  # not a table: the validator names it
        return out

    def set_data(self, data: dict) -> None:
        data = dict(data or {})
        preset = data.pop("preset", None)
        index = self.preset_combo.findData(preset)
        if index < 0:  # unknown preset: keep it so the validator can say so
            self.preset_combo.addItem(str(preset), preset)
            index = self.preset_combo.count() - 1
        self.preset_combo.setCurrentIndex(index)
        self._selector_value = data.pop(self.selector, MISSING) if self.selector else MISSING
        self._rebuild(data)
        self._set_other({k: v for k, v in data.items() if k not in self.editors})
        self.clear_errors()

    def editor(self, key: str) -> FieldEditor:
        return self.editors[key]

    # --- errors -------------------------------------------------------------------------------
    def clear_errors(self) -> None:
        self.section_error.hide()
        for editor in [*self.editors.values(), self.other]:
            editor.set_error(None)

    def show_error(self, key: str, message: str) -> None:
        """Show the validator's ``message`` at ``key`` (relative to this table, '' = the table)."""
        first = re.split(r"[.\[]", key, maxsplit=1)[0] if key else ""
        if first in self.editors:
            self.editors[first].set_error(message if key == first else f"{key}: {message}")
        elif first and isinstance(self.other.value(), dict) and first in self.other.value():
            self.other.set_error(f"{key}: {message}")
        else:
            self.section_error.setText(f"{key}: {message}" if key else message)
            self.section_error.show()
