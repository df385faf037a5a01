"""Pixel <-> millimetre calibration: ultrasound regions, PixelSpacing, manual two-point.

Axis order is ``(row, col)`` everywhere.  World millimetres are
``world_mm = (index_px - origin_px) * spacing_mm`` per axis (docs/contracts.md §3).  A length comes
only from a real calibration; without one the source is ``"NONE"`` with the reason, and asking for
millimetres raises :class:`~needleplan.errors.CalibrationError`.  Never 1 px = 1 mm.

Policy (docs/ultrasound-calibration.md §1.3-1.5):

* Only 2D regions (spatial format 1) of tissue (1) or colour flow (2) with cm (3) on both axes give
  lengths; mm/px = ``|PhysicalDelta| * 10`` per axis (row from Y, column from X).
* ``origin_px`` is the region's min corner plus its reference pixel (relative to that corner, may be
  negative); the region's min corner when it has no reference pixel.
* A box whose max lies exactly one past the image edge (``MaxX1 == Columns``) is clamped, with a
  note.  A box lying further outside the image (a resized or cropped copy) is refused: that region
  never calibrates, and the reason says why.
* A length calibration outside the plausible 0.005-5 mm/px, or whose origin is not finite or lies
  more than ten image sizes off the image, is refused like a missing one (NONE with the reason);
  :mod:`needleplan.calibration._plausible` holds the numbers and where they come from.  A manual
  calibration outside the range raises :class:`~needleplan.errors.CalibrationError`.
* When several length regions are usable (dual view, colour box inside a tissue box),
  :func:`calibration_from_dataset` picks the largest (ties: the lowest index) and notes the others;
  :func:`region_lookup` tells, per measurement, which region holds its points.
* Without any length region: PixelSpacing (0028,0030) (also from the Enhanced functional groups),
  else ImagerPixelSpacing (0018,1164) for projection modalities (detector plane, a note says so).
  When a region and PixelSpacing are both present they are compared; a disagreement is a note.
"""

from needleplan.calibration._dicom import (
    SPACING_AGREEMENT_REL,
    calibration_from_dataset,
    regions_from_dataset,
)
from needleplan.calibration._lookup import RegionLookup, region_lookup
from needleplan.calibration._plausible import (
    MAX_ORIGIN_IMAGE_SIZES,
    MAX_SPACING_MM,
    MIN_SPACING_MM,
    origin_problem,
    spacing_problem,
)
from needleplan.calibration._values import SOURCES, Calibration, UltrasoundRegion, manual_calibration

__all__ = [
    "SOURCES",
    "MIN_SPACING_MM",
    "MAX_SPACING_MM",
    "MAX_ORIGIN_IMAGE_SIZES",
    "spacing_problem",
    "origin_problem",
    "SPACING_AGREEMENT_REL",
    "UltrasoundRegion",
    "Calibration",
    "RegionLookup",
    "regions_from_dataset",
    "calibration_from_dataset",
    "manual_calibration",
    "region_lookup",
]
