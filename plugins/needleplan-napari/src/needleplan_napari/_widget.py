"""The Needle Plan dock widget: a thin view over :class:`~needleplan_napari._session.PlanSession`.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#widgets

Holds no geometry: every button calls the session (or ``_plan_io``) and the findings panel only
formats the core's report.  Two tabs keep it usable at 1280x800: "Plan" (calibration, marking,
needle, findings, suggest, save/open) and "Patient" (patient fields and injectate).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel,
    QListWidget, QListWidgetItem, QPushButton, QTabWidget, QVBoxLayout, QWidget,
)

from needleplan_napari import _findings, _plan_io
from needleplan_napari._qt_helpers import Call, MarkKey, canvas_overlay, set_combo, spin
from needleplan_napari._session import PlanInputs, PlanSession
from needleplan_napari._suggestions_panel import SuggestionPanel

if TYPE_CHECKING:
    import napari

__all__ = ["PlanWidget", "NEEDLE_PRESETS_MM", "SHORTCUTS"]

NEEDLE_PRESETS_MM = (25.0, 38.0, 50.0, 89.0)  # 1, 1.5, 2 and 3.5 inch
GAUGES = (18, 20, 21, 22, 23, 25, 27, 30)
DRUGS = ("", "lidocaine", "bupivacaine", "ropivacaine", "mepivacaine")
#: Alt+key: napari's own Shift+letter shortcuts (polygon lasso, polyline, select all...) stay intact.
SHORTCUTS = {
    "Alt-T": "target", "Alt-P": "pleura", "Alt-R": "rib", "Alt-V": "vessel", "Alt-A": "artery",
    "Alt-E": "vein", "Alt-N": "nerve", "Alt-K": "skin", "Alt-B": "bone", "Alt-L": "needle",
}
_KINDS = ("target", "pleura", "rib", "vessel", "artery", "vein", "nerve", "skin", "bone", "needle")


class PlanWidget(QWidget):
    """Mark, plan, see the warnings live, suggest, save and open (one dock widget)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__()
        self.viewer = napari_viewer
        self.session = PlanSession(napari_viewer)
        self.setMinimumWidth(300)
        tabs = QTabWidget()
        tabs.addTab(self._plan_tab(), "Plan")
        tabs.addTab(self._patient_tab(), "Patient")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(tabs)
        self.session.updated.connect(self._show_state)
        self.session.suggested.connect(self._show_suggestion)
        self.session.inputs_loaded.connect(self.set_inputs)
        self._enable()

    # --- building ---------------------------------------------------------------------------

    def _plan_tab(self) -> QWidget:
        w = QWidget()
        lay = QVBoxLayout(w)
        lay.setContentsMargins(2, 2, 2, 2)
        self.calibration_label = QLabel("No image: open an ultrasound DICOM (File > Open)")
        self.calibration_label.setWordWrap(True)
        lay.addWidget(self.calibration_label)
        self.calibrate_row = QWidget()
        row = QHBoxLayout(self.calibrate_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.ruler_button = QPushButton("Draw ruler line")
        self.ruler_button.setToolTip("Draw a line between two depth-ruler ticks, enter their distance, Apply")
        self.ruler_mm = spin(0.5, 200.0, 10.0, " mm")
        self.apply_cal_button = QPushButton("Apply")
        for x in (self.ruler_button, self.ruler_mm, self.apply_cal_button):
            row.addWidget(x)
        self.ruler_button.clicked.connect(self.start_ruler)
        self.apply_cal_button.clicked.connect(self._apply_ruler)
        lay.addWidget(self.calibrate_row)

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.site = QComboBox()
        from needleplan.anatomy import SITE_PROFILES

        self.site.addItems(list(SITE_PROFILES))
        self.approach = QComboBox()
        self.approach.addItems(["in_plane", "out_of_plane"])
        self.needle_length = QComboBox()
        self.needle_length.addItems([f"{v:g} mm" for v in NEEDLE_PRESETS_MM])
        self.needle_length.setCurrentIndex(1)
        self.gauge = QComboBox()
        self.gauge.addItems([f"{g} G" for g in GAUGES])
        self.gauge.setCurrentText("25 G")
        needle_row = QHBoxLayout()
        needle_row.addWidget(self.needle_length)
        needle_row.addWidget(self.gauge)
        form.addRow("Site", self.site)
        form.addRow("Approach", self.approach)
        form.addRow("Needle", needle_row)
        lay.addLayout(form)

        grid = QGridLayout()
        grid.setSpacing(2)
        keys = {v: k for k, v in SHORTCUTS.items()}
        self.mark_buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate(_KINDS):
            b = QPushButton(kind.capitalize())
            b.setToolTip(f"Mark {kind} ({keys[kind].replace('-', '+')})")
            b.clicked.connect(lambda _=False, k=kind: self.mark(k))
            grid.addWidget(b, i // 5, i % 5)
            self.mark_buttons[kind] = b
        lay.addLayout(grid)

        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.metrics_label)
        self.findings_list = QListWidget()
        self.findings_list.setWordWrap(True)
        self.findings_list.setMinimumHeight(120)
        lay.addWidget(self.findings_list, stretch=1)
        self.suggestions = SuggestionPanel(self.session)  # detector suggestions: Detect, Accept, Reject
        lay.addWidget(self.suggestions)

        actions = QGridLayout()
        self.suggest_button = QPushButton("Suggest (Alt+G)")
        # "Accept" belongs to the detector suggestions above; this one takes the suggested needle path.
        self.use_path_button = QPushButton("Use suggested path")
        self.use_path_button.setToolTip("Replace the drawn needle by the suggested trajectory (after Suggest)")
        self.use_path_button.setEnabled(False)
        self.save_button = QPushButton("Save plan...")
        self.open_button = QPushButton("Open plan...")
        self.report_button = QPushButton("Export report...")
        self.suggest_button.clicked.connect(self.suggest)
        self.use_path_button.clicked.connect(self.accept_suggestion)
        self.save_button.clicked.connect(self._save_dialog)
        self.open_button.clicked.connect(self._open_dialog)
        self.report_button.clicked.connect(self._report_dialog)
        buttons = (self.suggest_button, self.use_path_button, self.save_button, self.open_button, self.report_button)
        for i, b in enumerate(buttons):
            actions.addWidget(b, i // 2, i % 2)
        lay.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        for combo in (self.site, self.approach, self.needle_length, self.gauge):
            combo.currentIndexChanged.connect(self._inputs_changed)
        return w

    def _patient_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.bmi = spin(0.0, 80.0, 0.0, " kg/m2", special="unknown")
        self.weight = spin(0.0, 300.0, 0.0, " kg", special="unknown")
        self.sex = QComboBox()
        self.sex.addItems(["", "F", "M", "O"])
        self.lung_disease = QCheckBox("COPD, emphysema or other lung disease")
        self.anticoagulated = QCheckBox("on anticoagulants / antiplatelets")
        self.drug = QComboBox()
        self.drug.addItems(list(DRUGS))
        self.concentration = spin(0.0, 10.0, 1.0, " %")
        self.volume = spin(0.0, 100.0, 2.0, " mL")
        self.epinephrine = QCheckBox("with epinephrine")
        for label, x in (("BMI", self.bmi), ("Weight", self.weight), ("Sex", self.sex), ("", self.lung_disease),
                         ("", self.anticoagulated), ("Injectate", self.drug), ("Concentration", self.concentration),
                         ("Volume", self.volume), ("", self.epinephrine)):
            form.addRow(label, x)
        for s in (self.bmi, self.weight, self.concentration, self.volume):
            s.valueChanged.connect(self._inputs_changed)
        for c in (self.sex, self.drug):
            c.currentIndexChanged.connect(self._inputs_changed)
        for b in (self.lung_disease, self.anticoagulated, self.epinephrine):
            b.toggled.connect(self._inputs_changed)
        return w

    # --- lifecycle: napari hides a closed dock (no closeEvent), so hide/show drive it -------------

    def _enable(self) -> None:
        self.session.enable()
        for key, kind in SHORTCUTS.items():
            self.viewer.bind_key(key, MarkKey(self, kind), overwrite=True)
        self.viewer.bind_key("Alt-G", Call(self.suggest), overwrite=True)
        self.suggestions.enable()
        canvas_overlay(self.viewer, "scale_bar").visible = True
        canvas_overlay(self.viewer, "text").visible = True

    def _disable(self) -> None:
        self.session.disable()
        for key in (*SHORTCUTS, "Alt-G"):
            self.viewer.bind_key(key, None)
        self.suggestions.disable()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt
        self._enable()
        if event is not None:
            super().showEvent(event)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt
        self._disable()
        if event is not None:
            super().hideEvent(event)

    # --- actions (public: the tests and the shortcuts call these) --------------------------------

    def mark(self, kind: str) -> Any:
        return self.session.start_marking(kind)

    def set_needle(self, entry_mm: Any, tip_mm: Any) -> None:
        self.session.set_needle(entry_mm, tip_mm)

    def add_structure(self, kind: str, points_mm: Any, shape_type: str | None = None) -> None:
        self.session.add_structure(kind, points_mm, shape_type)

    def inputs(self) -> PlanInputs:
        drug = self.drug.currentText()
        return PlanInputs(
            site=self.site.currentText(), approach=self.approach.currentText(),
            needle_length_mm=float(self.needle_length.currentText().split()[0]),
            gauge=int(self.gauge.currentText().split()[0]),
            bmi=self.bmi.value() or None, weight_kg=self.weight.value() or None,
            sex=self.sex.currentText() or None, lung_disease=self.lung_disease.isChecked(),
            anticoagulated=self.anticoagulated.isChecked(),
            injectate=((drug, self.concentration.value(), self.volume.value(), self.epinephrine.isChecked()),)
            if drug else (),
        )

    def set_inputs(self, i: PlanInputs) -> None:
        """Fill the form (e.g. from an opened plan) without firing a check per field."""
        widgets = (self.site, self.approach, self.needle_length, self.gauge, self.bmi, self.weight, self.sex,
                   self.lung_disease, self.anticoagulated, self.drug, self.concentration, self.volume,
                   self.epinephrine)
        for x in widgets:
            x.blockSignals(True)
        try:
            set_combo(self.site, i.site)
            set_combo(self.approach, i.approach)
            set_combo(self.needle_length, f"{i.needle_length_mm:g} mm", add=True)
            set_combo(self.gauge, f"{i.gauge} G" if i.gauge else "25 G", add=True)
            self.bmi.setValue(i.bmi or 0.0)
            self.weight.setValue(i.weight_kg or 0.0)
            set_combo(self.sex, i.sex or "")
            self.lung_disease.setChecked(i.lung_disease)
            self.anticoagulated.setChecked(i.anticoagulated)
            drug, conc, vol, epi = i.injectate[0] if i.injectate else ("", 1.0, 2.0, False)
            set_combo(self.drug, drug, add=True)
            self.concentration.setValue(conc)
            self.volume.setValue(vol)
            self.epinephrine.setChecked(epi)
        finally:
            for x in widgets:
                x.blockSignals(False)
        self.session.set_inputs(i)

    def _inputs_changed(self, *_: Any) -> None:
        i = self.inputs()
        if i != self.session.inputs:
            self.session.set_inputs(i)

    def suggest(self, *, background: bool = True) -> Any:
        self.status.setText("Working out the safe angle window...")
        return self.session.suggest(background=background)

    def accept_suggestion(self) -> None:
        self.session.accept_suggestion()

    def start_ruler(self) -> None:
        image = self.session.image_layer()
        if image is None:
            return
        from needleplan_napari._layers import META, shapes_layer_kwargs

        for ly in self.viewer.layers:
            if getattr(ly, "metadata", {}).get(META, {}).get("role") == "calibration":
                ruler = ly
                break
        else:
            kw = shapes_layer_kwargs("needle", image)
            kw.update(name="calibration ruler", edge_color="#ff00ff",
                      metadata={META: {"role": "calibration", "kind": "ruler"}})
            ruler = self.viewer.add_shapes(**kw)
        self.viewer.layers.selection.active = ruler
        ruler.mode = "add_line"

    def _apply_ruler(self) -> None:
        from needleplan_napari._layers import META, world_vertices

        for ly in self.viewer.layers:
            if getattr(ly, "metadata", {}).get(META, {}).get("role") == "calibration" and len(ly.data):
                w = world_vertices(ly, len(ly.data) - 1)
                self.calibrate(w[0], w[-1], self.ruler_mm.value())
                self.viewer.layers.remove(ly)
                return
        self.status.setText("Draw the ruler line first (two ticks of known distance).")

    def calibrate(self, p0_world: Any, p1_world: Any, distance_mm: float) -> None:
        self._guard(_plan_io.two_point_calibration, self.session, p0_world, p1_world, distance_mm)

    def save_plan(self, path: Any) -> Any:
        plan = self._guard(_plan_io.save, self.session, path)
        if plan is not None:
            self.status.setText(f"Saved {path}")
        return plan

    def open_plan(self, path: Any, *, force: bool = False) -> Any:
        plan = self._guard(_plan_io.open_plan, self.session, path, force=force)
        if plan is not None:
            self.set_inputs(self.session.inputs)
            diff = _plan_io.saved_differences(plan, self.session.state.report)
            self.status.setText(f"Opened {path}" + ("; " + "; ".join(diff) if diff else ""))
        return plan

    def _guard(self, func: Any, *args: Any, **kw: Any) -> Any:
        from needleplan.errors import NeedleplanError

        try:
            return func(*args, **kw)
        except (NeedleplanError, OSError) as exc:
            self.status.setText(f"<b>Not done:</b> {exc}")
            return None

    def export_report(self, path: Any, *, background: bool = True) -> Any:
        """Write the report (PDF/PNG/HTML by suffix); the rendering runs in a worker thread."""
        got = self._guard(_plan_io.report_inputs, self.session)
        if got is None:
            return None
        plan, frame = got

        def done(pages: int) -> None:
            self.status.setText(f"Report written: {path} ({pages} page{'s' if pages != 1 else ''})")

        if not background:
            pages = self._guard(_plan_io.write_report_file, plan, frame, path)
            if pages is not None:
                done(pages)
            return pages
        from napari.qt.threading import create_worker

        self.status.setText("Writing the report...")
        worker = create_worker(_plan_io.write_report_file, plan, frame, path)
        worker.returned.connect(done)  # handlers run on the main thread
        worker.errored.connect(lambda exc: self.status.setText(f"<b>Not done:</b> {exc}"))
        worker.start()
        return worker

    def _report_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export report", "", "Report (*.pdf *.png *.html)")
        if path:
            self.export_report(path if path.lower().endswith((".pdf", ".png", ".html")) else path + ".pdf")

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save plan", "", "Needle plans (*.plan.json)")
        if path:
            self.save_plan(path if path.endswith(".json") else path + ".plan.json")

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open plan", "", "Needle plans (*.json)")
        if path:
            self.open_plan(path)

    # --- showing -----------------------------------------------------------------------------

    def _show_state(self, state: Any) -> None:
        cal_text, calibrated = _findings.calibration_text(state)
        self.calibration_label.setText(cal_text)
        self.calibrate_row.setVisible(state.calibration is not None and not calibrated)
        canvas_overlay(self.viewer, "text").text = _findings.overlay_text(state)
        self.metrics_label.setText(_findings.metrics_text(state))
        self.findings_list.clear()
        for severity, text in _findings.finding_lines(state):
            item = QListWidgetItem(text)
            item.setForeground(_findings.colour(severity))
            self.findings_list.addItem(item)

    def _show_suggestion(self, suggestion: Any) -> None:
        self.use_path_button.setEnabled(suggestion is not None)
        if suggestion is None:
            self.status.setText("No safe trajectory found from this target (or it was accepted).")
        else:
            n = suggestion.needle
            self.status.setText(f"Suggested: entry ({n.entry_mm[0]:.1f}, {n.entry_mm[1]:.1f}) mm; "
                                "press 'Use suggested path' to take it")

    def findings_shown(self) -> list[str]:
        """The lines in the findings panel, top to bottom (for tests and the benchmark)."""
        return [self.findings_list.item(i).text() for i in range(self.findings_list.count())]
