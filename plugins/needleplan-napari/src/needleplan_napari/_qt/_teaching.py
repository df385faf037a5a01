"""The Teaching dock widget: a resident plans a teaching case, submits, and sees the expert's plan.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#widgets

A thin view over :class:`needleplan.training.CaseAttempt`: the case's de-identified image is opened
through the plugin's reader, the resident marks and draws with the Needle Plan widget, and
"Submit" hands the plan that widget's session builds (the same path as "Save plan") to the core,
which scores it and records the attempt.  Only after that is the expert's reference plan drawn,
in a read-only layer of its own colour.  No geometry here: the words are the core's, the numbers
are only formatted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from needleplan_napari import _layers, _teaching_case
from needleplan_napari._qt._case_library import CaseLibraryBox
from needleplan_napari._qt._panels import PLUGIN, guarded, plan_widget
from needleplan_napari._teaching_case import score_lines

if TYPE_CHECKING:
    from pathlib import Path

    import napari
    from napari.layers import Image, Shapes
    from napari.qt.threading import FunctionWorker

    from needleplan.training import CaseAttempt, Score
    from needleplan.training.starter import StarterResult
    from needleplan_napari._qt._plan_widget import PlanWidget

T = TypeVar("T")

__all__ = ["TeachingWidget"]

_RESULT_COLOURS = {"pass": "#39ff14", "needs_work": "#ff9f1a", "fail": "#ff4040"}


class TeachingWidget(QWidget):
    """Pick a teaching case, plan it with the Needle Plan widget, submit, compare with the expert."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.attempt: CaseAttempt | None = None  # the case being planned
        self._image: Image | None = None  # the case's image layer
        self.setMinimumWidth(300)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.library = CaseLibraryBox(self.status)
        self.folder, self.resident, self.cases = self.library.folder, self.library.resident, self.library.cases
        lay.addWidget(self.library)
        self.start_button = QPushButton("Start case")
        self.submit_button = QPushButton("Submit plan")
        self.submit_button.setEnabled(False)
        self.start_button.clicked.connect(lambda _=False: self.start_selected())
        self.submit_button.clicked.connect(lambda _=False: self.submit())
        self.library.buttons.addWidget(self.start_button)
        self.library.buttons.addWidget(self.submit_button)
        self.case_label = QLabel("")
        self.case_label.setWordWrap(True)
        lay.addWidget(self.case_label)
        self.result_label = QLabel("")
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.result_label)
        self.result_list = QListWidget()
        self.result_list.setWordWrap(True)
        lay.addWidget(self.result_list, stretch=1)
        lay.addWidget(self.status)
        from needleplan.training.cases import default_cases_dir

        self.set_cases_dir(default_cases_dir())

    # --- the case library (the box's) -----------------------------------------------------------

    def set_cases_dir(self, folder: str | Path) -> None:
        self.library.set_cases_dir(folder)

    def refresh(self) -> list:
        """List the cases of the folder (title, difficulty)."""
        return self.library.refresh()

    def build_starter_set(self, *, background: bool = True) -> FunctionWorker | StarterResult | None:
        """Make the phantom starter cases in the folder (in a worker thread: rendering takes a while)."""
        return self.library.build_starter_set(background=background)

    # --- a turn --------------------------------------------------------------------------------

    def plan_widget(self) -> PlanWidget:
        """The Needle Plan dock widget (docked if it is not yet): the resident plans with it."""
        return plan_widget(self.viewer)

    def start_selected(self) -> CaseAttempt | None:
        case = self.library.selected_case()
        if case is None:
            self.status.setText("Choose a case in the list first.")
            return None
        return self.start(case)

    def start(self, case: str | Path) -> CaseAttempt | None:
        """Open a case (id or folder): its de-identified image, through the plugin's reader."""
        from needleplan.training import CaseAttempt

        others = [ly for ly in self.viewer.layers if _layers.image_source(ly) is not None and ly is not self._image]
        if others:
            self.status.setText(
                "Close the open ultrasound image first: a teaching case starts on an empty "
                "viewer, so no mark of another image counts in the resident's plan."
            )
            return None
        attempt = self._guard(
            CaseAttempt, case, resident=self.resident.text().strip() or None, cases_dir=self.folder.text() or None
        )
        if attempt is None:
            return None
        self._clear_case()
        widget = self.plan_widget()
        self._image = self.viewer.open(str(attempt.image_path), plugin=PLUGIN)[0]
        widget.set_inputs(replace(widget.session.inputs, site=attempt.case.site))
        self.attempt = attempt
        c = attempt.case
        points = "".join(f"<br>- {p}" for p in c.teaching_points)
        self.case_label.setText(
            f"<b>{c.title}</b> ({c.difficulty}, site {c.site}){points}<br>"
            "Mark the hazards and draw the needle with the Needle Plan panel, then Submit."
        )
        self.result_label.setText("")
        self.result_list.clear()
        self.submit_button.setEnabled(True)
        self.status.setText("")
        return attempt

    def _clear_case(self) -> None:
        """Remove the previous case: its image, every mark and needle, and the reference layer."""
        _teaching_case.clear_case(self.viewer, self._image)
        self._image, self.attempt = None, None
        self.submit_button.setEnabled(False)

    def submit(self) -> Score | None:
        """Score the resident's plan (the one the Needle Plan widget would save), then show the expert's."""
        if self.attempt is None:
            self.status.setText("Start a case first.")
            return None
        if self.attempt.submitted:
            self.status.setText("Already submitted: start the case again to try again.")
            return None
        if self.resident.text().strip() and self.attempt.resident is None:
            self.attempt.resident = self.resident.text().strip()
        plan = self._guard(self.plan_widget().session.files.checked_plan)
        score = None if plan is None else self._guard(self.attempt.submit, plan)
        if score is None:
            return None
        self.submit_button.setEnabled(False)
        lines = score_lines(score)
        colour = _RESULT_COLOURS.get(score.result, "#ffffff")
        self.result_label.setText(f"<b style='color:{colour}'>{lines[0]}</b>")
        self.result_list.clear()
        self.result_list.addItems(lines[1:])
        self.show_reference()
        kept = self.attempt.record
        self.status.setText(
            f"Attempt kept for {kept.resident} (#{kept.plan_id})."
            if kept is not None
            else "Not kept: enter the resident's name to keep attempts."
        )
        return score

    def result_shown(self) -> list[str]:
        """Result line and every line under it, as shown (for tests)."""
        return [self.result_label.text()] + [self.result_list.item(i).text() for i in range(self.result_list.count())]

    def show_reference(self) -> Shapes:
        """Draw the expert's plan in one read-only layer (only after submitting: the core refuses before)."""
        return _teaching_case.draw_reference(self.viewer, self.attempt.reference, self._image)

    def reference_layer(self) -> Shapes | None:
        return _teaching_case.reference_layer(self.viewer)

    def _guard(self, func: Callable[..., T], *args: Any, **kw: Any) -> T | None:
        return guarded(self.status, func, *args, **kw)
