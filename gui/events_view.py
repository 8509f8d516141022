"""The event log (brown-outs, restores, over-voltage, PMIC state changes, firmware prints and
resets: ``Simulation.events``) and the firmware console (what the firmware printed, in order).

The log is a table model that appends in batches (a year-long run may log 100 000 events) with a
filter box; double-clicking an event zooms the plots to it (:attr:`EventLog.time_chosen`).
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from sysim.units import format_duration


class EventModel(QtCore.QAbstractTableModel):
    HEADERS = ("time", "t (s)", "source", "message")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.events: list = []

    def rowCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self.events)

    def columnCount(self, parent=QtCore.QModelIndex()) -> int:  # noqa: N802
        return len(self.HEADERS)

    def headerData(self, section, orientation, role=QtCore.Qt.DisplayRole):  # noqa: N802
        if role == QtCore.Qt.DisplayRole and orientation == QtCore.Qt.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index, role=QtCore.Qt.DisplayRole):
        if not index.isValid() or role not in (QtCore.Qt.DisplayRole, QtCore.Qt.UserRole):
            return None
        event = self.events[index.row()]
        if role == QtCore.Qt.UserRole:
            return event.t
        return (format_duration(event.t), f"{event.t:.9g}", event.source, event.message)[index.column()]

    def append(self, events: list) -> None:
        if not events:
            return
        first = len(self.events)
        self.beginInsertRows(QtCore.QModelIndex(), first, first + len(events) - 1)
        self.events.extend(events)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.events = []
        self.endResetModel()


class EventLog(QtWidgets.QWidget):
    time_chosen = QtCore.Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.filter = QtWidgets.QLineEdit()
        self.filter.setPlaceholderText("filter (source or message)")
        layout.addWidget(self.filter)
        self.model = EventModel(self)
        self.proxy = QtCore.QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(QtCore.Qt.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QtWidgets.QTableView()
        self.view.setModel(self.proxy)
        self.view.verticalHeader().setDefaultSectionSize(20)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectRows)
        self.view.doubleClicked.connect(self._chosen)
        layout.addWidget(self.view)
        self.count_label = QtWidgets.QLabel("no events")
        layout.addWidget(self.count_label)
        self._pending: list = []
        self._flush_timer = QtCore.QTimer(self, singleShot=True, interval=250)
        self._flush_timer.timeout.connect(self.flush)

    def append(self, events: list) -> None:
        """Queue events; they are shown in batches a few times a second (a brown-out loop can
        log hundreds per second, and each insert repaints the table)."""
        self._pending.extend(events)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        if not self._pending:
            return
        at_bottom = self.view.verticalScrollBar().value() >= self.view.verticalScrollBar().maximum() - 2
        self.model.append(self._pending)
        self._pending = []
        self.count_label.setText(f"{len(self.model.events):,} events")
        if at_bottom:
            self.view.scrollToBottom()

    def clear(self) -> None:
        self._pending = []
        self.model.clear()
        self.count_label.setText("no events")

    def _chosen(self, index) -> None:
        self.time_chosen.emit(float(self.proxy.data(index, QtCore.Qt.UserRole)))


class FirmwareConsole(QtWidgets.QPlainTextEdit):
    """What the firmware printed and when it was reset, as on a serial terminal."""

    MAX_LINES = 20_000

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(self.MAX_LINES)
        self.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.sources: set[str] = set()
        self.setPlaceholderText("firmware output appears here when the scenario has a [firmware] table")

    def set_sources(self, names: list[str]) -> None:
        self.sources = set(names)

    def append_events(self, events: list) -> None:
        lines = [f"[{e.t:12.6f} s] {e.message}" for e in events if e.source in self.sources]
        if lines:
            self.appendPlainText("\n".join(lines))
