"""One-shape questions of :mod:`needleplan.geometry`, answered through :class:`ShapeSet`."""

from __future__ import annotations

from typing import Any

import numpy as np

from needleplan.geometry._primitives import _ray_segment_t, as_points, segments_of
from needleplan.geometry._shapeset import ShapeSet

__all__ = [
    "point_in_polygon",
    "point_shape_distance",
    "segment_shape_distance",
    "segment_shape_distance_many",
    "ray_capsule_entry",
    "ray_first_hit_many",
    "ray_shape_hits",
]


def point_in_polygon(points: Any, polygon: Any) -> np.ndarray:
    """Even-odd test: is each point inside the polygon?  Boundary points may go either way.

    >>> point_in_polygon([[1, 1], [3, 1]], [[0, 0], [0, 2], [2, 2], [2, 0]]).tolist()
    [True, False]
    """
    return ShapeSet([(polygon, True)]).contains(points)[:, 0]


def point_shape_distance(points: Any, shape: Any, closed: bool) -> np.ndarray:
    """Shortest distance ``(P,)`` from each point to a shape; 0 inside a closed shape.

    >>> point_shape_distance([[1, 1], [5, 1]], [[0, 0], [0, 2], [2, 2], [2, 0]], closed=True).tolist()
    [0.0, 3.0]
    """
    return ShapeSet([(shape, closed)]).point_distance(points)[:, 0]


def segment_shape_distance_many(p0: Any, p1: Any, shape: Any, closed: bool) -> np.ndarray:
    """Shortest distance ``(K,)`` from each query segment ``p0[k]``-``p1[k]`` to a shape.

    0 when the segment crosses or touches the shape, or (closed shape) has an end inside it.
    """
    return ShapeSet([(shape, closed)]).segment_distance(p0, p1)[:, 0]


def segment_shape_distance(p0: Any, p1: Any, shape: Any, closed: bool) -> float:
    """Shortest distance (mm) from the segment ``p0``-``p1`` to a shape (0 if they meet).

    >>> segment_shape_distance([0, 0], [10, 0], [[5, -3], [5, 3]], closed=False)
    0.0
    >>> segment_shape_distance([0, 0], [10, 0], [[5, 2], [5, 3]], closed=False)
    2.0
    """
    return float(segment_shape_distance_many(p0, p1, shape, closed)[0])


def ray_capsule_entry(origin: Any, direction: Any, shape: Any, closed: bool, radius_mm: float) -> float:
    """First distance ``s >= 0`` along a ray at which a point is within ``radius_mm`` of a shape.

    This is how far a needle tip may travel from ``origin`` before it enters the margin around a
    hazard.  Exact: the union of capsules (segment swept by a disc) is intersected with the ray.
    Returns 0 if the origin is already within the margin, ``inf`` if the ray never comes that close.

    >>> ray_capsule_entry([0, 0], [1, 0], [[14, -20], [14, 20]], False, radius_mm=5.0)
    9.0
    >>> round(ray_capsule_entry([0, 0], [0.6, 0.8], [[14, -20], [14, 20]], False, 5.0), 3)  # 9 / 0.6
    15.0
    """
    return float(ShapeSet([(shape, closed)]).capsule_entry(origin, direction, [radius_mm])[0])


def ray_first_hit_many(origins: Any, directions: Any, shape: Any, closed: bool, *, return_index: bool = False) -> Any:
    """Distance ``(K,)`` along each ray (unit ``directions``) to its first meeting with a shape.

    ``inf`` where the ray misses.  A ray starting inside a closed shape hits at 0.  With
    ``return_index`` also the index ``(K,)`` of the segment met (-1 for a miss).
    """
    o, u = as_points(origins), as_points(directions)
    a, b = segments_of(shape, closed)
    t_hit = _ray_segment_t(o, u, a, b - a)
    first = t_hit.min(axis=1)
    index = np.where(np.isfinite(first), t_hit.argmin(axis=1), -1)
    if closed:
        first = np.where(point_in_polygon(o, shape), 0.0, first)
    return (first, index) if return_index else first


def ray_shape_hits(origin: Any, direction: Any, shape: Any, closed: bool) -> float:
    """Distance (mm) along one ray (unit direction) to the first point of a shape, or ``inf``.

    >>> ray_shape_hits([0, 0], [1, 0], [[14, -20], [14, 20]], closed=False)
    14.0
    """
    return float(ray_first_hit_many(origin, direction, shape, closed)[0])
