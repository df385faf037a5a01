"""``ShapeSet``: many shapes answered in one numpy call (part of :mod:`needleplan.geometry`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from needleplan.geometry._primitives import (
    _EPS,
    _linear_interval,
    _ray_segment_t,
    as_points,
    point_segments_distance,
    segments_of,
)

__all__ = ["ShapeSet"]


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

    def __init__(self, shapes: Iterable[tuple[Any, bool]]) -> None:
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
        for lo, hi in zip(los, his, strict=True):
            start = np.maximum(lo, 0.0)
            best = np.minimum(best, np.where(hi >= start, start, np.inf))
        out = self._min(best[None, :])[0] if self.n else np.zeros(0)
        return np.where(self.contains(o[None])[0], 0.0, out)
