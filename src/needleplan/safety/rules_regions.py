"""Every measurement in one calibrated ultrasound region (design.md section 3, CROSS_REGION)."""

from __future__ import annotations

import numpy as np

from needleplan.calibration import region_lookup
from needleplan.safety.context import Context, rule
from needleplan.safety.report import Finding

_NEEDLE_SAMPLES = 33  # points along the needle checked for the region they fall in


def _needle_px(ctx: Context) -> np.ndarray:
    n = ctx.plan.needle
    t = np.linspace(0.0, 1.0, _NEEDLE_SAMPLES)[:, None]
    pts_mm = np.asarray(n.entry_mm) * (1 - t) + np.asarray(n.target_mm) * t
    return ctx.plan.calibration.mm_to_px(pts_mm)


def _in_box(px: np.ndarray, box) -> np.ndarray:
    r0, c0, r1, c1 = box
    return (px[:, 0] >= r0 - 0.5) & (px[:, 0] <= r1 + 0.5) & (px[:, 1] >= c0 - 0.5) & (px[:, 1] <= c1 + 0.5)


def _regions_of(ctx: Context, px: np.ndarray) -> list[int | None]:
    """Region per point: from the image's regions when given, else the plan's calibrated box (index 0 or its own)."""
    cal = ctx.plan.calibration
    if ctx.regions is not None:
        return list(region_lookup(ctx.regions, px).point_regions)
    own = cal.region_index if cal.region_index is not None else 0
    return [own if inside else None for inside in _in_box(px, cal.region_box_px)]


def _problem(regions: list[int | None], expected: int | None, *, needle: bool) -> str | None:
    used = sorted({r for r in regions if r is not None})
    if len(used) > 1:
        return f"spans ultrasound regions {', '.join(map(str, used))}"
    if needle and regions[-1] is None:
        return "has its tip outside every calibrated region"
    if not needle and None in regions:
        return "lies partly outside every calibrated region"
    if not used:
        return "lies outside every calibrated region"
    if expected is not None and used[0] != expected:
        return f"lies in region {used[0]}, not in region {expected} whose calibration the plan uses"
    return None


@rule("regions", codes=("CROSS_REGION",), rows=("design.md 3",), needs_mm=True)
def regions(ctx: Context):
    cal = ctx.plan.calibration
    if ctx.regions is None and cal.region_box_px is None:
        return
    expected = cal.region_index if cal.source == "US_REGION" else None
    items = []
    if ctx.has_needle:
        items.append(("the needle", "needle", _needle_px(ctx), True))
    for i, s in ctx.confirmed(*{s.kind for s in ctx.plan.structures}):
        items.append((f"the {s.kind} mark" + (f" '{s.label}'" if s.label else ""), i,
                      cal.mm_to_px(np.asarray(s.points_mm)), False))
    for name, which, px, needle in items:
        problem = _problem(_regions_of(ctx, px), expected, needle=needle)
        if problem:
            yield Finding("CROSS_REGION", "block",
                          f"{name.capitalize()} {problem}: lengths across two views, or outside the calibrated "
                          "B-mode region, are meaningless. Redraw it inside one region.",
                          {"item": which, "problem": problem})
