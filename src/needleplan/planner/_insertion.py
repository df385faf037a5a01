"""The deepest safe insertion along the drawn trajectory and what the overshoot past the tip meets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from needleplan.geometry import TIE_MM
from needleplan.plan import Plan
from needleplan.planner._scene import Scene, _first_hit, _items, _needle_of, _scene


@dataclass(frozen=True, slots=True, kw_only=True)
class SafeInsertion:
    """How far along this trajectory the needle may be inserted, and what limits it."""

    max_safe_insertion_mm: float
    limited_by: str
    remaining_mm: float
    limits_mm: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Overshoot:
    """The straight extension past the tip by the unused needle length (plus allowance)."""

    reach_mm: float
    first_hit: str | None
    first_hit_mm: float | None
    pleura_mm: float | None
    backstop_mm: float | None
    neuraxis_mm: float | None = None

    def unstopped(self, hit_mm: float | None) -> bool:
        """Whether something ``hit_mm`` past the tip lies within the reach with no bone before it.

        >>> o = Overshoot(reach_mm=20.0, first_hit=None, first_hit_mm=None, pleura_mm=None, backstop_mm=12.0)
        >>> o.unstopped(15.0), o.unstopped(10.0), o.unstopped(25.0), o.unstopped(None)
        (False, True, False, False)
        """
        if hit_mm is None or hit_mm > self.reach_mm + TIE_MM:
            return False
        return self.backstop_mm is None or self.backstop_mm >= hit_mm


def max_safe_insertion(plan: Plan | Scene) -> SafeInsertion:
    """The deepest insertion (mm from the skin crossing along this trajectory) that keeps every margin.

    Limited by the first hazard margin the tip would enter, bone contact (the tip stops on a rib),
    or the needle length minus the hub margin, whichever comes first.
    """
    sc = _scene(plan)
    entry, _tip, u, path = _needle_of(sc)
    assert sc.needle is not None  # _needle_of refuses a plan without one
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
    return SafeInsertion(
        max_safe_insertion_mm=best,
        limited_by=kind,
        remaining_mm=best - path,
        limits_mm={k: v for k, v in limits.items() if math.isfinite(v)},
    )


def overshoot(plan: Plan | Scene) -> Overshoot:
    """Extend the path past the tip by the unused needle length (+ allowance): what does it meet first?

    ``pleura_mm``, ``neuraxis_mm`` and ``backstop_mm`` are the distances past the tip to the first
    pleura, neuraxis and bone on the straight extension, however far (None when it misses them).
    """
    sc = _scene(plan)
    _entry, tip, u, path = _needle_of(sc)
    assert sc.needle is not None  # _needle_of refuses a plan without one
    reach = max(0.0, sc.needle.length_mm - path) + sc.thresholds["OVERSHOOT_ALLOWANCE_MM"]
    row = sc.shapes.ray_hits(tip, u)[0]
    hits = [(float(row[j]), h.kind) for j, h in enumerate(_items(sc))]
    pleura = _first_hit(sc, row, "pleura")
    neuraxis = _first_hit(sc, row, "neuraxis")
    bone = _first_hit(sc, row, None)
    within = [(t, k) for t, k in hits if t <= reach + TIE_MM]
    first_t, first_k = min(within) if within else (None, None)
    return Overshoot(
        reach_mm=reach,
        first_hit=first_k,
        first_hit_mm=first_t,
        pleura_mm=None if math.isinf(pleura) else pleura,
        backstop_mm=None if math.isinf(bone) else bone,
        neuraxis_mm=None if math.isinf(neuraxis) else neuraxis,
    )
