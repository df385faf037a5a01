"""Fewer vertices, same shape: Ramer-Douglas-Peucker simplification of a traced outline.

A traced outline (a detector's contour, a brush stroke) can have thousands of vertices; a plan holds
at most :data:`needleplan.clinical.plausible_ranges.MAX_POINTS_PER_STRUCTURE` per structure, so a
caller such as the napari plugin simplifies the outline rather than have the plan refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from needleplan.geometry._primitives import as_points

__all__ = ["simplify_polyline"]


def _keep_mask(pts: np.ndarray, tolerance_mm: float) -> np.ndarray:
    """Ramer-Douglas-Peucker on an open chain, without recursion: which vertices to keep."""
    n = len(pts)
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b = pts[i], pts[j]
        inner = pts[i + 1 : j]
        ab = b - a
        length2 = float(ab @ ab)
        if length2 == 0.0:
            dist = np.hypot(*(inner - a).T)
        else:
            t = np.clip((inner - a) @ ab / length2, 0.0, 1.0)
            dist = np.hypot(*(inner - (a + t[:, None] * ab)).T)
        k = int(np.argmax(dist))
        if dist[k] > tolerance_mm:
            mid = i + 1 + k
            keep[mid] = True
            stack.append((i, mid))
            stack.append((mid, j))
    return keep


def _simplify_once(pts: np.ndarray, tolerance_mm: float, closed: bool) -> np.ndarray:
    if len(pts) <= (3 if closed else 2):
        return pts
    if not closed:
        return pts[_keep_mask(pts, tolerance_mm)]
    # a polygon: cut it at the vertex farthest from the first, simplify both chains, join them
    far = int(np.argmax(np.hypot(*(pts - pts[0]).T)))
    if far == 0:
        return pts[:3]  # every vertex on one spot: a degenerate polygon, kept as three of its points
    ring = np.vstack([pts, pts[:1]])
    keep = np.zeros(len(ring), dtype=bool)
    keep[: far + 1] |= _keep_mask(ring[: far + 1], tolerance_mm)
    keep[far:] |= _keep_mask(ring[far:], tolerance_mm)
    out = ring[:-1][keep[:-1]]
    if len(out) < 3:  # a flat polygon: keep a third vertex so it stays a polygon
        third = far // 2 if far > 1 else (far + len(pts)) // 2
        out = pts[sorted({0, far, third})]
    return out


def simplify_polyline(
    points_mm: Any, tolerance_mm: float, *, closed: bool = False, max_points: int | None = None
) -> np.ndarray:
    """Drop vertices that lie within ``tolerance_mm`` of the simplified shape.

    Parameters
    ----------
    points_mm : array-like, shape (N, 2)
        Vertices ``(row, col)`` in mm.
    tolerance_mm : float
        Largest distance (mm) of a dropped vertex from the simplified polyline or polygon (> 0).
    closed : bool
        A polygon (the last vertex joins the first); the result keeps at least 3 vertices.
    max_points : int, optional
        If the result has more vertices, the tolerance is doubled until it has at most this many
        (so the shape may then move by more than ``tolerance_mm``; at least 3 for a polygon, 2 else).

    Returns
    -------
    numpy.ndarray, shape (M, 2)
        A subset of the vertices, in their order; the first (and for a polyline the last) is kept.

    Examples
    --------
    A straight traced line of 1,001 vertices 0.1 mm apart keeps its two ends; a right angle keeps
    its corner:

    >>> import numpy as np
    >>> line = np.column_stack([np.zeros(1001), np.linspace(0.0, 100.0, 1001)])
    >>> simplify_polyline(line, 0.05).tolist()
    [[0.0, 0.0], [0.0, 100.0]]
    >>> simplify_polyline([[0, 0], [0, 5], [0, 10], [5, 10], [10, 10]], 0.1).tolist()
    [[0.0, 0.0], [0.0, 10.0], [10.0, 10.0]]
    """
    pts = as_points(points_mm)
    if not np.isfinite(tolerance_mm) or tolerance_mm <= 0:
        raise ValueError(f"tolerance_mm must be a finite number > 0, got {tolerance_mm!r}")
    floor = 3 if closed else 2
    if max_points is not None and max_points < floor:
        raise ValueError(f"max_points must be at least {floor} for a {'polygon' if closed else 'polyline'}")
    out = _simplify_once(pts, float(tolerance_mm), closed)
    tolerance = float(tolerance_mm)
    while max_points is not None and len(out) > max_points:
        tolerance *= 2.0
        out = _simplify_once(pts, tolerance, closed)
    return out
