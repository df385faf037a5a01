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

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
    QVBoxLayout, QWidget,
)

from needleplan_napari import _layers
from needleplan_napari._qt._panels import PLUGIN, guarded, plan_widget, run_worker

if TYPE_CHECKING:
    import napari

__all__ = ["TeachingWidget", "score_lines", "REFERENCE_NAME", "REFERENCE_COLOUR"]

REFERENCE_NAME = "expert reference (read-only)"
#: One colour for everything the expert drew, unlike any kind colour (_styles.STYLES), so the
#: resident never mistakes it for a mark of their own.
REFERENCE_COLOUR = "#ff4fd8"
_RESULT_WORDS = {"pass": "PASS", "needs_work": "NEEDS WORK", "fail": "FAIL"}
_RESULT_COLOURS = {"pass": "#39ff14", "needs_work": "#ff9f1a", "fail": "#ff4040"}


def score_lines(score: Any) -> list[str]:
    """The score as a teacher reads it: result, needle errors (mm, deg), hazards, then the reasons."""
    lines = [f"Result: {_RESULT_WORDS.get(score.result, score.result)}"]
    n = score.needle
    if n is not None:
        past = "past" if n.target_along_mm > 0 else "short of"
        lines.append(f"Tip {abs(n.target_along_mm):.1f} mm {past} the expert's along the needle, "
                     f"{n.target_across_mm:.1f} mm across it ({n.target_distance_mm:.1f} mm in all)")
        lines.append(f"Angle difference {n.angle_deg:.1f} deg; entry point {n.entry_mm:.1f} mm away"
                     + ("" if n.depth_mm is None else f"; tip depth {n.depth_mm:+.1f} mm"))
    for h in score.hazards:
        name = h.kind + (f" ({h.label})" if h.label else "")
        if h.status == "missed":
            lines.append(f"Missed hazard: {name}")
        elif h.status == "mislocated":
            lines.append(f"Mislocated hazard: {name}, {h.distance_mm:.1f} mm from the expert's mark")
        else:
            lines.append(f"Found hazard: {name} ({h.distance_mm:.1f} mm)")
    return lines + [f"- {r}" for r in score.reasons]


class TeachingWidget(QWidget):
    """Pick a teaching case, plan it with the Needle Plan widget, submit, compare with the expert."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.attempt: Any = None  # needleplan.training.CaseAttempt of the case being planned
        self._image: Any = None  # the case's image layer
        self.setMinimumWidth(300)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
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
        buttons = QHBoxLayout()
        self.refresh_button = QPushButton("Refresh")
        self.starter_button = QPushButton("Build starter set")
        self.start_button = QPushButton("Start case")
        self.submit_button = QPushButton("Submit plan")
        self.submit_button.setEnabled(False)
        for b, slot in ((self.refresh_button, self.refresh), (self.starter_button, self.build_starter_set),
                        (self.start_button, self.start_selected), (self.submit_button, self.submit)):
            b.clicked.connect(lambda _=False, f=slot: f())
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.case_label = QLabel("")
        self.case_label.setWordWrap(True)
        lay.addWidget(self.case_label)
        self.result_label = QLabel("")
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.result_label)
        self.result_list = QListWidget()
        self.result_list.setWordWrap(True)
        lay.addWidget(self.result_list, stretch=1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        from needleplan.training.cases import default_cases_dir

        self.set_cases_dir(default_cases_dir())

    # --- the case library ----------------------------------------------------------------------

    def set_cases_dir(self, folder: Any) -> None:
        self.folder.setText(str(folder))
        self.refresh()

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Case library folder", self.folder.text())
        if path:
            self.set_cases_dir(path)

    def refresh(self) -> list:
        """List the cases of the folder (title, difficulty)."""
        from needleplan.training import list_cases

        got = self._guard(list_cases, self.folder.text() or None)
        self.cases.clear()
        for case in got or []:
            item = QListWidgetItem(f"{case.title} [{case.difficulty}]")
            item.setData(Qt.ItemDataRole.UserRole, case.folder)
            self.cases.addItem(item)
        if got is not None and not got:
            self.status.setText("No case in this folder: choose another, or Build starter set.")
        return got or []

    def build_starter_set(self, *, background: bool = True) -> Any:
        """Make the phantom starter cases in the folder (in a worker thread: rendering takes a while)."""
        from needleplan.training.starter import build_starter_set

        folder = self.folder.text() or None

        def done(result: Any) -> None:
            self.refresh()
            skipped = "".join(f"; left out {s}: {why}" for s, why in result.skipped)
            self.status.setText(f"Starter set: {len(result.made)} case(s) made{skipped}")

        return run_worker(self.status, build_starter_set, folder, done=done, background=background,
                          working="Building the starter cases...")

    # --- a turn --------------------------------------------------------------------------------

    def plan_widget(self) -> Any:
        """The Needle Plan dock widget (docked if it is not yet): the resident plans with it."""
        return plan_widget(self.viewer)

    def start_selected(self) -> Any:
        item = self.cases.currentItem()
        if item is None:
            self.status.setText("Choose a case in the list first.")
            return None
        return self.start(item.data(Qt.ItemDataRole.UserRole))

    def start(self, case: Any) -> Any:
        """Open a case (id or folder): its de-identified image, through the plugin's reader."""
        from needleplan.training import CaseAttempt

        others = [ly for ly in self.viewer.layers if _layers.image_source(ly) is not None and ly is not self._image]
        if others:
            self.status.setText("Close the open ultrasound image first: a teaching case starts on an empty "
                                "viewer, so no mark of another image counts in the resident's plan.")
            return None
        attempt = self._guard(CaseAttempt, case, resident=self.resident.text().strip() or None,
                              cases_dir=self.folder.text() or None)
        if attempt is None:
            return None
        self._clear_case()
        widget = self.plan_widget()
        self._image = self.viewer.open(str(attempt.image_path), plugin=PLUGIN)[0]
        widget.set_inputs(replace(widget.session.inputs, site=attempt.case.site))
        self.attempt = attempt
        c = attempt.case
        points = "".join(f"<br>- {p}" for p in c.teaching_points)
        self.case_label.setText(f"<b>{c.title}</b> ({c.difficulty}, site {c.site}){points}<br>"
                                "Mark the hazards and draw the needle with the Needle Plan panel, then Submit.")
        self.result_label.setText("")
        self.result_list.clear()
        self.submit_button.setEnabled(True)
        self.status.setText("")
        return attempt

    def _clear_case(self) -> None:
        """Remove the previous case: its image, every mark and needle, and the reference layer."""
        for layer in list(self.viewer.layers):
            meta = getattr(layer, "metadata", {}).get(_layers.META, {})
            if layer is self._image or meta.get("role") in ("structure", "needle") or \
                    meta.get("name") == REFERENCE_NAME:
                self.viewer.layers.remove(layer)
        self._image, self.attempt = None, None
        self.submit_button.setEnabled(False)

    def submit(self) -> Any:
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
        self.status.setText(f"Attempt kept for {kept.resident} (#{kept.plan_id})." if kept is not None
                            else "Not kept: enter the resident's name to keep attempts.")
        return score

    def result_shown(self) -> list[str]:
        """Result line and every line under it, as shown (for tests)."""
        return [self.result_label.text()] + [self.result_list.item(i).text() for i in range(self.result_list.count())]

    def show_reference(self) -> Any:
        """Draw the expert's plan (marks and needle) in one read-only layer (only after submitting)."""
        reference = self.attempt.reference  # the core refuses before submit
        image = self._image
        kw = _layers.shapes_layer_kwargs("other", image)
        kw.update(name=REFERENCE_NAME, edge_color=REFERENCE_COLOUR, face_color="transparent", opacity=0.85,
                  metadata={_layers.META: {"role": "overlay", "name": REFERENCE_NAME}})
        layer = self.viewer.add_shapes(**kw)
        for s in reference.structures:
            world, shape_type = _layers.structure_shape(s, image)
            layer.add(_layers.to_layer_data(layer, world), shape_type=shape_type, edge_color=REFERENCE_COLOUR)
        if reference.needle is not None:
            world = _layers.needle_shape(reference.needle, image, reference.image.frame_index)
            layer.add_lines([_layers.to_layer_data(layer, world)], edge_color=REFERENCE_COLOUR)
        layer.editable = False
        layer.locked = True
        return layer

    def reference_layer(self) -> Any:
        for layer in self.viewer.layers:
            if getattr(layer, "metadata", {}).get(_layers.META, {}).get("name") == REFERENCE_NAME:
                return layer
        return None

    def _guard(self, func: Any, *args: Any, **kw: Any) -> Any:
        return guarded(self.status, func, *args, **kw)
