"""Which calibrated ultrasound region each point lies in (dual views keep their own origins).

A needle or mark must lie in one length region: :func:`region_lookup` says which, or why not
(``CROSS_REGION`` in the safety check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan.calibration._values import UltrasoundRegion, points_array

__all__ = ["RegionLookup", "region_lookup"]


@dataclass(frozen=True, slots=True)
class RegionLookup:
    """Which calibrated region holds a measurement's points.

    ``status`` is ``"inside"`` (all points in ``region_index``), ``"spans"`` (points in different
    calibrated regions, or in overlapping regions that disagree) or ``"none"`` (some point lies in no
    calibrated region).  ``point_regions`` gives, per point, the region it was found in (or None).
    """

    status: str
    region_index: int | None
    message: str
    point_regions: tuple[int | None, ...] = ()


def region_lookup(regions: Iterable[UltrasoundRegion], index_px: Any) -> RegionLookup:
    """Find the one usable length region that holds every point ``(row, col)``.

    Regions with the same spacing and origin (a colour box inside its tissue box) are one
    calibration: they are named by the largest of them (ties: the lowest index), the region
    :func:`~needleplan.calibration.calibration_from_dataset` picks.  Where regions of different
    scale overlap, a single high-priority one (flags bit 0 == 0) wins; otherwise the points are
    ambiguous (``"spans"``).

    Examples
    --------
    Dual view: two tissue regions side by side, each with its own origin.

    >>> left = UltrasoundRegion(index=0, box_px=(0, 0, 99, 99), spatial_format=1, data_type=1, flags=0,
    ...                         units_row=3, units_col=3, delta_row=0.02, delta_col=0.02, reference_px=(0.0, 50.0))
    >>> right = UltrasoundRegion(index=1, box_px=(0, 100, 99, 199), spatial_format=1, data_type=1, flags=0,
    ...                          units_row=3, units_col=3, delta_row=0.02, delta_col=0.02,
    ...                          reference_px=(0.0, 50.0))
    >>> region_lookup([left, right], [[10, 10], [50, 60]]).status
    'inside'
    >>> lk = region_lookup([left, right], [[10, 10], [50, 160]])
    >>> lk.status, lk.point_regions
    ('spans', (0, 1))
    >>> region_lookup([left, right], [[150, 10]]).status
    'none'
    """
    pts = points_array(index_px)
    usable = [r for r in regions if r.is_usable]
    if not usable:
        return RegionLookup("none", None, "the image has no usable calibrated ultrasound region", (None,) * len(pts))
    # one representative per calibration (same spacing and origin): the largest, then lowest index
    rep: dict[tuple, int] = {}
    for r in sorted(usable, key=lambda r: (-r.area_px, r.index)):
        rep.setdefault((r.spacing_mm, r.origin_px), r.index)
    inside = np.array([r.contains(pts) for r in usable])  # (R, N)
    per_point: list[int | None] = []
    ambiguous: list[int] = []
    for k in range(len(pts)):
        holders = [r for i, r in enumerate(usable) if inside[i, k]]
        reps = {rep[(r.spacing_mm, r.origin_px)] for r in holders}
        if len(reps) > 1:
            high = {rep[(r.spacing_mm, r.origin_px)] for r in holders if not r.flags & 1}
            if len(high) == 1:
                reps = high
            else:
                ambiguous.append(k)
                largest = max(holders, key=lambda r: r.area_px)
                reps = {rep[(largest.spacing_mm, largest.origin_px)]}
        per_point.append(next(iter(reps)) if reps else None)
    by_index = {r.index: r for r in usable}
    missing = [k for k, p in enumerate(per_point) if p is None]
    if missing:
        row, col = pts[missing[0]]
        return RegionLookup(
            "none",
            None,
            f"point {missing[0]} at (row {row:.0f}, col {col:.0f}) lies in no calibrated region",
            tuple(per_point),
        )
    if ambiguous:
        row, col = pts[ambiguous[0]]
        return RegionLookup(
            "spans",
            None,
            f"point {ambiguous[0]} at (row {row:.0f}, col {col:.0f}) lies in overlapping regions "
            "with different scales and no single high-priority one",
            tuple(per_point),
        )
    used = sorted({p for p in per_point if p is not None})  # none is None here: missing ones returned above
    if len(used) == 1:
        return RegionLookup("inside", used[0], f"all points lie in {by_index[used[0]].describe()}", tuple(per_point))
    return RegionLookup(
        "spans",
        None,
        f"the points lie in different regions ({', '.join(map(str, used))}); a length across two views is meaningless",
        tuple(per_point),
    )
