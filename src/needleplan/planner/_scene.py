"""A plan's geometry prepared once (hazards, backstops, skin, target) and the helpers every metric shares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan import geometry as g
from needleplan.clinical import BACKSTOP_KINDS, FAMILY_MARGINS, hazard_family, resolve_thresholds
from needleplan.errors import CalibrationError, NeedleplanError
from needleplan.plan import Needle, Plan


@dataclass(frozen=True, slots=True, kw_only=True)
class Hazard:
    """A confirmed structure the needle must respect: its margin (0 for a bony backstop).

    ``margin_key`` names the thresholds entry ``margin_mm`` comes from (None for a backstop).
    """

    index: int
    kind: str
    family: str
    label: str | None
    points: np.ndarray
    closed: bool
    margin_mm: float
    other_frame: bool
    margin_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scene:
    """A plan's geometry prepared once for every metric and rule."""

    thresholds: Mapping[str, float]
    hazards: tuple[Hazard, ...]
    backstops: tuple[Hazard, ...]
    shapes: g.ShapeSet  # hazards then backstops, one column each
    hazard_shapes: g.ShapeSet  # hazards only (the safe angle window's margin test)
    stop_shapes: g.ShapeSet  # pleura then backstops (what an overshoot meets)
    skin: np.ndarray | None
    target_point: np.ndarray | None
    targets: tuple[tuple[np.ndarray, bool], ...]
    needle: Needle | None


#: How far (mm) an open pleura mark is continued sideways, at the depth of its end points, beyond its
#: marked ends: the pleura is a continuous sheet under the chest wall, so an overshoot or a shaft past
#: the end of a partly marked pleura meets it too (the same convention as the skin line's depth).
PLEURA_CONTINUED_MM = 1000.0


def continued_pleura(points: np.ndarray, other_spans: tuple[tuple[float, float], ...] = ()) -> np.ndarray:
    """An open pleura polyline continued horizontally beyond its two ends.

    Each end is continued by :data:`PLEURA_CONTINUED_MM`, or only up to the nearest column covered
    by another pleura mark (``other_spans``: their ``(min_col, max_col)``), which takes over there.

    >>> continued_pleura(np.array([[20.0, 40.0], [20.0, 5.0]])).tolist()
    [[20.0, -995.0], [20.0, 5.0], [20.0, 40.0], [20.0, 1040.0]]
    >>> continued_pleura(np.array([[20.0, -40.0], [20.0, -5.0]]), ((5.0, 40.0),)).tolist()
    [[20.0, -1040.0], [20.0, -40.0], [20.0, -5.0], [20.0, 5.0]]
    """
    p = points if points[0, 1] <= points[-1, 1] else points[::-1]
    c0, c1 = float(p[0, 1]), float(p[-1, 1])
    left = max([hi for lo, hi in other_spans if hi <= c0] + [c0 - PLEURA_CONTINUED_MM])
    right = min([lo for lo, hi in other_spans if lo >= c1] + [c1 + PLEURA_CONTINUED_MM])
    if any(lo < c0 < hi for lo, hi in other_spans):
        left = c0
    if any(lo < c1 < hi for lo, hi in other_spans):
        right = c1
    return np.vstack([[p[0, 0], left], p, [p[-1, 0], right]])


def _traced_shapes(items: list[Hazard]) -> list[tuple[np.ndarray, bool]]:
    """The shapes the geometry traces: an open pleura continues beyond its marked ends (see above)."""
    spans = {h.index: (float(h.points[:, 1].min()), float(h.points[:, 1].max())) for h in items if h.family == "pleura"}
    out = []
    for h in items:
        if h.family == "pleura" and not h.closed and len(h.points) >= 2:
            others = tuple(span for i, span in spans.items() if i != h.index)
            out.append((continued_pleura(h.points, others), False))
        else:
            out.append((h.points, h.closed))
    return out


def position_changed(plan: Plan) -> bool:
    """R8: the plan records a planning position and a different procedure position."""
    a, b = plan.extra.get("planning_position"), plan.extra.get("procedure_position")
    return bool(a and b and a != b)


def prepare(plan: Plan, thresholds: Mapping[str, float] | None = None) -> Scene:
    """Prepare a calibrated plan's geometry; ``thresholds`` are resolved values (default: the site's)."""
    if not plan.calibration.is_calibrated:
        raise CalibrationError(
            "the plan has no length calibration, so nothing can be measured in mm; "
            "calibrate the image (for example two points on the depth ruler) first"
        )
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
            keys = FAMILY_MARGINS[family]
            key = keys.other_frame if other and keys.other_frame is not None else keys.same_frame
            hazards.append(
                Hazard(
                    index=i,
                    kind=s.kind,
                    family=family,
                    label=s.label,
                    points=pts,
                    closed=s.closed,
                    margin_mm=th[key],
                    other_frame=other,
                    margin_key=key,
                )
            )
        elif s.kind in BACKSTOP_KINDS:
            backstops.append(
                Hazard(
                    index=i,
                    kind=s.kind,
                    family="backstop",
                    label=s.label,
                    points=pts,
                    closed=s.closed,
                    margin_mm=0.0,
                    other_frame=other,
                )
            )
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
    shapes = g.ShapeSet(_traced_shapes(items))
    hazard_shapes = g.ShapeSet(_traced_shapes(hazards))
    stops = [h for h in hazards if h.family == "pleura"] + backstops
    stop_shapes = g.ShapeSet(_traced_shapes(stops))
    return Scene(
        thresholds=th,
        hazards=tuple(hazards),
        backstops=tuple(backstops),
        shapes=shapes,
        hazard_shapes=hazard_shapes,
        stop_shapes=stop_shapes,
        skin=skin,
        target_point=target_point,
        targets=tuple(targets),
        needle=plan.needle,
    )


def _scene(plan: Plan | Scene) -> Scene:
    return plan if isinstance(plan, Scene) else prepare(plan)


_SKIN_FAR_MM = 1000.0  # how far the skin line is continued sideways for entry points beyond the image


def extended_skin(scene: Scene) -> np.ndarray | None:
    """The marked skin line ordered by column and continued horizontally beyond both ends (or None)."""
    if scene.skin is None:
        return None
    s = scene.skin if scene.skin[0, 1] <= scene.skin[-1, 1] else scene.skin[::-1]
    return np.vstack([[s[0, 0], s[0, 1] - _SKIN_FAR_MM], s, [s[-1, 0], s[-1, 1] + _SKIN_FAR_MM]])


def skin_entry(scene: Scene, entry: np.ndarray, tip: np.ndarray) -> np.ndarray:
    """Where the drawn needle's line crosses the skin, going back from the tip (the skin puncture).

    The drawn entry when the line does not cross the skin behind the tip (tip above the skin, or a
    needle heading up or sideways).  Without a skin line the skin is ``row_mm = 0``.
    """
    d = tip - entry
    u = d / float(np.hypot(*d))
    if scene.skin is None:
        t = float(tip[0] / u[0]) if u[0] > 1e-12 else math.inf
    else:
        t = g.ray_shape_hits(tip, -u, extended_skin(scene), False)
    if not math.isfinite(t) or t <= 1e-9:
        return entry
    return tip - t * u


def _needle_of(scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Skin entry, tip, unit direction and path length of the drawn needle.

    Lengths are measured from where the needle crosses the skin, not from the drawn entry point: an
    entry drawn above the skin would count air as insertion (the needle pushed deeper than safe), one
    drawn below it would hide part of the path (docs/contracts.md §3: depth from the skin surface).
    """
    if scene.needle is None:
        raise NeedleplanError("the plan has no needle drawn; draw the needle (entry and tip) first")
    entry = np.asarray(scene.needle.entry_mm, dtype=float)
    tip = np.asarray(scene.needle.target_mm, dtype=float)
    if float(np.hypot(*(tip - entry))) <= 0:
        raise NeedleplanError("the needle's entry and tip are the same point; draw the needle again")
    entry = skin_entry(scene, entry, tip)
    length = float(np.hypot(*(tip - entry)))
    return entry, tip, (tip - entry) / length, length


def depth_below_skin(scene: Scene, point: Any) -> float:
    """Vertical depth (mm) of a point below the skin line (or below ``row_mm = 0``)."""
    p = np.asarray(point, dtype=float)
    if scene.skin is None:
        return float(p[0])
    return float(p[0] - g.polyline_row_at_col(scene.skin, float(p[1])))


def _skin_direction(scene: Scene, point: np.ndarray) -> np.ndarray:
    """Direction of the skin at a point: the marked line continued horizontally beyond its ends, as for depth."""
    if scene.skin is None:
        return np.array([0.0, 1.0])
    return g.nearest_segment_direction(extended_skin(scene), point)


def _items(sc: Scene) -> tuple[Hazard, ...]:
    return sc.hazards + sc.backstops


def _first_hit(sc: Scene, hits: np.ndarray, family: str | None) -> float:
    """Smallest ray distance among the scene's hazards of one family (``"pleura"``, ``"neuraxis"``...) or its
    backstops (``None``)."""
    cols = [j for j, h in enumerate(_items(sc)) if (h.family == family if family else h.family == "backstop")]
    return float(hits[cols].min()) if cols else math.inf
