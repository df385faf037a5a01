"""Primitives of :mod:`needleplan.geometry`: distances, inside tests, rays and angles on one shape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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


def _linear_interval(
    a0: np.ndarray, k: np.ndarray, lo: float | np.ndarray, hi: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of s where ``lo <= a0 + s k <= hi`` (arrays); empty as (inf, -inf)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s1 = (lo - a0) / k
        s2 = (hi - a0) / k
    flat = np.abs(k) < _EPS
    inside_flat = (a0 >= lo) & (a0 <= hi)
    s_lo = np.where(flat, np.where(inside_flat, -np.inf, np.inf), np.minimum(s1, s2))
    s_hi = np.where(flat, np.where(inside_flat, np.inf, -np.inf), np.maximum(s1, s2))
    return s_lo, s_hi


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
