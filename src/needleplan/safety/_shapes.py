"""Unit-free geometry on the plan's raw points (crossings, ray order), usable without calibration.

Whether a straight needle crosses a mark, and which mark a ray meets first, do not change under a
per-axis scaling, so these run on uncalibrated plans too; distances in mm need the planner.
"""

from __future__ import annotations

import math

import numpy as np

from needleplan import geometry as g
from needleplan.safety.context import Context

__all__ = ["needle_vectors", "crosses", "first_hit", "shortest_needle"]


def needle_vectors(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry, tip and unit direction of the drawn needle in the plan's coordinates."""
    n = ctx.plan.needle
    entry = np.asarray(n.entry_mm, dtype=float)
    tip = np.asarray(n.target_mm, dtype=float)
    d = tip - entry
    return entry, tip, d / max(float(np.hypot(*d)), 1e-12)


def crosses(ctx: Context, structure) -> bool:
    """Does the drawn needle (entry to tip) touch or cross a structure (or end inside it)?"""
    entry, tip, _ = needle_vectors(ctx)
    return g.segment_shape_distance(entry, tip, structure.points_mm, structure.closed) <= 1e-9


def first_hit(ctx: Context, origin, direction, *kinds: str) -> tuple[float, str | None]:
    """Distance along a ray to the first confirmed structure of the given families/kinds, and its kind."""
    best, kind = math.inf, None
    for _i, s in ctx.confirmed(*kinds):
        t = g.ray_shape_hits(origin, direction, s.points_mm, s.closed)
        if t < best:
            best, kind = t, s.kind
    return best, kind


def shortest_needle(required_mm: float, lengths: tuple[float, ...]) -> float | None:
    """The shortest standard needle at least ``required_mm`` long (None if none is long enough)."""
    return next((x for x in lengths if x >= required_mm - 1e-9), None)
