"""The physical range a length calibration must lie in before it is used.

A calibration outside this range is a damaged or edited header, never a real image: it is refused
exactly like a missing one (source ``NONE``, the reason says which value and the range), so no
millimetre is ever computed from it.

Where the numbers come from (issue 16; docs/ultrasound-calibration.md section 2 for the policy, the
real files in tests/data/real_dicom for the values scanners write):

* B-mode pixels: a linear probe shows 2-4 cm of depth on 400-1,000 screen rows (about
  0.03-0.1 mm/px; the finest real file here, GREYSCALE_IMAGE.dcm, is 0.065 mm/px) and a curved
  abdominal probe up to 30 cm on 300 rows (1 mm/px).  CT and MR PixelSpacing is 0.2-2 mm, projection
  detectors 0.05-0.2 mm.  ``0.005-5 mm/px`` keeps a factor of 5 or more of margin on both sides and
  still refuses the fuzzed values (50 mm/px, 20 mm/px, 1e-11 mm/px).
* The origin (the probe face) lies on or near the image; a damaged reference pixel or Reference
  Pixel Physical Value puts it thousands of images away (or at infinity).  Ten image sizes away in
  either axis is refused.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from needleplan.clinical.plausible_ranges import PLAN_RANGES

__all__ = ["MIN_SPACING_MM", "MAX_SPACING_MM", "MAX_ORIGIN_IMAGE_SIZES", "spacing_problem", "origin_problem"]

#: smallest plausible pixel size of a length calibration, mm/px (see the module docstring); the one
#: table of physical ranges (:data:`needleplan.clinical.plausible_ranges.PLAN_RANGES`) holds it, so a
#: plan file's calibration and an image header are held to the same range
MIN_SPACING_MM = PLAN_RANGES["calibration.spacing_mm"].low
#: largest plausible pixel size of a length calibration, mm/px
MAX_SPACING_MM = PLAN_RANGES["calibration.spacing_mm"].high
#: how many image heights (widths) away from the image the origin may lie
MAX_ORIGIN_IMAGE_SIZES = 10


def spacing_problem(spacing_mm: Sequence[float]) -> str | None:
    """Why a ``(row, col)`` mm/px pair cannot be a real pixel size, or None when it can.

    Examples
    --------
    >>> spacing_problem((0.25, 0.25)) is None
    True
    >>> spacing_problem((50.0, 0.26))   # PhysicalDeltaY 5 cm/px
    '50 x 0.26 mm/px is outside the plausible 0.005-5 mm/px of an image pixel'
    """
    row, col = (float(v) for v in spacing_mm)
    if not (math.isfinite(row) and math.isfinite(col)):
        return f"{row:.4g} x {col:.4g} mm/px is not a finite pixel size"
    if all(MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in (row, col)):
        return None
    return (
        f"{row:.4g} x {col:.4g} mm/px is outside the plausible {MIN_SPACING_MM:g}-{MAX_SPACING_MM:g} mm/px "
        "of an image pixel"
    )


def origin_problem(origin_px: Sequence[float], rows: int | None, cols: int | None) -> str | None:
    """Why an origin ``(row, col)`` cannot be where the probe is, or None when it can.

    Examples
    --------
    >>> origin_problem((36.0, 340.0), 600, 800) is None
    True
    >>> origin_problem((float("inf"), 344.0), 498, 706)
    'its origin (row inf, col 344) is not a finite position'
    >>> origin_problem((-9000.0, 10.0), 600, 800)
    'its origin (row -9000, col 10) lies more than 10 image sizes outside the 600x800 image'
    """
    row, col = (float(v) for v in origin_px)
    if not (math.isfinite(row) and math.isfinite(col)):
        return f"its origin (row {row:.4g}, col {col:.4g}) is not a finite position"
    if not rows or not cols:
        return None
    k = MAX_ORIGIN_IMAGE_SIZES
    if -k * rows <= row <= (k + 1) * rows and -k * cols <= col <= (k + 1) * cols:
        return None
    return f"its origin (row {row:.4g}, col {col:.4g}) lies more than {k} image sizes outside the {rows}x{cols} image"
