"""How far apart two marks of the same structure are, and where a tip lies relative to a needle.

All inputs are world millimetres ``(row, col)``; a closed mark is a polygon whose boundary is
compared (a vessel drawn as an outline), an open one a polyline (a pleural line).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan.geometry import as_points, point_segments_distance, segments_of

__all__ = ["resample", "curve_distances", "CurveDistance", "split_along_across", "direction_angle_deg"]

#: Spacing of the points a mark is resampled to before distances are taken (mm).
RESAMPLE_STEP_MM = 0.25


def resample(points: Any, closed: bool, step_mm: float = RESAMPLE_STEP_MM) -> np.ndarray:
    """Points every ``step_mm`` along a polyline (or polygon boundary), vertices included.

    Examples
    --------
    >>> resample([[0.0, 0.0], [0.0, 1.0]], closed=False, step_mm=0.5).tolist()
    [[0.0, 0.0], [0.0, 0.5], [0.0, 1.0]]
    """
    a, b = segments_of(points, closed)
    out = []
    for p, q in zip(a, b, strict=True):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / step_mm))
        t = np.arange(n, dtype=float)[:, None] / n
        out.append(p + t * (q - p))
    out.append(b[-1:])
    return np.concatenate(out)


@dataclass(frozen=True, slots=True)
class CurveDistance:
    """Mean symmetric and Hausdorff distance between two marks (mm)."""

    mean_mm: float
    hausdorff_mm: float


def curve_distances(a: Any, a_closed: bool, b: Any, b_closed: bool) -> CurveDistance:
    """Distances between two marks: the mean of the two one-sided mean closest-point distances
    (the average symmetric surface distance of segmentation scoring) and the Hausdorff distance.

    Examples
    --------
    Two parallel 10 mm lines 3 mm apart:

    >>> d = curve_distances([[0, 0], [0, 10]], False, [[3, 0], [3, 10]], False)
    >>> round(d.mean_mm, 6), round(d.hausdorff_mm, 6)
    (3.0, 3.0)

    A line and the same line 2 mm longer: the overhang costs little on average, the full 2 mm
    at its worst.  Resampled every 0.25 mm the longer line has 49 points, 8 of them on the
    overhang at 0.25, 0.5, ... 2.0 mm (sum 9 mm); the shorter line lies on the longer one (0), so
    mean = (0 + 9 / 49) / 2 = 0.0918:

    >>> d = curve_distances([[0, 0], [0, 10]], False, [[0, 0], [0, 12]], False)
    >>> round(d.hausdorff_mm, 6), round(d.mean_mm, 4)
    (2.0, 0.0918)
    """
    pa, pb = resample(a, a_closed), resample(b, b_closed)
    d_ab = point_segments_distance(pa, *segments_of(b, b_closed)).min(axis=1)
    d_ba = point_segments_distance(pb, *segments_of(a, a_closed)).min(axis=1)
    mean = 0.5 * (float(d_ab.mean()) + float(d_ba.mean()))
    return CurveDistance(mean, float(max(d_ab.max(), d_ba.max())))


def split_along_across(tip_mm: Any, reference_tip_mm: Any, reference_entry_mm: Any) -> tuple[float, float]:
    """Split a tip error into its part along the reference needle and across it (mm).

    ``along`` is signed: positive means past the reference tip (deeper along the needle),
    negative short of it.  ``across`` is the unsigned distance from the reference needle's line.

    Examples
    --------
    Reference needle from (0, 0) to (3, 4) (5 mm long, direction (0.6, 0.8)); a tip 3 mm further
    along it, at (3 + 1.8, 4 + 2.4):

    >>> [round(v, 6) for v in split_along_across([4.8, 6.4], [3, 4], [0, 0])]
    [3.0, 0.0]

    A tip 2 mm beside the reference tip, perpendicular to the needle (direction (0.8, -0.6)):

    >>> [round(v, 6) for v in split_along_across([4.6, 2.8], [3, 4], [0, 0])]
    [0.0, 2.0]
    """
    tip, ref_tip, entry = (as_points(p)[0] for p in (tip_mm, reference_tip_mm, reference_entry_mm))
    axis = ref_tip - entry
    length = float(np.hypot(*axis))
    if length == 0.0:
        raise ValueError("the reference needle has zero length (entry equals target)")
    u = axis / length
    err = tip - ref_tip
    # rounded to 1e-12 mm so float noise does not print as -0.0
    along = round(float(err @ u), 12) + 0.0
    across = round(abs(float(err[0] * u[1] - err[1] * u[0])), 12)
    return along, across


def direction_angle_deg(entry_a: Any, tip_a: Any, entry_b: Any, tip_b: Any) -> float:
    """Angle (deg, 0-180) between two needles' directions, entry to tip.

    Examples
    --------
    >>> round(direction_angle_deg([0, 0], [10, 10], [0, 0], [0, 10]), 6)
    45.0
    >>> round(direction_angle_deg([0, 0], [10, 10], [0, 0], [10, -10]), 6)
    90.0
    """
    u = as_points(tip_a)[0] - as_points(entry_a)[0]
    v = as_points(tip_b)[0] - as_points(entry_b)[0]
    cross = float(u[0] * v[1] - u[1] * v[0])
    return abs(math.degrees(math.atan2(cross, float(u @ v))))
