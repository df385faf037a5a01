"""Assisted marking: classical image analysis that suggests skin, fascia, ribs, pleura and vessels.

Suggestions only: every structure comes with ``suggested=True``, a confidence and the evidence the
detector saw; the physician accepts or corrects it.  No model weights: scipy and scikit-image
filters, thresholds and geometry, each cue taken from docs/clinical-rules.md table 1I.

Positions are found in image pixels and converted to world millimetres only through the image's real
calibration (:func:`to_structures`); an uncalibrated image gives pixel results and no millimetres.

Modules: :mod:`~needleplan.detect.ribs` (cortex + shadow), :mod:`~needleplan.detect.pleura`,
:mod:`~needleplan.detect.surface` (skin, fascia), :mod:`~needleplan.detect.vessels`,
:mod:`~needleplan.detect.sliding` and :mod:`~needleplan.detect.pulsation` (cine),
:mod:`~needleplan.detect.analyse` (one frame), :mod:`~needleplan.detect.cine` (a cine).
"""

from __future__ import annotations

from needleplan.detect.analyse import analyse_frame, detect_frame, is_thoracic_site
from needleplan.detect.cine import CineMeasures, NotUltrasoundError, detect_cine, detect_image
from needleplan.detect.results import Detection, DetectionResult, structure_dicts, to_structures

__all__ = [
    "CineMeasures",
    "Detection",
    "DetectionResult",
    "NotUltrasoundError",
    "analyse_frame",
    "detect_cine",
    "detect_frame",
    "detect_image",
    "is_thoracic_site",
    "structure_dicts",
    "to_structures",
]
