"""The Teaching dock's case library box: the cases folder, the resident's name and the list of cases.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#widgets

A thin view over :func:`needleplan.training.list_cases` and
:func:`needleplan.training.starter.build_starter_set`; the Teaching dock (``_teaching.py``) starts
the case chosen here.  Messages go to the dock's one status line, which it hands in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from needleplan_napari._qt._panels import guarded, run_worker

if TYPE_CHECKING:
    from pathlib import Path

    from napari.qt.threading import FunctionWorker

    from needleplan.training.starter import StarterResult

__all__ = ["CaseLibraryBox"]


class CaseLibraryBox(QWidget):
    """The cases folder, the resident's name, the case list, and the Refresh / Build starter set buttons."""

    def __init__(self, status: QLabel) -> None:
        super().__init__()
        self.status = status  # the dock's status line
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.folder = QLineEdit()
        self.folder.setToolTip("The case library folder ($NEEDLEPLAN_CASES, else <plan library>/cases)")
        browse = QPushButton("...")
        browse.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        form.addRow("Cases", row)
        self.resident = QLineEdit()
        self.resident.setPlaceholderText("your name (attempts are kept per resident)")
        form.addRow("Resident", self.resident)
        lay.addLayout(form)
        self.cases = QListWidget()
        self.cases.setMinimumHeight(100)
        lay.addWidget(self.cases)
        self.buttons = QHBoxLayout()  # the dock adds Start and Submit to this row
        self.refresh_button = QPushButton("Refresh")
        self.starter_button = QPushButton("Build starter set")
        self.refresh_button.clicked.connect(lambda _=False: self.refresh())
        self.starter_button.clicked.connect(lambda _=False: self.build_starter_set())
        self.buttons.addWidget(self.refresh_button)
        self.buttons.addWidget(self.starter_button)
        lay.addLayout(self.buttons)

    def set_cases_dir(self, folder: str | Path) -> None:
        self.folder.setText(str(folder))
        self.refresh()

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Case library folder", self.folder.text())
        if path:
            self.set_cases_dir(path)

    def refresh(self) -> list:
        """List the cases of the folder (title, difficulty)."""
        from needleplan.training import list_cases

        got = guarded(self.status, list_cases, self.folder.text() or None)
        self.cases.clear()
        for case in got or []:
            item = QListWidgetItem(f"{case.title} [{case.difficulty}]")
            item.setData(Qt.ItemDataRole.UserRole, case.folder)
            self.cases.addItem(item)
        if got is not None and not got:
            self.status.setText("No case in this folder: choose another, or Build starter set.")
        return got or []

    def build_starter_set(self, *, background: bool = True) -> FunctionWorker | StarterResult | None:
        """Make the phantom starter cases in the folder (in a worker thread: rendering takes a while)."""
        from needleplan.training.starter import build_starter_set

        folder = self.folder.text() or None

        def done(result: StarterResult) -> None:
            self.refresh()
            skipped = "".join(f"; left out {s}: {why}" for s, why in result.skipped)
            self.status.setText(f"Starter set: {len(result.made)} case(s) made{skipped}")

        return run_worker(
            self.status,
            build_starter_set,
            folder,
            done=done,
            background=background,
            working="Building the starter cases...",
        )

    def selected_case(self) -> str | None:
        """The folder of the case chosen in the list, or None."""
        item = self.cases.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)
