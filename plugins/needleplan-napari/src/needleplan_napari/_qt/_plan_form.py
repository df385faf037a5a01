"""The form of the Needle Plan dock: needle choices (Plan tab) and patient and injectate (Patient tab).

Both only hold what the physician picks; :func:`form_inputs` turns them into one
:class:`~needleplan_napari._state.PlanInputs` for the session.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QCheckBox, QComboBox, QFormLayout, QHBoxLayout, QWidget

from needleplan_napari._qt._helpers import set_combo, spin
from needleplan_napari._state import PlanInputs

__all__ = ["NeedleForm", "PatientForm", "form_inputs", "fill_form", "GAUGES"]

#: Needle gauges offered (the core checks none of them; a plan may carry any gauge).
GAUGES = (18, 20, 21, 22, 23, 25, 27, 30)
_DEFAULT_GAUGE = "25 G"


class NeedleForm(QWidget):
    """Site, approach, needle length and gauge; ``changed`` fires on any edit (not while filling)."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        from needleplan.clinical import SITE_PROFILES
        from needleplan.plan import APPROACHES
        from needleplan.vocabulary import NEEDLE_PRESETS_MM

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.site = QComboBox()
        self.site.addItems([str(site) for site in SITE_PROFILES])
        self.approach = QComboBox()
        self.approach.addItems(list(APPROACHES))
        self.needle_length = QComboBox()
        self.needle_length.addItems([f"{v:g} mm" for v in NEEDLE_PRESETS_MM])
        self.needle_length.setCurrentIndex(1)
        self.gauge = QComboBox()
        self.gauge.addItems([f"{g} G" for g in GAUGES])
        self.gauge.setCurrentText(_DEFAULT_GAUGE)
        needle_row = QHBoxLayout()
        needle_row.addWidget(self.needle_length)
        needle_row.addWidget(self.gauge)
        form.addRow("Site", self.site)
        form.addRow("Approach", self.approach)
        form.addRow("Needle", needle_row)
        for combo in (self.site, self.approach, self.needle_length, self.gauge):
            combo.currentIndexChanged.connect(self._changed)

    def _changed(self, *_: Any) -> None:
        self.changed.emit()

    def fields(self) -> dict[str, Any]:
        return {
            "site": self.site.currentText(),
            "approach": self.approach.currentText(),
            "needle_length_mm": float(self.needle_length.currentText().split()[0]),
            "gauge": int(self.gauge.currentText().split()[0]),
        }

    def show_inputs(self, i: PlanInputs) -> None:
        set_combo(self.site, i.site)
        set_combo(self.approach, i.approach)
        set_combo(self.needle_length, f"{i.needle_length_mm:g} mm", add=True)
        set_combo(self.gauge, f"{i.gauge} G" if i.gauge else _DEFAULT_GAUGE, add=True)


class PatientForm(QWidget):
    """BMI, weight, sex, lung disease, anticoagulation and one injectate (the Patient tab)."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        form = QFormLayout(self)
        self.bmi = spin(0.0, 80.0, 0.0, " kg/m2", special="unknown")
        self.weight = spin(0.0, 300.0, 0.0, " kg", special="unknown")
        self.sex = QComboBox()
        self.sex.addItems(["", "F", "M", "O"])
        self.lung_disease = QCheckBox("COPD, emphysema or other lung disease")
        self.anticoagulated = QCheckBox("on anticoagulants / antiplatelets")
        from needleplan.vocabulary import Drug

        self.drug = QComboBox()
        self.drug.addItems(["", *(str(d) for d in Drug)])  # "": no injectate
        self.concentration = spin(0.0, 10.0, 1.0, " %")
        self.volume = spin(0.0, 100.0, 2.0, " mL")
        self.epinephrine = QCheckBox("with epinephrine")
        for label, x in (
            ("BMI", self.bmi),
            ("Weight", self.weight),
            ("Sex", self.sex),
            ("", self.lung_disease),
            ("", self.anticoagulated),
            ("Injectate", self.drug),
            ("Concentration", self.concentration),
            ("Volume", self.volume),
            ("", self.epinephrine),
        ):
            form.addRow(label, x)
        for s in (self.bmi, self.weight, self.concentration, self.volume):
            s.valueChanged.connect(self._changed)
        for c in (self.sex, self.drug):
            c.currentIndexChanged.connect(self._changed)
        for b in (self.lung_disease, self.anticoagulated, self.epinephrine):
            b.toggled.connect(self._changed)

    def _changed(self, *_: Any) -> None:
        self.changed.emit()

    def fields(self) -> dict[str, Any]:
        drug = self.drug.currentText()
        return {
            "bmi": self.bmi.value() or None,
            "weight_kg": self.weight.value() or None,
            "sex": self.sex.currentText() or None,
            "lung_disease": self.lung_disease.isChecked(),
            "anticoagulated": self.anticoagulated.isChecked(),
            "injectate": ((drug, self.concentration.value(), self.volume.value(), self.epinephrine.isChecked()),)
            if drug
            else (),
        }

    def show_inputs(self, i: PlanInputs) -> None:
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


def form_inputs(needle: NeedleForm, patient: PatientForm) -> PlanInputs:
    """The form's values as the session takes them."""
    return PlanInputs(**needle.fields(), **patient.fields())


def fill_form(needle: NeedleForm, patient: PatientForm, i: PlanInputs) -> None:
    """Show ``i`` in both forms without a ``changed`` per field."""
    for form in (needle, patient):
        was = form.blockSignals(True)
        try:
            form.show_inputs(i)
        finally:
            form.blockSignals(was)
