"""Unit-free geometry on the plan's raw points (crossings, ray order), usable without calibration.

Whether a straight needle crosses a mark, and which mark a ray meets first, do not change under a
per-axis scaling, so these run on uncalibrated plans too; distances in mm need the planner.
"""

from __future__ import annotations

import math

import numpy as np

from needleplan import geometry as g
from needleplan.safety.context import Context

__all__ = ["needle_vectors", "clearance", "crosses", "first_hits", "shortest_needle"]


def needle_vectors(ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entry, tip and unit direction of the drawn needle in the plan's coordinates."""
    n = ctx.plan.needle
    entry = np.asarray(n.entry_mm, dtype=float)
    tip = np.asarray(n.target_mm, dtype=float)
    d = tip - entry
    return entry, tip, d / max(float(np.hypot(*d)), 1e-12)


def clearance(ctx: Context, index: int, structure) -> tuple[float, float]:
    """(shaft, tip) distance from the drawn needle to a structure; 0 when it touches or crosses it.

    Taken from the planner's metrics when the plan is calibrated, else computed on the raw points
    (only "is it 0" is meaningful then).
    """
    if ctx.metrics is not None and index in ctx.metrics.by_structure:
        return ctx.metrics.by_structure[index]
    entry, tip, _ = needle_vectors(ctx)
    return (g.segment_shape_distance(entry, tip, structure.points_mm, structure.closed),
            float(g.point_shape_distance(tip, structure.points_mm, structure.closed)[0]))


def crosses(ctx: Context, index: int, structure) -> bool:
    """Does the drawn needle (entry to tip) touch or cross a structure (or end inside it)?"""
    return clearance(ctx, index, structure)[0] <= 1e-9


def first_hits(ctx: Context, origin, directions, *kinds: str) -> np.ndarray:
    """``(R,)``: distance along each ray to the first confirmed structure of the given kinds (inf: none)."""
    shapes = [(s.points_mm, s.closed) for _i, s in ctx.confirmed(*kinds)]
    if not shapes:
        return np.full(len(directions), math.inf)
    rays = g.ShapeSet(shapes).ray_hits(np.repeat(g.as_points(origin), len(directions), axis=0), directions)
    return rays.min(axis=1)


def shortest_needle(required_mm: float, lengths: tuple[float, ...]) -> float | None:
    """The shortest standard needle at least ``required_mm`` long (None if none is long enough)."""
    return next((x for x in lengths if x >= required_mm - 1e-9), None)
