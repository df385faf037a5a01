"""The PACS dock widget: "Open from PACS" (search, retrieve, open) and "Store plan to PACS".

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#widgets

A thin view over :mod:`needleplan.pacs`.  The server URL comes from the PACS settings (it may be
changed in the field); credentials come only from the environment or the settings file, as the
core reads them, and are never typed here, shown or logged: the panel names only the kind of
authentication and the user.  Every network call runs in a napari worker thread; a retrieved
image is opened with the plugin's own reader, and a plan is stored exactly as "Save plan" would
build it.  A failed store changes nothing local.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtCore import QObject, Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from needleplan_napari._pacs_jobs import auth_text, retrieve_study, search, store
from needleplan_napari._qt._panels import PLUGIN, guarded, plan_widget, run_worker

if TYPE_CHECKING:
    import napari

    from needleplan.pacs import PacsSettings
    from needleplan.pacs.retrieve import RetrieveResult
    from needleplan.pacs.store import StoreResult

__all__ = ["PacsWidget", "COLUMNS"]

COLUMNS = ("Date", "Patient ID", "Patient", "Description", "Modalities", "Images")


class _Progress(QObject):
    """Carries ``(done, total)`` from the worker thread to the progress bar (a queued Qt signal)."""

    changed = Signal(int, int)


class PacsWidget(QWidget):
    """Search the PACS, retrieve a study and open it; store the current plan into its study."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.studies: list = []
        self.opened: list = []  # image layers opened by the last retrieval
        self.setMinimumWidth(300)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        form = QFormLayout()
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://pacs.example.org/dicom-web")
        self.auth_label = QLabel("")
        self.auth_label.setWordWrap(True)
        self.patient_id = QLineEdit()
        self.date = QLineEdit()
        self.date.setPlaceholderText("2024, or 2024-01-01..2024-03-31")
        for label, w in (
            ("Server", self.url),
            ("", self.auth_label),
            ("Patient ID", self.patient_id),
            ("Study date", self.date),
        ):
            form.addRow(label, w)
        lay.addLayout(form)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(lambda: self.search())
        lay.addWidget(self.search_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.doubleClicked.connect(lambda _: self.retrieve())
        lay.addWidget(self.table, stretch=1)
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.clicked.connect(lambda: self.retrieve())
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m images")
        self._progress = _Progress()
        self._progress.changed.connect(self._show_progress)
        row = QHBoxLayout()
        row.addWidget(self.retrieve_button)
        row.addWidget(self.progress)
        lay.addLayout(row)
        self.with_report = QCheckBox("with the PDF report")
        self.store_button = QPushButton("Store plan to PACS")
        self.store_button.setToolTip("Store the current plan as a DICOM SR into its image's study")
        self.store_button.clicked.connect(lambda: self.store_plan())
        row = QHBoxLayout()
        row.addWidget(self.store_button)
        row.addWidget(self.with_report)
        lay.addLayout(row)
        from needleplan_napari._qt._archive_queue import ArchiveQueuePanel

        self.queue = ArchiveQueuePanel(self)  # the department archive's review queue (issue 13)
        lay.addWidget(self.queue, stretch=1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        self.reload_settings()

    def reload_settings(self) -> PacsSettings | None:
        """Read the PACS settings (file, then environment) and show the URL and the kind of login."""
        from needleplan.pacs import load_settings, settings_path

        self.settings = guarded(self.status, load_settings)
        if self.settings is None:
            return None
        self.url.setText(self.settings.url or "")
        self.auth_label.setText(f"Login: {auth_text(self.settings)}")
        self.auth_label.setToolTip(
            f"Credentials come only from the environment (NEEDLEPLAN_PACS_USER/_PASSWORD "
            f"or NEEDLEPLAN_PACS_TOKEN) or the settings file {settings_path()}"
        )
        return self.settings

    def _url(self) -> str | None:
        return self.url.text().strip() or None

    # --- open from PACS --------------------------------------------------------------------------

    def search(self, *, background: bool = True) -> object:
        """QIDO-RS search with the form's patient ID and date (ultrasound studies, newest first)."""
        if self.settings is None:
            return None
        return run_worker(
            self.status,
            search,
            self.settings,
            self._url(),
            self.patient_id.text().strip() or None,
            self.date.text().strip() or None,
            done=self._show_studies,
            background=background,
            working="Searching...",
            failed="Search failed",
        )

    def _show_studies(self, studies: list) -> None:
        self.studies = list(studies)
        self.table.setRowCount(len(self.studies))
        for r, s in enumerate(self.studies):
            values = (s.study_date, s.patient_id, s.patient_name, s.description, " ".join(s.modalities), s.n_instances)
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem("" if v is None else str(v)))
        if self.studies:
            self.table.selectRow(0)
        self.status.setText(f"{len(self.studies)} stud{'y' if len(self.studies) == 1 else 'ies'} found")

    def retrieve(self, row: int | None = None, *, background: bool = True) -> object:
        """Retrieve the selected study into the local cache (with progress), then open its images."""
        if row is None:
            rows = self.table.selectionModel().selectedRows()
            row = rows[0].row() if rows else -1
        if not 0 <= row < len(self.studies) or self.settings is None:
            self.status.setText("Search, then choose a study in the table.")
            return None
        self.progress.setValue(0)
        return run_worker(
            self.status,
            retrieve_study,
            self.settings,
            self._url(),
            self.studies[row].study_instance_uid,
            self._progress.changed.emit,
            done=self._open_retrieved,
            background=background,
            working="Retrieving...",
            failed="Retrieve failed",
        )

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _open_retrieved(self, got: tuple[RetrieveResult, list[str]]) -> None:
        """Open every image of the study with the plugin's reader (plans and reports are skipped)."""
        result, images = got
        self.opened = []
        for path in images:
            self.opened.extend(self.viewer.open(path, plugin=PLUGIN))
        skipped = len(result.paths) - len(images)
        note = f"; {skipped} non-image object(s) not opened" if skipped else ""
        self.status.setText(
            f"Opened {len(self.opened)} image(s) ({len(result.fetched)} fetched, "
            f"{len(result.reused)} from the cache){note}"
        )

    # --- store to PACS ---------------------------------------------------------------------------

    def store_plan(self, *, background: bool = True) -> object:
        """Store the current plan (as "Save plan" builds it) as an SR into its image's study."""
        from needleplan_napari import _layers

        if self.settings is None:
            return None
        session = plan_widget(self.viewer).session
        got = guarded(self.status, session.files.report_inputs)
        if got is None:
            return None
        plan, frame = got
        source = _layers.image_source(session.image_layer())
        return run_worker(
            self.status,
            store,
            self.settings,
            self._url(),
            plan,
            str(source.info.path),
            frame,
            self.with_report.isChecked(),
            done=self._stored,
            background=background,
            working="Storing the plan...",
            failed="Not stored (the local plan is unchanged)",
        )

    def _stored(self, result: StoreResult) -> None:
        self.status.setText(f"Stored {len(result.stored)} object(s) into study {result.study_instance_uid}")
