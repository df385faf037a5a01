"""Metrics of the drawn needle: depth, path length, angle to the skin, entry offset, clearances."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from needleplan import geometry as g
from needleplan.plan import Plan
from needleplan.planner._scene import Scene, _first_hit, _items, _needle_of, _scene, _skin_direction, depth_below_skin


@dataclass(frozen=True, slots=True, kw_only=True)
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
