"""Scoring suggested structures against ground truth (the phantom's truth file), in world mm.

Used by ``scripts/evaluate_detect.py`` and the tests.  Every function takes plan-format structure
dicts or :class:`~needleplan.plan.Structure` values (``kind``, ``points_mm``, ``closed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "case_calibration",
    "match_lines",
    "LineMatch",
    "LINE_TOL_MM",
    "points",
    "kind_of",
    "upper_edge",
    "pleura_errors_mm",
    "match_shadow_bones",
    "match_vessels",
    "BoneMatch",
    "VesselMatch",
    "RIB_DEPTH_TOL_MM",
    "VESSEL_MATCH_MM",
]

#: A rib suggestion matches a true rib when its cortex lies within this depth of the rib's top.
RIB_DEPTH_TOL_MM = 2.5
#: A line suggestion (fascia, skin) matches a true boundary when its median depth error over the
#: columns they share is within this.
LINE_TOL_MM = 1.0
#: A vessel suggestion matches a true vessel when its centre is within this distance (or within the
#: vessel's own radius, if larger).
VESSEL_MATCH_MM = 2.0


def case_calibration(case: Any) -> Any:
    """The calibration of a phantom case (the numbers its DICOM's ultrasound region carries).

    ``case`` is a ``needleplan.synth.SyntheticCase`` (``spacing_mm``, ``origin_px``,
    ``region_box_px``).
    """
    from needleplan.calibration import Calibration

    return Calibration(
        source="US_REGION",
        spacing_mm=tuple(case.spacing_mm),
        origin_px=tuple(case.origin_px),
        region_index=0,
        region_box_px=tuple(case.region_box_px),
        reason="phantom ultrasound region",
    )


def kind_of(s: Any) -> str:
    """The structure's kind."""
    return s["kind"] if isinstance(s, dict) else s.kind


def points(s: Any) -> np.ndarray:
    """``points_mm`` as an (N, 2) float array."""
    return np.asarray(s["points_mm"] if isinstance(s, dict) else s.points_mm, dtype=float)


def upper_edge(polygon_mm: np.ndarray, cols_mm: np.ndarray) -> np.ndarray:
    """Shallowest row of a closed polygon at each column (NaN outside it), by ray crossing.

    Examples
    --------
    >>> sq = np.array([[2.0, 0.0], [2.0, 4.0], [6.0, 4.0], [6.0, 0.0]])
    >>> upper_edge(sq, np.array([1.0, 5.0])).tolist()
    [2.0, nan]
    """
    p = np.asarray(polygon_mm, float)
    q = np.roll(p, -1, axis=0)
    out = np.full(len(cols_mm), np.nan)
    for i, c in enumerate(np.asarray(cols_mm, float)):
        lo, hi = np.minimum(p[:, 1], q[:, 1]), np.maximum(p[:, 1], q[:, 1])
        cross = (lo <= c) & (c < hi) & (hi > lo)
        if not cross.any():
            continue
        t = (c - p[cross, 1]) / (q[cross, 1] - p[cross, 1])
        out[i] = float(np.min(p[cross, 0] + t * (q[cross, 0] - p[cross, 0])))
    return out


def pleura_errors_mm(detected: Any, truth: Any) -> np.ndarray:
    """Absolute depth error (mm) at each point of a detected pleura, against the true polyline.

    Examples
    --------
    >>> det = {"kind": "pleura", "points_mm": [[15.2, -5.0], [15.4, 5.0]], "closed": False}
    >>> tru = {"kind": "pleura", "points_mm": [[15.0, -10.0], [15.0, 10.0]], "closed": False}
    >>> np.round(pleura_errors_mm(det, tru), 3).tolist()   # 15.2 - 15.0, 15.4 - 15.0
    [0.2, 0.4]
    """
    d, t = points(detected), points(truth)
    order = np.argsort(t[:, 1])
    t = t[order]
    inside = (d[:, 1] >= t[0, 1]) & (d[:, 1] <= t[-1, 1])
    d = d[inside]
    return np.abs(d[:, 0] - np.interp(d[:, 1], t[:, 1], t[:, 0]))


@dataclass(frozen=True, slots=True)
class BoneMatch:
    """Result of matching shadow-casting bone suggestions to true ribs and bones."""

    true_ribs: int
    found_ribs: int
    rib_suggestions: int
    correct_rib_suggestions: int  # matched a true rib or bone
    depth_errors_mm: tuple[float, ...]


def match_shadow_bones(
    detected: list[Any], truth: list[Any], col_range_mm: tuple[float, float], *, min_visible_mm: float = 3.0
) -> BoneMatch:
    """Match ``rib`` suggestions to true ``rib``/``bone`` polygons by column and cortex depth.

    A true rib counts when at least ``min_visible_mm`` of its width lies inside ``col_range_mm``.
    """
    bones = [s for s in truth if kind_of(s) in ("rib", "bone")]
    dets = [s for s in detected if kind_of(s) in ("rib", "bone")]
    rib_dets = [i for i, s in enumerate(dets) if kind_of(s) == "rib"]
    matched_truth: set[int] = set()
    correct: set[int] = set()
    errors = []
    for i, det in enumerate(dets):
        p = points(det)
        cols = p[:, 1]
        for j, tb in enumerate(bones):
            top = upper_edge(points(tb), cols)
            ok = np.isfinite(top)
            if ok.mean() < 0.5:
                continue
            err = np.abs(p[ok, 0] - top[ok])
            if np.median(err) <= RIB_DEPTH_TOL_MM:
                correct.add(i)
                if j not in matched_truth:
                    errors.append(float(np.median(err)))
                matched_truth.add(j)
                break
    true_ribs = []
    for j, tb in enumerate(bones):
        if kind_of(tb) != "rib":
            continue
        tc = points(tb)[:, 1]
        vis = min(tc.max(), col_range_mm[1]) - max(tc.min(), col_range_mm[0])
        if vis >= min_visible_mm:
            true_ribs.append(j)
    return BoneMatch(
        true_ribs=len(true_ribs),
        found_ribs=sum(1 for j in true_ribs if j in matched_truth),
        rib_suggestions=len(rib_dets),
        correct_rib_suggestions=sum(1 for i in rib_dets if i in correct),
        depth_errors_mm=tuple(errors),
    )


@dataclass(frozen=True, slots=True)
class VesselMatch:
    """Vessel suggestions matched to true arteries and veins."""

    true_vessels: int
    suggestions: int
    pairs: tuple[tuple[int, int, float], ...]  # (truth index, suggestion index, centre error mm)


def _centre(s: Any) -> np.ndarray:
    return points(s).mean(axis=0)


def match_vessels(detected: list[Any], truth: list[Any]) -> tuple[VesselMatch, list[Any], list[Any]]:
    """Greedy nearest-centre matching of vessel suggestions to true vessels.

    Returns the match and the true and suggested vessel lists the indices refer to.
    """
    tv = [s for s in truth if kind_of(s) in ("artery", "vein", "vessel")]
    dv = [s for s in detected if kind_of(s) in ("artery", "vein", "vessel")]
    cand = []
    for i, t in enumerate(tv):
        tp = points(t)
        radius = 0.5 * float(np.ptp(tp[:, 0]))
        for j, d in enumerate(dv):
            dist = float(np.linalg.norm(_centre(t) - _centre(d)))
            if dist <= max(VESSEL_MATCH_MM, radius):
                cand.append((dist, i, j))
    used_t: set[int] = set()
    used_d: set[int] = set()
    pairs = []
    for dist, i, j in sorted(cand):
        if i in used_t or j in used_d:
            continue
        used_t.add(i)
        used_d.add(j)
        pairs.append((i, j, dist))
    return VesselMatch(len(tv), len(dv), tuple(pairs)), tv, dv


@dataclass(frozen=True, slots=True)
class LineMatch:
    """Line suggestions matched to true open boundaries."""

    true_lines: int  # true lines of the scored kind
    found: int  # of them, matched by a suggestion
    suggestions: int
    correct: int  # suggestions matching any true open boundary
    errors_mm: tuple[float, ...]  # median depth error of each match to a scored true line


def match_lines(detected: list[Any], truth: list[Any], kind: str, *, also: tuple[str, ...] = ()) -> LineMatch:
    """Match open ``kind`` suggestions to true open lines of ``kind`` (or of the ``also`` kinds,
    which count for precision only) by their median depth error where they overlap.

    Examples
    --------
    >>> det = [{"kind": "fascia", "points_mm": [[5.1, 0.0], [5.3, 10.0]], "closed": False}]
    >>> tru = [{"kind": "fascia", "points_mm": [[5.0, -5.0], [5.0, 15.0]], "closed": False}]
    >>> m = match_lines(det, tru, "fascia")
    >>> m.found, m.correct, round(m.errors_mm[0], 2)   # errors 0.1 and 0.3: median 0.2
    (1, 1, 0.2)
    """

    def is_open(s: Any) -> bool:
        return not (s["closed"] if isinstance(s, dict) else s.closed)

    scored = [s for s in truth if kind_of(s) == kind and is_open(s)]
    others = [s for s in truth if kind_of(s) in also and is_open(s)]
    dets = [s for s in detected if kind_of(s) == kind]
    found: set[int] = set()
    correct = 0
    errors = []
    for d in dets:
        hit = False
        for j, t in enumerate(scored + others):
            err = pleura_errors_mm(d, t)
            if err.size >= max(2, 0.5 * len(points(d))) and np.median(err) <= LINE_TOL_MM:
                hit = True
                if j < len(scored) and j not in found:
                    found.add(j)
                    errors.append(float(np.median(err)))
                break
        correct += hit
    return LineMatch(len(scored), len(found), len(dets), correct, tuple(errors))
