"""The calibration line of the dock and, on an uncalibrated image, the ruler row (draw, distance, Apply)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from needleplan_napari import _findings
from needleplan_napari._qt._helpers import spin
from needleplan_napari._ruler import Ruler
from needleplan_napari._state import SessionState

if TYPE_CHECKING:
    from needleplan.calibration import Calibration
    from needleplan_napari._session import PlanSession

__all__ = ["CalibrationBox"]


class CalibrationBox(QWidget):
    """Where the lengths come from; the ruler row shows only while the image has no length calibration.

    ``guard(func, *args)`` runs a model call and shows its failure (the dock's status line).
    """

    def __init__(self, session: PlanSession, guard: Callable, say: Callable[[str], None]) -> None:
        super().__init__()
        self.ruler = Ruler(session)
        self._guard, self._say = guard, say
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
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
        self.ruler_button.clicked.connect(lambda _=False: self.ruler.start())
        self.apply_cal_button.clicked.connect(lambda _=False: self.apply_ruler())
        lay.addWidget(self.calibrate_row)

    def apply_ruler(self) -> Calibration | None:
        if not self.ruler.has_line():
            self._say("Draw the ruler line first (two ticks of known distance).")
            return None
        return self._guard(self.ruler.apply, self.ruler_mm.value())

    def show_state(self, state: SessionState) -> None:
        text, calibrated = _findings.calibration_text(state)
        self.calibration_label.setText(text)
        self.calibrate_row.setVisible(state.calibration is not None and not calibrated)
