"""The action buttons of the Needle Plan dock and the file side: save, open, export a report.

Each action is a call on the session's :class:`~needleplan_napari._plan_io.PlanFiles`; a failure
shows the core's one-line reason in the dock's status line.  The report renders in a worker thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtWidgets import QFileDialog, QGridLayout, QLabel, QPushButton, QWidget

from needleplan_napari import _plan_io
from needleplan_napari._qt._panels import guarded, run_worker

if TYPE_CHECKING:
    from napari.qt.threading import FunctionWorker

    from needleplan.plan import Plan
    from needleplan_napari._session import PlanSession

__all__ = ["PlanActions"]

_REPORT_SUFFIXES = (".pdf", ".png", ".html")


class PlanActions(QWidget):
    """Suggest / use suggested path / save / open / export report, and what they do with files."""

    def __init__(self, session: PlanSession, status: QLabel) -> None:
        super().__init__()
        self.session, self.status = session, status
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.suggest_button = QPushButton("Suggest (Alt+G)")
        # "Accept" belongs to the detector suggestions; this one takes the suggested needle path.
        self.use_path_button = QPushButton("Use suggested path")
        self.use_path_button.setToolTip("Replace the drawn needle by the suggested trajectory (after Suggest)")
        self.use_path_button.setEnabled(False)
        self.save_button = QPushButton("Save plan...")
        self.open_button = QPushButton("Open plan...")
        self.report_button = QPushButton("Export report...")
        self.save_button.clicked.connect(self._save_dialog)
        self.open_button.clicked.connect(self._open_dialog)
        self.report_button.clicked.connect(self._report_dialog)
        buttons = (self.suggest_button, self.use_path_button, self.save_button, self.open_button, self.report_button)
        for i, b in enumerate(buttons):
            grid.addWidget(b, i // 2, i % 2)

    def save_plan(self, path: str | Path) -> Plan | None:
        plan = guarded(self.status, self.session.files.save, path)
        if plan is not None:
            self.status.setText(f"Saved {path}")
        return plan

    def open_plan(self, path: str | Path, *, force: bool = False) -> Plan | None:
        plan = guarded(self.status, self.session.files.open, path, force=force)
        if plan is not None:
            diff = _plan_io.saved_differences(plan, self.session.state.report)
            self.status.setText(f"Opened {path}" + ("; " + "; ".join(diff) if diff else ""))
        return plan

    def export_report(self, path: str | Path, *, background: bool = True) -> FunctionWorker | int | None:
        """Write the report (PDF/PNG/HTML by suffix); the rendering runs in a worker thread."""
        got = guarded(self.status, self.session.files.report_inputs)
        if got is None:
            return None
        plan, frame = got

        def done(pages: int) -> None:
            self.status.setText(f"Report written: {path} ({pages} page{'s' if pages != 1 else ''})")

        return run_worker(
            self.status,
            _plan_io.write_report_file,
            plan,
            frame,
            path,
            done=done,
            background=background,
            working="Writing the report...",
        )

    def _report_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export report", "", "Report (*.pdf *.png *.html)")
        if path:
            self.export_report(path if path.lower().endswith(_REPORT_SUFFIXES) else path + ".pdf")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plan", "", "Needle plans (*.plan.json)")
        if path:
            self.save_plan(path if path.endswith(".json") else path + ".plan.json")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open plan", "", "Needle plans (*.json)")
        if path:
            self.open_plan(path)
