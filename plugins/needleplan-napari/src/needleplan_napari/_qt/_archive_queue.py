"""The department archive's review queue inside the PACS dock: list plans, open one with its image.

A thin view over :class:`needleplan.archive.ArchiveLibrary` (issue 13).  The archive is the PACS
dock's server; who you are comes from the same credentials (never typed here).  Opening a plan
retrieves its image into the PACS cache and opens both through the Needle Plan dock, so the plan
is shown on the very frame it was made on, in millimetres.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from needleplan_napari._qt._panels import plan_widget, run_worker

__all__ = ["ArchiveQueuePanel", "QUEUE_COLUMNS"]

QUEUE_COLUMNS = ("Status", "Site", "Author", "Worst finding", "Updated", "Step")


def _archive(settings: Any, url: str | None) -> Any:
    from needleplan import pacs
    from needleplan.archive import ArchiveLibrary
    from needleplan.archive.queue_cache import QueueCache, default_queue_cache_path

    return ArchiveLibrary(
        pacs.connect(settings, url=url), reviewers=settings.reviewers, cache=QueueCache(default_queue_cache_path())
    )


def _queue(settings: Any, url: str | None, status: str | None) -> list:
    with _archive(settings, url) as archive:
        return archive.list_plans(status=status)


def _fetch(settings: Any, url: str | None, plan_id: str) -> Any:
    from needleplan import pacs

    with _archive(settings, url) as archive:
        folder = pacs.default_cache(settings).root.parent / "archive-plans"
        return archive.fetch_plan(plan_id, folder, cache=pacs.default_cache(settings))


class ArchiveQueuePanel(QWidget):
    """The review queue (one row per plan, its latest step) and "Open plan"."""

    def __init__(self, pacs_widget: Any) -> None:
        super().__init__()
        self.pacs = pacs_widget
        self.rows: list = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.list_button = QPushButton("Review queue")
        self.list_button.setToolTip("Plans on the department archive, one row per plan (its latest step)")
        self.list_button.clicked.connect(lambda: self.list_queue())
        self.submitted_only = QCheckBox("submitted only")
        self.submitted_only.setChecked(True)
        row = QHBoxLayout()
        row.addWidget(self.list_button)
        row.addWidget(self.submitted_only)
        lay.addLayout(row)
        self.table = QTableWidget(0, len(QUEUE_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(QUEUE_COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.doubleClicked.connect(lambda _: self.open_plan())
        lay.addWidget(self.table, stretch=1)
        self.open_button = QPushButton("Open plan with its image")
        self.open_button.clicked.connect(lambda: self.open_plan())
        lay.addWidget(self.open_button)

    def list_queue(self, *, background: bool = True) -> Any:
        """List the archive's plans (submitted ones unless the box is cleared)."""
        if self.pacs.settings is None:
            return None
        status = "submitted" if self.submitted_only.isChecked() else None
        return run_worker(
            self.pacs.status,
            _queue,
            self.pacs.settings,
            self.pacs._url(),
            status,
            done=self._show,
            background=background,
            working="Reading the review queue...",
            failed="Review queue not read",
        )

    def _show(self, rows: list) -> None:
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for r, plan in enumerate(self.rows):
            worst = f"{str(plan['worst_severity']).upper()} {plan['worst_code']}" if plan.get("worst_code") else "none"
            values = (
                plan["status"],
                plan.get("site"),
                plan.get("author"),
                worst,
                (plan.get("updated") or "")[:16],
                plan.get("seq"),
            )
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))
        if self.rows:
            self.table.selectRow(0)
        self.pacs.status.setText(f"{len(self.rows)} plan(s) in the review queue")

    def open_plan(self, row: int | None = None, *, background: bool = True) -> Any:
        """Retrieve the chosen plan's image and open the plan on it in the Needle Plan dock."""
        if row is None:
            rows = self.table.selectionModel().selectedRows()
            row = rows[0].row() if rows else -1
        if not 0 <= row < len(self.rows) or self.pacs.settings is None:
            self.pacs.status.setText("List the review queue, then choose a plan.")
            return None
        return run_worker(
            self.pacs.status,
            _fetch,
            self.pacs.settings,
            self.pacs._url(),
            self.rows[row]["id"],
            done=self._open,
            background=background,
            working="Retrieving the plan and its image...",
            failed="Plan not opened",
        )

    def _open(self, path: Any) -> None:
        plan = plan_widget(self.pacs.viewer).open_plan(path)
        if plan is not None:
            block = plan.extra.get("library", {})
            self.pacs.status.setText(
                f"Opened plan {block.get('plan_id')} ({block.get('status')}, "
                f"step {block.get('seq')}, author {plan.author})"
            )
