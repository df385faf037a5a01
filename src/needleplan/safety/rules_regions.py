"""Every measurement in one calibrated ultrasound region (docs/contracts.md §3, CROSS_REGION)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from needleplan.calibration import region_lookup
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding

_NEEDLE_SAMPLES = 33  # points along the needle checked for the region they fall in

rule_family(__name__, order=10, title="regions and calibration")


def _needle_mm(ctx: Context) -> np.ndarray:
    assert ctx.plan.needle is not None  # called only when ctx.has_needle
    n = ctx.plan.needle
    t = np.linspace(0.0, 1.0, _NEEDLE_SAMPLES)[:, None]
    return np.asarray(n.entry_mm) * (1 - t) + np.asarray(n.target_mm) * t


def _in_box(px: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    r0, c0, r1, c1 = box
    return (px[:, 0] >= r0 - 0.5) & (px[:, 0] <= r1 + 0.5) & (px[:, 1] >= c0 - 0.5) & (px[:, 1] <= c1 + 0.5)


def _regions_of(ctx: Context, px: np.ndarray) -> list[int | None]:
    """Region per point: from the image's regions when given, else the plan's calibrated box."""
    cal = ctx.plan.calibration
    if ctx.regions is not None:
        return list(region_lookup(ctx.regions, px).point_regions)
    assert cal.region_box_px is not None  # regions() stops first when there is neither
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


@rule("regions", codes=(FindingCode.CROSS_REGION,), rows=("docs/contracts.md §3",), needs_mm=True)
def regions(ctx: Context) -> Iterator[Finding]:
    cal = ctx.plan.calibration
    if ctx.regions is None and cal.region_box_px is None:
        return
    expected = cal.region_index if cal.source == "US_REGION" else None
    items: list[tuple[str, str | int, np.ndarray, bool]] = []  # (words, "needle" or structure index, points, is needle)
    if ctx.has_needle:
        items.append(("the needle", "needle", _needle_mm(ctx), True))
    for i, st in ctx.confirmed(*{st.kind for st in ctx.plan.structures}):
        items.append(
            (
                f"the {st.kind} mark" + (f" '{st.label}'" if st.label else ""),
                i,
                np.asarray(st.points_mm, dtype=float),
                False,
            )
        )
    if not items:
        return
    # One conversion and one lookup for every point of every measurement, then split per item.
    per_point = _regions_of(ctx, cal.mm_to_px(np.concatenate([pts for _n, _w, pts, _f in items])))
    start = 0
    for name, which, pts, needle in items:
        problem = _problem(per_point[start : start + len(pts)], expected, needle=needle)
        start += len(pts)
        if problem:
            yield Finding(
                code=FindingCode.CROSS_REGION,
                severity="block",
                message=f"{name.capitalize()} {problem}: lengths across two views, or outside the calibrated "
                "B-mode region, are meaningless. Redraw it inside one region.",
                values={"item": which, "problem": problem},
            )
