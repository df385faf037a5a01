"""Plane geometry on points, polylines and polygons in millimetres, ``(row, col)`` order.

Pure numpy functions, no clinical knowledge.  A *shape* is an ``(N, 2)`` array of vertices plus a
``closed`` flag: a closed shape is a polygon (its inside counts as distance 0), an open one a
polyline.  A single vertex is a point.  Every function is vectorised over the shape's segments, and
the ``*_many`` variants over many query segments or rays at once (the safe angle window casts
hundreds of candidate needles per call).

Examples
--------
A needle from the skin at (0, 0) to a tip at (10, 0) and a horizontal pleura 14 mm deep:

>>> import numpy as np
>>> pleura = np.array([[14.0, -20.0], [14.0, 20.0]])
>>> float(segment_shape_distance([0.0, 0.0], [10.0, 0.0], pleura, closed=False))
4.0
>>> float(ray_capsule_entry([0.0, 0.0], [1.0, 0.0], pleura, False, radius_mm=5.0))
9.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "as_points",
    "segments_of",
    "point_segments_distance",
    "point_in_polygon",
    "point_shape_distance",
    "segment_shape_distance",
    "segment_shape_distance_many",
    "ray_shape_hits",
    "ray_first_hit_many",
    "ray_capsule_entry",
    "line_angle_deg",
    "polyline_row_at_col",
    "nearest_segment_direction",
    "shape_centroid",
    "ShapeSet",
    "TIE_MM",
]

_EPS = 1e-12
#: Distances that differ by less than this are the same distance when compared with a margin or a
#: reach.  Not a clinical number: it only keeps a clearance that equals its margin exactly (marks on
#: whole millimetres) from flipping between "kept" and "within the margin" with rounding, e.g. when
#: every coordinate is moved by the same offset.  A clearance equal to its margin keeps it; a pleura
#: exactly at the overshoot's reach is reached.
TIE_MM = 1e-6


def as_points(points: Any) -> np.ndarray:
    """Return ``points`` as a float ``(N, 2)`` array (a single ``(row, col)`` becomes ``(1, 2)``)."""
    arr = np.asarray(points, dtype=float)
    if arr.ndim == 1:
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"expected (N, 2) points (row, col), got shape {arr.shape}")
    return arr


def segments_of(points: Any, closed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Segment start and end points ``(M, 2)`` of a polyline (or polygon when ``closed``).

    A single point gives one degenerate segment.

    >>> a, b = segments_of([[0, 0], [0, 1], [1, 1]], closed=True)
    >>> len(a), b[-1].tolist()
    (3, [0.0, 0.0])
    """
    pts = as_points(points)
    if len(pts) == 1:
        return pts, pts
    if closed and len(pts) > 2:
        return pts, np.roll(pts, -1, axis=0)
    return pts[:-1], pts[1:]


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def point_segments_distance(points: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances ``(P, M)`` from each point to each segment ``a[m]``-``b[m]`` (mm).

    >>> point_segments_distance([[3.0, 4.0]], np.array([[0.0, 0.0]]), np.array([[0.0, 10.0]])).tolist()
    [[3.0]]
    """
    p = as_points(points)
    pr, pc = p[:, 0:1], p[:, 1:2]
    ar, ac = a[:, 0], a[:, 1]
    er, ec = b[:, 0] - ar, b[:, 1] - ac
    denom = er * er + ec * ec
    inv = np.where(denom > _EPS, 1.0 / np.maximum(denom, _EPS), 0.0)
    dr, dc = pr - ar, pc - ac
    t = np.clip((dr * er + dc * ec) * inv, 0.0, 1.0)
    dr -= t * er
    dc -= t * ec
    return np.sqrt(dr * dr + dc * dc)


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


def ray_first_hit_many(origins: Any, directions: Any, shape: Any, closed: bool, *,
                       return_index: bool = False) -> Any:
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


def _ray_segment_t(o: np.ndarray, u: np.ndarray, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``(K, M)``: distance along ray k (unit direction) to segment m (``a + [0, 1] e``); inf if missed."""
    wr, wc = a[None, :, 0] - o[:, 0:1], a[None, :, 1] - o[:, 1:2]
    er, ec = e[None, :, 0], e[None, :, 1]
    ur, uc = u[:, 0:1], u[:, 1:2]
    denom = ur * ec - uc * er
    parallel = np.abs(denom) < 1e-12
    with np.errstate(over="ignore"):
        inv = 1.0 / np.where(parallel, 1.0, denom)
    w_x_u = wr * uc - wc * ur
    t = (wr * ec - wc * er) * inv
    s = w_x_u * inv
    hit = (~parallel) & (t >= -1e-9) & (s >= -1e-9) & (s <= 1 + 1e-9)
    t_hit = np.where(hit, np.maximum(t, 0.0), np.inf)
    # Collinear overlap: the ray runs along a segment; it meets the nearer end (or starts on it).
    collinear = parallel & (np.abs(w_x_u) < 1e-9)
    if collinear.any():
        ta = wr * ur + wc * uc
        tb = (wr + er) * ur + (wc + ec) * uc
        t_col = np.where(np.maximum(ta, tb) >= 0, np.maximum(np.minimum(ta, tb), 0.0), np.inf)
        t_hit = np.where(collinear, np.minimum(t_hit, t_col), t_hit)
    return t_hit


def ray_shape_hits(origin: Any, direction: Any, shape: Any, closed: bool) -> float:
    """Distance (mm) along one ray (unit direction) to the first point of a shape, or ``inf``.

    >>> ray_shape_hits([0, 0], [1, 0], [[14, -20], [14, 20]], closed=False)
    14.0
    """
    return float(ray_first_hit_many(origin, direction, shape, closed)[0])


def _linear_interval(a0: np.ndarray, k: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray):
    """Interval of s where ``lo <= a0 + s k <= hi`` (arrays); empty as (inf, -inf)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s1 = (lo - a0) / k
        s2 = (hi - a0) / k
    flat = np.abs(k) < _EPS
    inside_flat = (a0 >= lo) & (a0 <= hi)
    s_lo = np.where(flat, np.where(inside_flat, -np.inf, np.inf), np.minimum(s1, s2))
    s_hi = np.where(flat, np.where(inside_flat, np.inf, -np.inf), np.maximum(s1, s2))
    return s_lo, s_hi


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


def line_angle_deg(u: Any, v: Any) -> float:
    """Acute angle (deg, 0-90) between the lines along vectors ``u`` and ``v``.

    >>> round(line_angle_deg([1.0, 1.0], [0.0, 1.0]), 6)
    45.0
    """
    u = np.asarray(u, dtype=float)
    v = np.asarray(v, dtype=float)
    cos = abs(float(u @ v)) / max(float(np.hypot(*u) * np.hypot(*v)), _EPS)
    return math.degrees(math.acos(min(1.0, cos)))


def polyline_row_at_col(polyline: Any, col_mm: float) -> float:
    """Row (mm) of a polyline at a column, by linear interpolation along the column axis.

    Used for "depth below the skin line".  Beyond the ends the line is continued horizontally
    from its end vertex.  Where the line folds back over a column, the shallowest row is used.

    >>> polyline_row_at_col([[2.0, -10.0], [4.0, 10.0]], 0.0)
    3.0
    >>> polyline_row_at_col([[2.0, -10.0], [4.0, 10.0]], 50.0)
    4.0
    """
    pts = as_points(polyline)
    a, b = segments_of(pts, closed=False)
    c0, c1 = a[:, 1], b[:, 1]
    lo, hi = np.minimum(c0, c1), np.maximum(c0, c1)
    covers = (col_mm >= lo) & (col_mm <= hi)
    if covers.any():
        span = c1 - c0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(np.abs(span) > _EPS, (col_mm - c0) / span, 0.0)
        rows = a[:, 0] + t * (b[:, 0] - a[:, 0])
        vertical = np.abs(span) <= _EPS
        rows = np.where(vertical, np.minimum(a[:, 0], b[:, 0]), rows)
        return float(rows[covers].min())
    end = pts[np.argmin(pts[:, 1])] if col_mm < pts[:, 1].min() else pts[np.argmax(pts[:, 1])]
    return float(end[0])


def nearest_segment_direction(polyline: Any, point: Any) -> np.ndarray:
    """Unit direction ``(d_row, d_col)`` of the polyline segment nearest to ``point``.

    >>> nearest_segment_direction([[0.0, -5.0], [0.0, 5.0]], [3.0, 0.0]).tolist()
    [0.0, 1.0]
    """
    a, b = segments_of(polyline, closed=False)
    i = int(np.argmin(point_segments_distance(point, a, b)[0]))
    d = b[i] - a[i]
    n = float(np.hypot(*d))
    return np.array([0.0, 1.0]) if n <= _EPS else d / n


def shape_centroid(points: Any, closed: bool) -> np.ndarray:
    """Area centroid of a polygon (closed, >= 3 vertices), else the vertex mean.

    >>> shape_centroid([[0, 0], [0, 4], [2, 4], [2, 0]], closed=True).tolist()
    [1.0, 2.0]
    """
    pts = as_points(points)
    if closed and len(pts) >= 3:
        nxt = np.roll(pts, -1, axis=0)
        cr = _cross(pts, nxt)
        area = cr.sum() / 2.0
        if abs(area) > _EPS:
            return ((pts + nxt) * cr[:, None]).sum(axis=0) / (6.0 * area)
    return pts.mean(axis=0)


class ShapeSet:
    """Many shapes at once: their segments are concatenated so one numpy call answers for all.

    Results have one column per shape, in the order given.  Used by the planner and the safety
    rules so that a check of a plan with ten structures is a handful of array operations.

    Examples
    --------
    >>> s = ShapeSet([([[14, -20], [14, 20]], False), ([[8, -5], [8, 5], [11, 5], [11, -5]], True)])
    >>> s.segment_distance([[0, 0]], [[6, 0]]).tolist()        # needle (0,0)-(6,0): pleura 8, box 2
    [[8.0, 2.0]]
    >>> s.ray_hits([[0, 0]], [[1, 0]]).tolist()
    [[14.0, 8.0]]
    >>> s.capsule_entry([0, 0], [1, 0], [5.0, 0.0]).tolist()
    [9.0, 8.0]
    """

    def __init__(self, shapes) -> None:
        a_parts, b_parts, counts, closed = [], [], [], []
        for points, is_closed in shapes:
            a, b = segments_of(points, is_closed)
            a_parts.append(a)
            b_parts.append(b)
            counts.append(len(a))
            closed.append(bool(is_closed) and len(as_points(points)) >= 3)
        self.n = len(counts)
        self.closed = np.array(closed, dtype=bool)
        self.a = np.concatenate(a_parts) if a_parts else np.zeros((0, 2))
        self.b = np.concatenate(b_parts) if b_parts else np.zeros((0, 2))
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int) if counts else np.zeros(0, int)
        self.owner = np.repeat(np.arange(self.n), counts)
        self.e = self.b - self.a
        # The closed shapes' edges alone, for inside tests.
        self._closed_ids = np.flatnonzero(self.closed)
        mask = self.closed[self.owner] if self.n else np.zeros(0, dtype=bool)
        self._ca, self._cb = self.a[mask], self.b[mask]
        closed_counts = np.asarray(counts, dtype=int)[self._closed_ids] if self.n else np.zeros(0, int)
        self._cstarts = np.concatenate([[0], np.cumsum(closed_counts)[:-1]]).astype(int)

    def _min(self, per_segment: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return np.zeros((per_segment.shape[0], 0))
        return np.minimum.reduceat(per_segment, self.starts, axis=1)

    def contains(self, points: Any) -> np.ndarray:
        """``(P, S)``: is each point inside each closed shape (False for open shapes)."""
        p = as_points(points)
        out = np.zeros((len(p), self.n), dtype=bool)
        if len(self._closed_ids) == 0:
            return out
        pr, pc = p[:, 0:1], p[:, 1:2]
        ar, ac, br, bc = self._ca[:, 0], self._ca[:, 1], self._cb[:, 0], self._cb[:, 1]
        straddles = (ar > pr) != (br > pr)
        with np.errstate(divide="ignore", invalid="ignore"):
            col_at = ac + (pr - ar) * (bc - ac) / (br - ar)
        crossings = (straddles & (pc < col_at)).astype(np.int8)
        out[:, self._closed_ids] = (np.add.reduceat(crossings, self._cstarts, axis=1) % 2) == 1
        return out

    def point_distance(self, points: Any) -> np.ndarray:
        """``(P, S)``: shortest distance from each point to each shape (0 inside a closed one)."""
        d = self._min(point_segments_distance(points, self.a, self.b))
        return np.where(self.contains(points), 0.0, d)

    def segment_distance(self, p0: Any, p1: Any) -> np.ndarray:
        """``(K, S)``: shortest distance from each segment ``p0[k]-p1[k]`` to each shape (0 if they meet)."""
        q0, q1 = as_points(p0), as_points(p1)
        k = len(q0)
        ar, ac, er, ec = self.a[None, :, 0], self.a[None, :, 1], self.e[None, :, 0], self.e[None, :, 1]
        q0r, q0c = q0[:, 0:1], q0[:, 1:2]
        fr, fc = q1[:, 0:1] - q0r, q1[:, 1:2] - q0c
        d1 = er * (q0c - ac) - ec * (q0r - ar)
        d2 = er * (q1[:, 1:2] - ac) - ec * (q1[:, 0:1] - ar)
        d3 = fr * (ac - q0c) - fc * (ar - q0r)
        d4 = fr * (ac + ec - q0c) - fc * (ar + er - q0r)
        crosses = ((d1 * d2) < 0) & ((d3 * d4) < 0)
        ends = np.concatenate([q0, q1])
        d_ends = point_segments_distance(ends, self.a, self.b)
        d_shape = np.minimum(point_segments_distance(self.a, q0, q1), point_segments_distance(self.b, q0, q1)).T
        d = np.minimum(np.minimum(d_ends[:k], d_ends[k:]), d_shape)
        d = self._min(np.where(crosses, 0.0, d))
        inside = self.contains(ends)
        return np.where(inside[:k] | inside[k:], 0.0, d)

    def ray_hits(self, origins: Any, directions: Any) -> np.ndarray:
        """``(K, S)``: distance along each ray (unit direction) to each shape; inf for a miss."""
        o, u = as_points(origins), as_points(directions)
        return np.where(self.contains(o), 0.0, self._min(_ray_segment_t(o, u, self.a, self.e)))

    def capsule_entry(self, origin: Any, direction: Any, radii_mm: Any) -> np.ndarray:
        """``(S,)``: first distance along one ray at which a point is within each shape's radius.

        The batched form of :func:`ray_capsule_entry` (0 if the origin is already within it).
        """
        o = as_points(origin)[0]
        u = as_points(direction)[0]
        u = u / max(float(np.hypot(*u)), _EPS)
        r = np.asarray(radii_mm, dtype=float)[self.owner]
        los, his = [], []
        for c in (self.a, self.b):  # discs at both ends of every segment
            w = o[None, :] - c
            bq = w @ u
            disc = bq * bq - (np.einsum("ij,ij->i", w, w) - r * r)
            root = np.sqrt(np.maximum(disc, 0.0))
            los.append(np.where(disc >= 0, -bq - root, np.inf))
            his.append(np.where(disc >= 0, -bq + root, -np.inf))
        length = np.hypot(self.e[:, 0], self.e[:, 1])
        ok = length > _EPS
        eh = self.e / np.where(ok, length, 1.0)[:, None]
        nh = np.stack([-eh[:, 1], eh[:, 0]], axis=1)
        oa = o[None, :] - self.a
        t_lo, t_hi = _linear_interval(np.einsum("ij,ij->i", oa, eh), eh @ u, 0.0, length)
        n_lo, n_hi = _linear_interval(np.einsum("ij,ij->i", oa, nh), nh @ u, -r, r)
        los.append(np.where(ok, np.maximum(t_lo, n_lo), np.inf))
        his.append(np.where(ok, np.minimum(t_hi, n_hi), -np.inf))
        best = np.full(len(self.a), np.inf)
        for lo, hi in zip(los, his):
            start = np.maximum(lo, 0.0)
            best = np.minimum(best, np.where(hi >= start, start, np.inf))
        out = self._min(best[None, :])[0] if self.n else np.zeros(0)
        return np.where(self.contains(o[None])[0], 0.0, out)
