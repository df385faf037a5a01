"""Trajectory metrics, the deepest safe insertion, the overshoot and the safe angle window.

Everything here is in world millimetres ``(row, col)`` (design.md section 3): row grows with depth,
depth is measured from the marked skin line (vertical, along the beam) or from ``row_mm = 0``.
Suggested (unaccepted) structures are never hazards here.  Plans without a length calibration raise
:class:`~needleplan.errors.CalibrationError`: no millimetre is computed from pixels.

Examples
--------
A 38 mm needle entering at (0, 0), aimed straight down at a tip 6 mm deep, pleura 14 mm deep.
The tip may go on until it is within the 5 mm margin: 14 - 5 = 9 mm of insertion.

>>> from needleplan.plan import plan_from_dict
>>> plan = plan_from_dict({"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...     "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0, 0]},
...     "site": "upper_trapezius", "structures": [
...         {"kind": "pleura", "points_mm": [[14, -30], [14, 30]], "closed": False}],
...     "needle": {"entry_mm": [0, 0], "target_mm": [6, 0], "length_mm": 38}})
>>> m = needle_metrics(plan)
>>> m.depth_mm, m.path_length_mm, m.angle_deg, m.clearance_mm["pleura"]
(6.0, 6.0, 90.0, 8.0)
>>> s = max_safe_insertion(plan)
>>> s.max_safe_insertion_mm, s.limited_by
(9.0, 'pleura')
>>> o = overshoot(plan)          # 38 - 6 = 32 mm of unused needle meets the pleura 8 mm past the tip
>>> o.first_hit, o.first_hit_mm
('pleura', 8.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from needleplan import geometry as g
from needleplan.anatomy import BACKSTOP_KINDS, hazard_family
from needleplan.errors import CalibrationError, NeedleplanError
from needleplan.plan import Needle, Plan
from needleplan.safety.thresholds import resolve_thresholds

__all__ = [
    "Hazard", "Scene", "NeedleMetrics", "SafeInsertion", "Overshoot", "AngleInterval", "Trajectory",
    "AngleWindow", "prepare", "needle_metrics", "max_safe_insertion", "overshoot", "safe_angle_window",
    "suggest", "position_changed",
]

_FAR_MM = 1000.0  # how far the skin line is continued sideways for entry points beyond the image


@dataclass(frozen=True, slots=True)
class Hazard:
    """A confirmed structure the needle must respect: its margin (0 for a bony backstop)."""

    index: int
    kind: str
    family: str
    label: str | None
    points: np.ndarray
    closed: bool
    margin_mm: float
    other_frame: bool


@dataclass(frozen=True, slots=True)
class Scene:
    """A plan's geometry prepared once for every metric and rule."""

    thresholds: Mapping[str, float]
    hazards: tuple[Hazard, ...]
    backstops: tuple[Hazard, ...]
    shapes: g.ShapeSet           # hazards then backstops, one column each
    hazard_shapes: g.ShapeSet    # hazards only (the safe angle window's margin test)
    stop_shapes: g.ShapeSet      # pleura then backstops (what an overshoot meets)
    skin: np.ndarray | None
    target_point: np.ndarray | None
    targets: tuple[tuple[np.ndarray, bool], ...]
    needle: Needle | None


@dataclass(frozen=True, slots=True)
class NeedleMetrics:
    """Metrics of the drawn needle (mm, deg); clearances per structure kind (0 = touching/crossing)."""

    depth_mm: float
    path_length_mm: float
    angle_deg: float
    entry_offset_mm: float
    clearance_mm: Mapping[str, float]
    tip_clearance_mm: Mapping[str, float]
    skin_to_pleura_mm: float | None
    pleura_along_path_mm: float | None
    backstop_along_path_mm: float | None
    needle_length_required_mm: float
    by_structure: Mapping[int, tuple[float, float]] = field(default_factory=dict)  # index -> (shaft, tip)


@dataclass(frozen=True, slots=True)
class SafeInsertion:
    """How far along this trajectory the needle may be inserted, and what limits it."""

    max_safe_insertion_mm: float
    limited_by: str
    remaining_mm: float
    limits_mm: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Overshoot:
    """The straight extension past the tip by the unused needle length (plus allowance)."""

    reach_mm: float
    first_hit: str | None
    first_hit_mm: float | None
    pleura_mm: float | None
    backstop_mm: float | None


@dataclass(frozen=True, slots=True)
class AngleInterval:
    """A run of safe in-plane angles (deg to the skin) from one side, with its entry points."""

    side: str
    from_deg: float
    to_deg: float
    entry_from_mm: tuple[float, float]
    entry_to_mm: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Trajectory:
    """A suggested needle path."""

    entry_mm: tuple[float, float]
    target_mm: tuple[float, float]
    angle_deg: float
    path_length_mm: float
    side: str
    visible: bool


@dataclass(frozen=True, slots=True)
class AngleWindow:
    """The safe angle window for the target; empty ``intervals`` means no safe angle."""

    target_mm: tuple[float, float]
    intervals: tuple[AngleInterval, ...]
    suggested: Trajectory | None
    candidates: int
    reason: str


def position_changed(plan: Plan) -> bool:
    """R8: the plan records a planning position and a different procedure position."""
    a, b = plan.extra.get("planning_position"), plan.extra.get("procedure_position")
    return bool(a and b and a != b)


def prepare(plan: Plan, thresholds: Mapping[str, float] | None = None) -> Scene:
    """Prepare a calibrated plan's geometry; ``thresholds`` are resolved values (default: the site's)."""
    if not plan.calibration.is_calibrated:
        raise CalibrationError("the plan has no length calibration, so nothing can be measured in mm; "
                               "calibrate the image (for example two points on the depth ruler) first")
    th = thresholds if thresholds is not None else resolve_thresholds(plan.site)
    moved = position_changed(plan)
    hazards, backstops, targets, skin = [], [], [], None
    for i, s in enumerate(plan.structures):
        if s.suggested:
            continue
        pts = np.asarray(s.points_mm, dtype=float)
        other = moved or (s.frame_index is not None and s.frame_index != plan.image.frame_index)
        family = hazard_family(s.kind)
        if family is not None:
            key = f"{family.upper()}_MARGIN_MM"
            if other and f"{family.upper()}_MARGIN_OTHER_FRAME_MM" in th:
                key = f"{family.upper()}_MARGIN_OTHER_FRAME_MM"
            hazards.append(Hazard(i, s.kind, family, s.label, pts, s.closed, th[key], other))
        elif s.kind in BACKSTOP_KINDS:
            backstops.append(Hazard(i, s.kind, "backstop", s.label, pts, s.closed, 0.0, other))
        elif s.kind == "target":
            targets.append((pts, s.closed))
        elif s.kind == "skin" and skin is None and len(pts) >= 2:
            skin = pts
    target_point = None
    if targets:
        target_point = g.shape_centroid(*targets[0]) + 0.0  # no negative zero
    elif plan.needle is not None:
        target_point = np.asarray(plan.needle.target_mm, dtype=float)
    items = hazards + backstops
    shapes = g.ShapeSet([(h.points, h.closed) for h in items])
    hazard_shapes = g.ShapeSet([(h.points, h.closed) for h in hazards])
    stops = [h for h in hazards if h.family == "pleura"] + backstops
    stop_shapes = g.ShapeSet([(h.points, h.closed) for h in stops])
    return Scene(th, tuple(hazards), tuple(backstops), shapes, hazard_shapes, stop_shapes, skin, target_point,
                 tuple(targets), plan.needle)


def _scene(plan: Plan | Scene) -> Scene:
    return plan if isinstance(plan, Scene) else prepare(plan)


def _needle_of(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    if scene.needle is None:
        raise NeedleplanError("the plan has no needle drawn; draw the needle (entry and tip) first")
    entry = np.asarray(scene.needle.entry_mm, dtype=float)
    tip = np.asarray(scene.needle.target_mm, dtype=float)
    length = float(np.hypot(*(tip - entry)))
    if length <= 0:
        raise NeedleplanError("the needle's entry and tip are the same point; draw the needle again")
    return entry, tip, (tip - entry) / length, length


def depth_below_skin(scene: Scene, point: Any) -> float:
    """Vertical depth (mm) of a point below the skin line (or below ``row_mm = 0``)."""
    p = np.asarray(point, dtype=float)
    if scene.skin is None:
        return float(p[0])
    return float(p[0] - g.polyline_row_at_col(scene.skin, float(p[1])))


def _skin_direction(scene: Scene, point: np.ndarray) -> np.ndarray:
    if scene.skin is None:
        return np.array([0.0, 1.0])
    return g.nearest_segment_direction(scene.skin, point)


def _items(sc: Scene) -> tuple[Hazard, ...]:
    return sc.hazards + sc.backstops


def _first_hit(sc: Scene, hits: np.ndarray, family: str | None) -> float:
    """Smallest ray distance among the scene's pleura (family 'pleura') or backstops (None)."""
    cols = [j for j, h in enumerate(_items(sc)) if (h.family == family if family else h.family == "backstop")]
    return float(hits[cols].min()) if cols else math.inf


def _skin_to_pleura(scene: Scene, col_mm: float) -> float | None:
    pleura = [h.points for h in scene.hazards if h.family == "pleura"]
    if not pleura:
        return None
    under = [g.polyline_row_at_col(p, col_mm) for p in pleura if p[:, 1].min() <= col_mm <= p[:, 1].max()]
    if under:
        return min(depth_below_skin(scene, (r, col_mm)) for r in under)
    return min(depth_below_skin(scene, v) for p in pleura for v in p)


def needle_metrics(plan: Plan | Scene) -> NeedleMetrics:
    """Depth, path length, angle to the skin, entry offset and clearances of the drawn needle."""
    sc = _scene(plan)
    entry, tip, u, path = _needle_of(sc)
    shaft = sc.shapes.segment_distance(entry, tip)[0]
    tip_d = sc.shapes.point_distance(tip)[0]
    hits = sc.shapes.ray_hits(entry, u)[0]
    clear: dict[str, float] = {}
    tip_clear: dict[str, float] = {}
    by_structure: dict[int, tuple[float, float]] = {}
    for j, h in enumerate(_items(sc)):
        clear[h.kind] = min(clear.get(h.kind, math.inf), float(shaft[j]))
        tip_clear[h.kind] = min(tip_clear.get(h.kind, math.inf), float(tip_d[j]))
        by_structure[h.index] = (float(shaft[j]), float(tip_d[j]))
    pleura_hit, bone_hit = _first_hit(sc, hits, "pleura"), _first_hit(sc, hits, None)
    return NeedleMetrics(
        depth_mm=depth_below_skin(sc, tip),
        path_length_mm=path,
        angle_deg=g.line_angle_deg(u, _skin_direction(sc, entry)),
        entry_offset_mm=abs(float(entry[1])),
        clearance_mm=clear,
        tip_clearance_mm=tip_clear,
        skin_to_pleura_mm=_skin_to_pleura(sc, float(tip[1])),
        pleura_along_path_mm=None if math.isinf(pleura_hit) else pleura_hit,
        backstop_along_path_mm=None if math.isinf(bone_hit) else bone_hit,
        needle_length_required_mm=path + sc.thresholds["HUB_MARGIN_MM"],
        by_structure=by_structure,
    )


def max_safe_insertion(plan: Plan | Scene) -> SafeInsertion:
    """The deepest insertion (mm from the entry along this trajectory) that keeps every margin.

    Limited by the first hazard margin the tip would enter, bone contact (the tip stops on a rib),
    or the needle length minus the hub margin, whichever comes first.
    """
    sc = _scene(plan)
    entry, _tip, u, path = _needle_of(sc)
    limits: dict[str, float] = {}
    items = _items(sc)
    if items:
        capsule = sc.shapes.capsule_entry(entry, u, [h.margin_mm for h in items])
        hits = sc.shapes.ray_hits(entry, u)[0]
        for j, h in enumerate(items):
            s = float(hits[j] if h.family == "backstop" else capsule[j])
            limits[h.kind] = min(limits.get(h.kind, math.inf), s)
    limits["needle_length"] = max(0.0, sc.needle.length_mm - sc.thresholds["HUB_MARGIN_MM"])
    kind = min(limits, key=lambda k: limits[k])
    best = limits[kind]
    return SafeInsertion(best, kind, best - path, {k: v for k, v in limits.items() if math.isfinite(v)})


def overshoot(plan: Plan | Scene) -> Overshoot:
    """Extend the path past the tip by the unused needle length (+ allowance): what does it meet first?"""
    sc = _scene(plan)
    _entry, tip, u, path = _needle_of(sc)
    reach = max(0.0, sc.needle.length_mm - path) + sc.thresholds["OVERSHOOT_ALLOWANCE_MM"]
    row = sc.shapes.ray_hits(tip, u)[0]
    hits = [(float(row[j]), h.kind) for j, h in enumerate(_items(sc))]
    pleura = _first_hit(sc, row, "pleura")
    bone = _first_hit(sc, row, None)
    within = [(t, k) for t, k in hits if t <= reach]
    first_t, first_k = min(within) if within else (None, None)
    return Overshoot(reach, first_k, first_t, None if math.isinf(pleura) else pleura,
                     None if math.isinf(bone) else bone)


def _extended_skin(scene: Scene) -> np.ndarray | None:
    if scene.skin is None:
        return None
    s = scene.skin if scene.skin[0, 1] <= scene.skin[-1, 1] else scene.skin[::-1]
    return np.vstack([[s[0, 0], s[0, 1] - _FAR_MM], s, [s[-1, 0], s[-1, 1] + _FAR_MM]])


def _candidate_entries(scene: Scene, target: np.ndarray, phis: np.ndarray, side: float):
    """Entry points, path lengths and angles to the skin for rays from the target up to the skin."""
    d = np.stack([-np.sin(phis), side * np.cos(phis)], axis=1)  # from target towards the skin
    skin = _extended_skin(scene)
    origins = np.broadcast_to(target, d.shape)
    if skin is None:
        t = np.where(target[0] > 0, target[0] / np.sin(phis), np.inf)
        seg_dir = np.broadcast_to(np.array([0.0, 1.0]), d.shape)
    else:
        t, idx = g.ray_first_hit_many(origins, d, skin, False, return_index=True)
        e = np.diff(skin, axis=0)
        e = e / np.maximum(np.hypot(e[:, 0], e[:, 1]), 1e-12)[:, None]
        seg_dir = e[np.maximum(idx, 0)]
    ok = np.isfinite(t) & (t > 0)
    t = np.where(ok, t, 0.0)
    entries = origins + t[:, None] * d
    cos = np.abs(np.einsum("ij,ij->i", d, seg_dir))
    angles = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
    return entries, t, -d, angles, ok


def _clear_paths(sc: Scene, entries: np.ndarray, path: np.ndarray, u: np.ndarray, target: np.ndarray,
                 length: float) -> np.ndarray:
    """Which candidate paths (entry -> target) keep every margin, miss bone, and overshoot safely."""
    th = sc.thresholds
    tips = np.broadcast_to(target, entries.shape)
    safe = np.ones(len(path), dtype=bool)
    if sc.hazards:
        margins = np.array([h.margin_mm for h in sc.hazards])
        safe &= (sc.hazard_shapes.segment_distance(entries, tips) >= margins).all(axis=1)
    n_pleura = sum(h.family == "pleura" for h in sc.hazards)
    if sc.stop_shapes.n == 0:
        return safe
    from_tip = sc.stop_shapes.ray_hits(tips, u)          # columns: pleura..., backstops...
    bone = np.full(len(path), np.inf)
    if sc.backstops:  # the path may not pass through bone before the target
        from_entry = sc.stop_shapes.ray_hits(entries, u)[:, n_pleura:]
        safe &= (from_entry >= path[:, None] - th["BONE_CONTACT_TOLERANCE_MM"]).all(axis=1)
        bone = from_tip[:, n_pleura:].min(axis=1)
    if n_pleura:
        reach = np.maximum(length - path, 0.0) + th["OVERSHOOT_ALLOWANCE_MM"]
        t_p = from_tip[:, :n_pleura].min(axis=1)
        safe &= ~((t_p <= reach) & (t_p < bone))
    return safe


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, m in enumerate(mask.tolist() + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def safe_angle_window(plan: Plan | Scene, *, step_deg: float | None = None) -> AngleWindow:
    """In-plane angles (and entry points on the skin) from which the target is reached safely.

    A candidate is safe when its whole path keeps every hazard's margin, does not pass through a
    rib, fits the needle with the hub margin left outside, and its overshoot meets a rib or nothing
    before the pleura.  The suggestion is the flattest safe path (best seen in-plane).
    """
    sc = _scene(plan)
    th = sc.thresholds
    if sc.target_point is None:
        raise NeedleplanError("no target is marked and no needle is drawn; mark the target first")
    target = sc.target_point
    length = sc.needle.length_mm if sc.needle is not None else math.inf
    step = step_deg or th["WINDOW_STEP_DEG"]
    phis = np.radians(np.arange(th["WINDOW_MIN_ANGLE_DEG"], 90.0 + 1e-9, step))
    intervals, best = [], None
    for sign, name in ((-1.0, "left"), (1.0, "right")):  # entry col below / above the target's
        entries, path, u, angles, ok = _candidate_entries(sc, target, phis, sign)
        safe = ok & (path + th["HUB_MARGIN_MM"] <= length)
        if (sc.hazards or sc.backstops) and safe.any():
            keep = np.flatnonzero(safe)      # only candidates the needle length allows are traced
            safe[keep] = _clear_paths(sc, entries[keep], path[keep], u[keep], target, length)
        for a, b in _runs(safe):
            lo, hi = (a, b) if angles[a] <= angles[b] else (b, a)
            intervals.append(AngleInterval(name, round(float(angles[lo]), 2), round(float(angles[hi]), 2),
                                           tuple(entries[lo].tolist()), tuple(entries[hi].tolist())))
        if safe.any():
            i = int(np.flatnonzero(safe)[np.argmin(angles[safe])])
            cand = (float(angles[i]), float(path[i]), name, entries[i])
            if best is None or cand[:2] < best[:2]:
                best = cand
    suggested = None
    if best is not None:
        angle, path_len, name, entry = best
        suggested = Trajectory(tuple(entry.tolist()), tuple(target.tolist()), angle, path_len, name,
                               angle <= th["ANGLE_WARN_DEG"])
        reason = f"flattest safe path: {angle:.0f} deg from the {name}, {path_len:.1f} mm long"
    else:
        reason = ("no in-plane angle reaches the target clear of every hazard margin with this needle "
                  "and an overshoot that meets a rib or nothing before the pleura")
    return AngleWindow(tuple(target.tolist()), tuple(intervals), suggested, 2 * len(phis), reason)


def suggest(plan: Plan) -> Plan | None:
    """The plan with its needle moved onto the suggested trajectory (same length), or None if none is safe."""
    if plan.needle is None:
        raise NeedleplanError("the plan has no needle; draw one so its length is known, then ask again")
    window = safe_angle_window(plan)
    if window.suggested is None:
        return None
    t = window.suggested
    needle = replace(plan.needle, entry_mm=t.entry_mm, target_mm=t.target_mm)
    return replace(plan, needle=needle, findings=(), metrics={})
