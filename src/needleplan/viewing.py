"""What a viewer shows first, worked out without a GUI: the home view and the depth ruler.

For the plugin's first view (the whole calibrated image, as its Home button shows), its depth
ruler (millimetre ticks along the image's side, as ultrasound screens show) and its reader (which
files are plans).  Millimetres are world mm (``world_mm = (index_px - origin_px) * spacing_mm``),
``(row, col)`` order, row = depth.

Examples
--------
A 0 to 23.5 mm deep image: a tick every 1 mm, a labelled major tick every 10 mm.

>>> ticks = depth_ruler_ticks(0.0, 23.5)
>>> len(ticks), [t.depth_mm for t in ticks if t.major], [t.label for t in ticks if t.major]
(24, [0.0, 10.0, 20.0], ['0', '1 cm', '2 cm'])
>>> is_plan_path("case.plan.json"), is_plan_path("case.dcm")
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage.measure import find_contours

from needleplan.calibration import Calibration
from needleplan.errors import CalibrationError
from needleplan.geometry import point_shape_distance

__all__ = ["RulerTick", "depth_ruler_ticks", "home_box_mm", "PLAN_SUFFIX", "is_plan_path", "margin_zone_outline_mm"]

#: plan files end in this (the reader's filename pattern is ``*`` + PLAN_SUFFIX)
PLAN_SUFFIX = ".plan.json"


def is_plan_path(path: str | Path) -> bool:
    """Whether ``path`` names a plan file (by its name; the file is not read)."""
    return Path(path).name.lower().endswith(PLAN_SUFFIX)


@dataclass(frozen=True, slots=True)
class RulerTick:
    """One tick of the depth ruler: its depth below the skin line, major or not, and its label."""

    depth_mm: float
    major: bool
    label: str | None


def depth_ruler_ticks(
    top_mm: float, bottom_mm: float, *, minor_mm: float = 1.0, major_mm: float = 10.0
) -> tuple[RulerTick, ...]:
    """Ticks every ``minor_mm`` from ``top_mm`` to ``bottom_mm`` (inclusive), majors labelled in cm.

    Ticks start at the first multiple of ``minor_mm`` at or below ``top_mm``'s depth and never go
    above the skin (0 mm).  ``major_mm`` must be a whole multiple of ``minor_mm``.

    >>> [t.depth_mm for t in depth_ruler_ticks(-1.5, 2.2, minor_mm=0.5)]
    [0.0, 0.5, 1.0, 1.5, 2.0]
    """
    if not (minor_mm > 0 and major_mm > 0) or not math.isfinite(top_mm + bottom_mm):
        raise CalibrationError("the depth ruler needs finite depths and positive tick spacings")
    ratio = major_mm / minor_mm
    if abs(ratio - round(ratio)) > 1e-9:
        raise CalibrationError(
            f"major ticks every {major_mm:g} mm are not a multiple of the minor ticks every {minor_mm:g} mm"
        )
    first = max(0, math.ceil(max(top_mm, 0.0) / minor_mm - 1e-9))
    last = math.floor(bottom_mm / minor_mm + 1e-9)
    every = int(round(ratio))
    ticks = []
    for n in range(first, last + 1):
        depth = round(n * minor_mm, 9)
        major = n % every == 0
        label = None
        if major:
            cm = depth / 10.0
            label = "0" if depth == 0 else f"{cm:g} cm"
        ticks.append(RulerTick(depth, major, label))
    return tuple(ticks)


def home_box_mm(calibration: Calibration, shape_px: tuple[int, int]) -> tuple[float, float, float, float]:
    """``(top, left, bottom, right)`` world mm of the calibrated region's outer pixel edges.

    The whole calibrated image for a view's Home: the region box for an ultrasound-region
    calibration, else the whole image.  Raises CalibrationError for an uncalibrated image.

    >>> from needleplan.calibration import Calibration
    >>> cal = Calibration(source="PIXEL_SPACING", spacing_mm=(0.2, 0.2), origin_px=(0.0, 50.0),
    ...                   region_index=None, region_box_px=None, reason="test")
    >>> home_box_mm(cal, (100, 200))
    (-0.1, -10.1, 19.9, 29.9)
    """
    if calibration.spacing_mm is None:  # the same as not is_calibrated
        raise CalibrationError("an uncalibrated image has no millimetre view: show it in pixels")
    rows, cols = shape_px
    box = calibration.region_box_px or (0, 0, rows - 1, cols - 1)
    r0, c0, r1, c1 = box
    (sr, sc), (orow, ocol) = calibration.spacing_mm, calibration.origin_px
    return (
        round((r0 - 0.5 - orow) * sr, 9),
        round((c0 - 0.5 - ocol) * sc, 9),
        round((r1 + 0.5 - orow) * sr, 9),
        round((c1 + 0.5 - ocol) * sc, 9),
    )


def margin_zone_outline_mm(
    points_mm: Sequence[Sequence[float]], margin_mm: float, *, steps_per_margin: int = 8
) -> np.ndarray:
    """The outline ``(N, 2)`` mm of everything within ``margin_mm`` of a closed shape, to draw filled.

    A hazard drawn as a polygon with an edge ``2 * margin`` wide shows spikes at its corners (the
    edge's mitre joins) that reach far past the margin; this outline is the true zone: the iso-line
    at ``margin_mm`` of the distance to the shape, traced on a grid ``margin_mm / steps_per_margin``
    fine, so it lies within one grid step of the exact offset curve.

    Examples
    --------
    A 10 x 10 mm square and a 5 mm margin: the zone reaches 5 mm past each side (rows -5 .. 15) and
    its corners are rounded (the corner point (-5, -5) is 7.1 mm away, outside):

    >>> square = [[0, 0], [0, 10], [10, 10], [10, 0]]
    >>> ring = margin_zone_outline_mm(square, 5.0)
    >>> bool(abs(ring[:, 0].min() + 5.0) < 0.7 and abs(ring[:, 0].max() - 15.0) < 0.7)
    True
    >>> bool(np.all(np.hypot(ring[:, 0] + 5, ring[:, 1] + 5) > 2.0))
    True
    """
    shape = np.asarray(points_mm, float)
    step = margin_mm / steps_per_margin
    low = shape.min(axis=0) - margin_mm - 2 * step
    high = shape.max(axis=0) + margin_mm + 2 * step
    rows = np.arange(low[0], high[0] + step, step)
    cols = np.arange(low[1], high[1] + step, step)
    grid = np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)
    distance = point_shape_distance(grid, shape, closed=True).reshape(rows.size, cols.size)
    contours = find_contours(distance, margin_mm)
    ring = max(contours, key=len)  # the zone of one closed shape is one connected piece
    return np.asarray(low + ring * step, float)
