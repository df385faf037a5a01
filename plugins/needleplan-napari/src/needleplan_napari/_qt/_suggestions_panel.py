"""The "Detected structures" box of the dock: Detect (Alt+D), Accept, Accept all, Reject, and the list.

A thin view over :mod:`needleplan_napari._suggestions`: the detectors run in a napari worker thread
(they are pure), and the layers are touched only in the worker's ``returned`` handler, which napari
runs on the main thread.  The list shows every unaccepted suggestion with its confidence and the
detector's evidence; it follows the session's checks, so suggestions restored from an opened plan,
or a suggestion deleted by hand in napari, show up here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from needleplan_napari import _suggestions
from needleplan_napari._qt._helpers import Call

if TYPE_CHECKING:
    from needleplan_napari._session import PlanSession

__all__ = ["SuggestionPanel", "DETECT_KEY"]

#: Alt+D: free among the dock's Alt+letter keys and napari's own shortcuts.
DETECT_KEY = "Alt-D"


class SuggestionPanel(QGroupBox):
    """Detector suggestions of one :class:`~needleplan_napari._session.PlanSession`."""

    def __init__(self, session: PlanSession) -> None:
        super().__init__("Detected structures (suggestions)")
        self.session = session
        self.viewer = session.viewer
        self.worker: Any = None
        self._refs: list[_suggestions.SuggestionRef] = []
        self._signature: tuple = ()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        buttons = QGridLayout()
        self.detect_button = QPushButton(f"Detect ({DETECT_KEY.replace('-', '+')})")
        self.detect_button.setToolTip(
            "Suggest skin, fascia, ribs, pleura and vessels on this frame "
            "(a cine: the whole cine, for lung sliding and artery/vein)"
        )
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Make the selected suggestion(s) marks (list, or shapes selected in napari)")
        self.accept_all_button = QPushButton("Accept all")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setToolTip("Remove the selected suggestion(s)")
        for i, b in enumerate((self.detect_button, self.accept_button, self.accept_all_button, self.reject_button)):
            buttons.addWidget(b, i // 2, i % 2)
        lay.addLayout(buttons)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(110)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        lay.addWidget(self.list)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.status)
        self.detect_button.clicked.connect(lambda _=False: self.detect())
        self.accept_button.clicked.connect(lambda _=False: self.accept_selected())
        self.accept_all_button.clicked.connect(lambda _=False: self.accept_all())
        self.reject_button.clicked.connect(lambda _=False: self.reject_selected())
        session.updated.connect(self._follow)  # the session lives as long as this panel: connected once
        self._follow()

    # --- lifecycle (called by the dock widget's show/hide) ---------------------------------------

    def enable(self) -> None:
        self.viewer.bind_key(DETECT_KEY, Call(self.detect), overwrite=True)

    def disable(self) -> None:
        self.viewer.bind_key(DETECT_KEY, None)

    # --- actions (public: the tests and the shortcut call these) -----------------------------------

    def detect(self, *, background: bool = True) -> Any:
        """Run the detectors on the current frame (or the whole cine); returns the worker."""
        from needleplan.errors import NeedleplanError

        if self.worker is not None:
            self.status.setText("Detection is already running.")
            return self.worker
        try:
            job = _suggestions.detect_job(self.session)
        except NeedleplanError as exc:
            self.status.setText(f"<b>Not done:</b> {exc}")
            return None
        where = "the whole cine (sliding, pulsation)" if job.cine else f"frame {job.frame_index}"
        if not background:
            self._detected(job, _suggestions.run_detection(job))
            return None
        from napari.qt.threading import create_worker

        _suggestions.prepare_detectors()  # on the main thread, before any worker touches scipy.fft
        self.status.setText(f"Detecting on {where}...")
        self.detect_button.setEnabled(False)
        self.worker = create_worker(_suggestions.run_detection, job)
        self.worker.returned.connect(lambda structures: self._detected(job, structures))  # main thread
        self.worker.errored.connect(lambda exc: self.status.setText(f"<b>Detection failed:</b> {exc}"))
        self.worker.finished.connect(self._finished)
        self.worker.start()
        return self.worker

    def _finished(self) -> None:
        self.worker = None
        self.detect_button.setEnabled(True)

    def _detected(self, job: _suggestions.DetectJob, structures: list) -> None:
        from needleplan.errors import NeedleplanError

        try:
            n = _suggestions.show_detected(self.session, job, structures)
        except NeedleplanError as exc:
            self.status.setText(f"<b>Not shown:</b> {exc}")
            return
        where = "cine" if job.cine else f"frame {job.frame_index}"
        self.status.setText(
            f"{n} suggestion(s) on {where}, drawn faint: not used as hazards until accepted."
            if n
            else f"No structure found on {where}."
        )
        self._follow(force=True)

    def selected(self) -> list[_suggestions.SuggestionRef]:
        """Suggestions selected in the list, else the suggested shapes selected in napari's active layer."""
        rows = sorted(self.list.row(item) for item in self.list.selectedItems())
        if rows:
            return [self._refs[r] for r in rows if r < len(self._refs)]
        active = self.viewer.layers.selection.active
        chosen = getattr(active, "selected_data", set()) or set()
        return [r for r in self._refs if active is not None and r.layer == active and r.index in chosen]

    def accept_selected(self) -> int:
        return self._done("accepted", _suggestions.accept(self.session, self.selected()))

    def accept_all(self) -> int:
        return self._done("accepted", _suggestions.accept(self.session, list(self._refs)))

    def reject_selected(self) -> int:
        return self._done("rejected", _suggestions.reject(self.session, self.selected()))

    def _done(self, what: str, n: int) -> int:
        self.status.setText(
            f"{n} suggestion(s) {what}." if n else "Select suggestion(s) in the list (or shapes in a layer) first."
        )
        self._follow(force=True)
        return n

    def select(self, *rows: int) -> None:
        """Select list rows (what a click does)."""
        self.list.clearSelection()
        for r in rows:
            self.list.item(r).setSelected(True)

    def shown(self) -> list[str]:
        """The lines of the list, top to bottom."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    # --- following the layers ----------------------------------------------------------------------

    def _follow(self, *_: Any, force: bool = False) -> None:
        """Restyle and relist when the suggestions changed (cheap otherwise: runs after every check)."""
        refs = _suggestions.suggestion_refs(self.viewer)
        layers = [ly for ly in self.viewer.layers if ly.__class__.__name__ == "Shapes"]
        signature = (
            tuple((r.layer.unique_id, r.index, r.kind, r.confidence, r.evidence) for r in refs),
            tuple((ly.unique_id, len(ly.data)) for ly in layers),
        )
        if not force and signature == self._signature:
            return
        self._signature = signature
        for ly in layers:
            if _suggestions.is_mark_layer(ly):
                _suggestions.style_suggestions(ly)
        self._refs = refs
        self.list.clear()
        for r in refs:
            item = QListWidgetItem(r.text())
            item.setToolTip(r.text())
            self.list.addItem(item)
        for b in (self.accept_button, self.accept_all_button, self.reject_button):
            b.setEnabled(bool(refs))
