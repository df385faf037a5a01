"""Unit-free geometry of the drawn needle on the plan's raw points (crossings, ray order).

Whether a straight needle crosses a mark, and which mark a ray meets first, do not change under a
per-axis scaling, so these run on uncalibrated plans too; distances in mm come from
:func:`~needleplan.planner.needle_metrics` (calibrated plans only).

Examples
--------
A needle from (0, 0) to (10, 0) and a vessel box at rows 4-6, cols -1..1: it crosses it.

>>> from needleplan.plan import plan_from_dict
>>> plan = plan_from_dict({"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...     "calibration": {"source": "NONE", "origin_px": [0, 0]}, "site": "other",
...     "structures": [{"kind": "vessel", "points_mm": [[4, -1], [4, 1], [6, 1], [6, -1]], "closed": True}],
...     "needle": {"entry_mm": [0, 0], "target_mm": [10, 0], "length_mm": 38}})
>>> drawn_clearance(plan, None, 0, plan.structures[0])[0]
0.0
>>> float(first_hits(plan.structures, (0.0, 0.0), np.array([[1.0, 0.0]]))[0])    # the box top, 4 mm down
4.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from needleplan import geometry as g
from needleplan.plan import Plan, Structure
from needleplan.planner._metrics import NeedleMetrics

__all__ = ["needle_vectors", "drawn_clearance", "first_hits", "shortest_needle"]


def needle_vectors(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry, tip and unit direction of the drawn needle in the plan's coordinates."""
    n = plan.needle
    if n is None:
        raise ValueError("the plan has no needle")
    entry = np.asarray(n.entry_mm, dtype=float)
    tip = np.asarray(n.target_mm, dtype=float)
    d = tip - entry
    return entry, tip, d / max(float(np.hypot(*d)), 1e-12)


def drawn_clearance(
    plan: Plan, metrics: NeedleMetrics | None, index: int, structure: Structure | None
) -> tuple[float, float]:
    """(shaft, tip) distance from the drawn needle to a structure; 0 when it touches or crosses it.

    Taken from the planner's ``metrics`` when the plan is calibrated, else computed on the raw
    points (only "is it 0" is meaningful then).
    """
    if metrics is not None and index in metrics.by_structure:
        return metrics.by_structure[index]
    if structure is None:
        raise ValueError(f"structure {index} has no measured clearance and no points were given")
    entry, tip, _ = needle_vectors(plan)
    return (
        g.segment_shape_distance(entry, tip, structure.points_mm, structure.closed),
        float(g.point_shape_distance(tip, structure.points_mm, structure.closed)[0]),
    )


def first_hits(structures: Sequence[Structure], origin: ArrayLike, directions: np.ndarray) -> np.ndarray:
    """``(R,)``: distance along each ray from ``origin`` to the first of ``structures`` (inf: none)."""
    shapes = [(s.points_mm, s.closed) for s in structures]
    if not shapes:
        return np.full(len(directions), math.inf)
    rays = g.ShapeSet(shapes).ray_hits(np.repeat(g.as_points(origin), len(directions), axis=0), directions)
    return rays.min(axis=1)


def shortest_needle(required_mm: float, lengths: tuple[float, ...]) -> float | None:
    """The shortest standard needle at least ``required_mm`` long (None if none is long enough).

    >>> shortest_needle(30.0, (25.0, 38.0, 50.0)), shortest_needle(60.0, (25.0, 38.0, 50.0))
    (38.0, None)
    """
    return next((x for x in lengths if x >= required_mm - 1e-9), None)
