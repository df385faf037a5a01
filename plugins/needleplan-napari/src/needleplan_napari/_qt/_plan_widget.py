"""The Needle Plan dock widget: a thin view over :class:`~needleplan_napari._session.PlanSession`.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#widgets

Holds no geometry: every button calls the session (or its ``files``) and every panel only shows
the session's state.  Two tabs keep it usable at 1280x800: "Plan" (calibration, marking, needle,
findings, suggest, save/open) and "Patient" (patient fields and injectate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from qtpy.QtCore import QTimer
from qtpy.QtGui import QHideEvent, QShowEvent
from qtpy.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from needleplan_napari import _findings
from needleplan_napari._depth_ruler import show_home
from needleplan_napari._qt._calibration_box import CalibrationBox
from needleplan_napari._qt._findings_view import FindingsView
from needleplan_napari._qt._helpers import Call, MarkKey, canvas_overlay
from needleplan_napari._qt._mark_buttons import SHORTCUTS, MarkButtons
from needleplan_napari._qt._panels import guarded
from needleplan_napari._qt._plan_actions import PlanActions
from needleplan_napari._qt._plan_form import NeedleForm, PatientForm, fill_form, form_inputs
from needleplan_napari._qt._suggestions_panel import SuggestionPanel
from needleplan_napari._session import PlanSession
from needleplan_napari._state import PlanInputs, SessionState

if TYPE_CHECKING:
    import napari
    from napari.layers import Shapes
    from napari.qt.threading import FunctionWorker

    from needleplan.plan import Plan

__all__ = ["PlanWidget", "SHORTCUTS"]

_SUGGEST_KEY = "Alt-G"
T = TypeVar("T")


class PlanWidget(QWidget):
    """Mark, plan, see the warnings live, suggest, save and open (one dock widget)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session = PlanSession(napari_viewer)
        self.setMinimumWidth(300)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.calibration = CalibrationBox(self.session, self._guard, self.status.setText)
        self.needle_form = NeedleForm()
        self.patient_form = PatientForm()
        self.marks = MarkButtons(self.mark)
        self.findings = FindingsView()
        self.suggestions = SuggestionPanel(self.session)  # detector suggestions: Detect, Accept, Reject
        self.actions = PlanActions(self.session, self.status)
        self.actions.suggest_button.clicked.connect(lambda _=False: self.suggest())
        self.actions.use_path_button.clicked.connect(lambda _=False: self.accept_suggestion())
        tabs = QTabWidget()
        tabs.addTab(self._plan_tab(), "Plan")
        tabs.addTab(self.patient_form, "Patient")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(tabs)
        for form in (self.needle_form, self.patient_form):
            form.changed.connect(self._inputs_changed)
        self.session.updated.connect(self._show_state)
        self.session.suggested.connect(self._show_suggestion)
        self.session.inputs_loaded.connect(self.set_inputs)
        self.session.image_added.connect(self._first_view)
        self._enable()

    def _first_view(self, image: object) -> None:
        """Home on a new image once Qt has laid the canvas out (its size decides the zoom)."""
        QTimer.singleShot(0, lambda: show_home(self.viewer, self.session.image_layer()))

    def _plan_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 2, 2, 2)
        for part in (self.calibration, self.needle_form, self.marks):
            lay.addWidget(part)
        lay.addWidget(self.findings, stretch=1)
        for part in (self.suggestions, self.actions, self.status):
            lay.addWidget(part)
        return w

    # --- lifecycle: napari hides a closed dock (no closeEvent), so hide/show drive it -------------

    def _enable(self) -> None:
        self.session.enable()
        for key, kind in SHORTCUTS.items():
            self.viewer.bind_key(key, MarkKey(self, kind), overwrite=True)
        self.viewer.bind_key(_SUGGEST_KEY, Call(self.suggest), overwrite=True)
        self.suggestions.enable()
        canvas_overlay(self.viewer, "scale_bar").visible = True
        canvas_overlay(self.viewer, "text").visible = True

    def _disable(self) -> None:
        self.session.disable()
        for key in (*SHORTCUTS, _SUGGEST_KEY):
            self.viewer.bind_key(key, None)
        self.suggestions.disable()

    def showEvent(self, event: QShowEvent | None) -> None:  # noqa: N802 - Qt
        self._enable()
        if event is not None:
            super().showEvent(event)

    def hideEvent(self, event: QHideEvent | None) -> None:  # noqa: N802 - Qt
        self._disable()
        if event is not None:
            super().hideEvent(event)

    # --- actions (public: the tests and the shortcuts call these) --------------------------------

    def mark(self, kind: str) -> Shapes | None:
        return self.session.start_marking(kind)

    def set_needle(self, entry_mm: Sequence[float], tip_mm: Sequence[float]) -> None:
        self.session.set_needle(entry_mm, tip_mm)

    def add_structure(self, kind: str, points_mm: Iterable[Sequence[float]], shape_type: str | None = None) -> None:
        self.session.add_structure(kind, points_mm, shape_type)

    def inputs(self) -> PlanInputs:
        return form_inputs(self.needle_form, self.patient_form)

    def set_inputs(self, i: PlanInputs) -> None:
        """Fill the form (e.g. from an opened plan) without firing a check per field."""
        fill_form(self.needle_form, self.patient_form, i)
        self.session.set_inputs(i)

    def _inputs_changed(self) -> None:
        i = self.inputs()
        if i != self.session.inputs:
            self.session.set_inputs(i)

    def suggest(self, *, background: bool = True) -> FunctionWorker | None:
        """Work out the suggested trajectory and the safe angle window (a worker thread by default)."""
        work = self.session.suggestion_work()
        if work is None:
            return None
        self.status.setText("Working out the safe angle window...")
        if not background:
            self.session.show_suggestion(work())
            return None
        from napari.qt.threading import create_worker

        worker = create_worker(work)
        worker.returned.connect(self.session.show_suggestion)  # runs on the main thread
        worker.start()
        return worker

    def accept_suggestion(self) -> None:
        self.session.accept_suggestion()

    def start_ruler(self) -> Shapes | None:
        return self.calibration.ruler.start()

    def calibrate(self, p0_world: Sequence[float], p1_world: Sequence[float], distance_mm: float) -> None:
        self._guard(self.session.files.two_point_calibration, p0_world, p1_world, distance_mm)

    def save_plan(self, path: str | Path) -> Plan | None:
        return self.actions.save_plan(path)

    def open_plan(self, path: str | Path, *, force: bool = False) -> Plan | None:
        return self.actions.open_plan(path, force=force)

    def export_report(self, path: str | Path, *, background: bool = True) -> FunctionWorker | int | None:
        return self.actions.export_report(path, background=background)

    def _guard(self, func: Callable[..., T], *args: object, **kw: object) -> T | None:
        """A model call; its failure goes to the status line (None returned)."""
        return guarded(self.status, func, *args, **kw)

    # --- showing -----------------------------------------------------------------------------

    def _show_state(self, state: SessionState) -> None:
        self.calibration.show_state(state)
        canvas_overlay(self.viewer, "text").text = _findings.overlay_text(state)
        self.findings.show_state(state)

    def _show_suggestion(self, suggestion: Plan | None) -> None:
        self.actions.use_path_button.setEnabled(suggestion is not None)
        if suggestion is None:
            self.status.setText("No safe trajectory found from this target (or it was accepted).")
        else:
            n = suggestion.needle
            self.status.setText(
                f"Suggested: entry ({n.entry_mm[0]:.1f}, {n.entry_mm[1]:.1f}) mm; press 'Use suggested path' to take it"
            )

    def findings_shown(self) -> list[str]:
        """The lines in the findings panel, top to bottom (for tests and the benchmark)."""
        return self.findings.shown()
