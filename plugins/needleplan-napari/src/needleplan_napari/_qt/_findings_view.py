"""The read-only part of the Needle Plan dock: calibration line, numbers and the findings list.

Shows :class:`~needleplan_napari._state.SessionState` through the words of
:mod:`needleplan_napari._findings`; decides nothing.
"""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from needleplan_napari import _findings
from needleplan_napari._state import SessionState

__all__ = ["FindingsView", "colour"]

_COLOUR = {"block": "#ff5555", "warn": "#ffb000", "info": "#9ecbff"}


def colour(severity: str) -> QColor:
    """The list colour of a severity (red stop, amber warning, blue note)."""
    return QColor(_COLOUR.get(severity, "#dddddd"))


class FindingsView(QWidget):
    """The depth/path/angle line and every finding, most severe first."""

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.metrics_label)
        self.findings_list = QListWidget()
        self.findings_list.setWordWrap(True)
        self.findings_list.setMinimumHeight(120)
        lay.addWidget(self.findings_list, stretch=1)

    def show_state(self, state: SessionState) -> None:
        self.metrics_label.setText(_findings.metrics_text(state))
        self.findings_list.clear()
        for severity, text in _findings.finding_lines(state):
            item = QListWidgetItem(text)
            item.setForeground(colour(severity))
            self.findings_list.addItem(item)

    def shown(self) -> list[str]:
        """The lines in the findings list, top to bottom."""
        return [self.findings_list.item(i).text() for i in range(self.findings_list.count())]
