"""Detector output: pixel detections, and their conversion to the plan's suggested structures.

Detectors report :class:`Detection` values in image pixels ``(row, col)``.  Only
:func:`to_structures` turns them into millimetres, through the image's real calibration: an
uncalibrated image has no millimetre output at all (docs/contracts.md §3), it raises
:class:`~needleplan.errors.CalibrationError` and the pixel detections remain available.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from needleplan.errors import CalibrationError

__all__ = ["Detection", "DetectionResult", "to_structures", "structure_dicts"]


@dataclass(frozen=True, slots=True)
class Detection:
    """One suggested structure in image pixels.

    Attributes
    ----------
    kind : str
        A plan structure kind (docs/contracts.md §4): ``skin``, ``fascia``, ``rib``, ``bone``,
        ``pleura``, ``vessel``, ``artery``, ``vein``.
    points_px : tuple of (float, float)
        Image indices ``(row, col)``; a polygon when ``closed`` else a polyline.
    closed : bool
        Polygon (True) or polyline (False).
    confidence : float
        0 to 1.
    evidence : str
        What the detector saw, in words ("shadow below, sliding present").
    label : str or None
        Optional name.
    values : Mapping
        Measured numbers behind the evidence (pixel units unless the key says ``_mm``).
    """

    kind: str
    points_px: tuple[tuple[float, float], ...]
    closed: bool
    confidence: float
    evidence: str
    label: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form in pixels."""
        return {
            "kind": self.kind,
            "points_px": [list(p) for p in self.points_px],
            "closed": self.closed,
            "suggested": True,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "label": self.label,
        }


@dataclass(frozen=True, slots=True)
class DetectionResult:
    """Everything the detectors found on one frame (or one cine).

    Attributes
    ----------
    detections : tuple of Detection
        Suggestions, in image pixels.
    frame_index : int
        The frame the positions refer to.
    calibrated : bool
        Whether the image has a length calibration (millimetre output possible).
    notes : tuple of str
        Cine and whole-frame observations ("lung sliding present", "no pleura-like line").
    """

    detections: tuple[Detection, ...]
    frame_index: int
    calibrated: bool
    notes: tuple[str, ...] = ()

    def of_kind(self, *kinds: str) -> list[Detection]:
        """Detections whose kind is one of ``kinds``."""
        return [d for d in self.detections if d.kind in kinds]


def to_structures(result: DetectionResult, calibration: Any) -> list[Any]:
    """Convert detections to plan :class:`~needleplan.plan.Structure` values in world mm.

    Each structure has ``suggested=True``, the detection's confidence and evidence, and the frame
    index.  World mm follow docs/contracts.md §3: ``world_mm = (index_px - origin_px) * spacing_mm``.

    Raises
    ------
    CalibrationError
        When the image has no length calibration (no millimetres without one).
    """
    from needleplan.plan import Structure

    if calibration is None or not getattr(calibration, "is_calibrated", False):
        reason = getattr(calibration, "reason", "no calibration given")
        raise CalibrationError(
            f"the image has no length calibration ({reason}); detections are available in pixels "
            "only: calibrate the image (two points of known distance) before adding them to a plan"
        )
    out = []
    for det in result.detections:
        mm = np.asarray(calibration.px_to_mm(np.asarray(det.points_px, dtype=float)), dtype=float)
        points_mm = tuple((round(float(r), 3), round(float(c), 3)) for r, c in mm)
        out.append(
            Structure(
                kind=det.kind,
                points_mm=points_mm,
                closed=det.closed,
                frame_index=result.frame_index,
                label=det.label,
                suggested=True,
                confidence=float(det.confidence),
                evidence=det.evidence,
            )
        )
    return out


def structure_dicts(structures: Iterable[Any]) -> list[dict[str, Any]]:
    """Plan-format dictionaries of structures (for ``--json``)."""
    out = []
    for s in structures:
        out.append(
            {
                "kind": s.kind,
                "points_mm": [list(p) for p in s.points_mm],
                "closed": s.closed,
                "frame_index": s.frame_index,
                "label": s.label,
                "suggested": True,
                "confidence": s.confidence,
                "evidence": s.evidence,
            }
        )
    return out
