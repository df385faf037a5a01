"""The drawn needle: target hit, length (R5, R12), bone in the way, deepest safe insertion, angle and
visibility (R13), out-of-plane caution (R14), probe against depth and image depth (R15), and the safe
angle window."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from needleplan import geometry as g
from needleplan.clinical import SiteProfile
from needleplan.plan import Plan
from needleplan.planner import depth_below_skin, shortest_needle
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding
from needleplan.vocabulary import STANDARD_NEEDLE_LENGTHS_MM

rule_family(__name__, order=40, title="needle, angle and image")


@rule(
    "target_hit",
    codes=(FindingCode.TARGET_MISSED, FindingCode.TARGET_NOT_MARKED),
    rows=("docs/contracts.md §5",),
    needs_needle=True,
)
def target_hit(ctx: Context) -> Iterator[Finding]:
    assert ctx.plan.needle is not None  # the engine runs this rule only when they exist
    targets = ctx.confirmed("target")
    if not targets:
        yield Finding(
            code=FindingCode.TARGET_NOT_MARKED,
            severity="info",
            message="No target is marked; the tip cannot be checked against it.",
            values={},
        )
        return
    tip = ctx.plan.needle.target_mm
    tol = ctx.th["TARGET_TOLERANCE_MM"]
    best = math.inf
    for _i, s in targets:
        if s.closed:
            best = min(best, float(g.point_shape_distance(tip, s.points_mm, True)[0]))
        elif ctx.calibrated:
            d = float(g.point_shape_distance(tip, s.points_mm, False)[0])
            best = min(best, 0.0 if d <= tol else d)
        else:
            ctx.skip(FindingCode.TARGET_MISSED)
            return
    if best > 0:
        dist = f" ({mm(best)} from it)" if ctx.calibrated else ""
        yield Finding(
            code=FindingCode.TARGET_MISSED,
            severity="warn",
            message=f"The planned tip is not inside the marked target{dist}.",
            values={"distance_mm": round(best, 2) if ctx.calibrated else None},
        )


@rule(
    "needle_direction",
    codes=(FindingCode.NEEDLE_REVERSED,),
    rows=("docs/contracts.md §3",),
    needs_mm=True,
    needs_needle=True,
)
def needle_direction(ctx: Context) -> Iterator[Finding]:
    """The needle runs from the skin into the patient: its tip must lie deeper below the skin than its entry.

    A needle drawn from the target to the skin has every length measured from the wrong end: its depth
    reads shallow and its extension points out of the patient, so no pleura overshoot is ever found.
    """
    assert ctx.plan.needle is not None and ctx.scene is not None  # the engine runs this rule only when they exist
    entry_depth = depth_below_skin(ctx.scene, ctx.plan.needle.entry_mm)
    tip_depth = depth_below_skin(ctx.scene, ctx.plan.needle.target_mm)
    if entry_depth > tip_depth + g.TIE_MM:
        yield Finding(
            code=FindingCode.NEEDLE_REVERSED,
            severity="block",
            message=f"The needle's tip is {mm(tip_depth)} below the skin but its entry {mm(entry_depth)}: "
            f"it is "
            "drawn from the target towards the skin (or points out of it), so depth, overshoot and the "
            "pleura checks are measured from the wrong end. Redraw it from the skin entry to the target.",
            values={"entry_depth_mm": round(entry_depth, 2), "tip_depth_mm": round(tip_depth, 2)},
        )


@rule("needle_length", codes=(FindingCode.NEEDLE_TOO_SHORT,), rows=("R5", "R12"), needs_mm=True, needs_needle=True)
def needle_length(ctx: Context) -> Iterator[Finding]:
    assert ctx.plan.needle is not None and ctx.metrics is not None  # the engine runs this rule only when they exist
    m, n = ctx.metrics, ctx.plan.needle
    required = m.needle_length_required_mm
    if n.length_mm >= required - 1e-9:
        return
    best = shortest_needle(required, STANDARD_NEEDLE_LENGTHS_MM)
    advice = f"a {best:g} mm needle leaves the margin" if best else "no standard needle is long enough"
    values = {
        "needle_length_mm": n.length_mm,
        "path_length_mm": round(m.path_length_mm, 2),
        "required_mm": round(required, 2),
        "hub_margin_mm": ctx.th["HUB_MARGIN_MM"],
        "suggested_needle_mm": best,
    }
    if n.length_mm < m.path_length_mm:
        yield Finding(
            code=FindingCode.NEEDLE_TOO_SHORT,
            severity="block",
            message=f"The {n.length_mm:g} mm needle cannot reach the target: the path is "
            f"{mm(m.path_length_mm)} "
            f"({mm(m.depth_mm)} deep at {m.angle_deg:.0f} deg); {advice}.",
            values=values,
        )
    else:
        left = n.length_mm - m.path_length_mm
        yield Finding(
            code=FindingCode.NEEDLE_TOO_SHORT,
            severity="warn",
            message=f"Only {mm(left)} of the {n.length_mm:g} mm needle stays outside the skin at the "
            f"target; keep "
            f"{ctx.th['HUB_MARGIN_MM']:g} mm so the hub is not buried; {advice}.",
            values=values,
        )


@rule("bone_in_path", codes=(FindingCode.RIB_IN_PATH,), rows=("R4",), needs_mm=True, needs_needle=True)
def bone_in_path(ctx: Context) -> Iterator[Finding]:
    assert ctx.metrics is not None  # the engine runs this rule only when they exist
    m = ctx.metrics
    b = m.backstop_along_path_mm
    if b is not None and b < m.path_length_mm - ctx.th["BONE_CONTACT_TOLERANCE_MM"]:
        yield Finding(
            code=FindingCode.RIB_IN_PATH,
            severity="warn",
            message=f"The needle meets bone {mm(b)} from the skin, before the planned tip at "
            f"{mm(m.path_length_mm)}: "
            "it will stop on the bone short of the target.",
            values={"bone_along_path_mm": round(b, 2), "path_length_mm": round(m.path_length_mm, 2)},
        )


_LIMIT_WORDS: Mapping[str, str] = {
    "needle_length": "the needle length less the hub margin",
    "rib": "bone contact (rib)",
    "bone": "bone contact",
}


@rule(
    "safe_insertion",
    codes=(FindingCode.SAFE_INSERTION,),
    rows=("R3", "R5", "R10", "R11"),
    needs_mm=True,
    needs_needle=True,
)
def safe_insertion(ctx: Context) -> Iterator[Finding]:
    assert ctx.metrics is not None and ctx.insertion is not None  # the engine runs this rule only when they exist
    s = ctx.insertion
    what = _LIMIT_WORDS.get(s.limited_by, f"the {s.limited_by} margin")
    yield Finding(
        code=FindingCode.SAFE_INSERTION,
        severity="info",
        message=f"Deepest safe insertion on this path: {mm(s.max_safe_insertion_mm)} from the skin, "
        f"limited by "
        f"{what}; the planned tip is at {mm(ctx.metrics.path_length_mm)}.",
        values={
            "max_safe_insertion_mm": round(s.max_safe_insertion_mm, 2),
            "limited_by": s.limited_by,
            "remaining_mm": round(s.remaining_mm, 2),
        },
    )


@rule("visibility", codes=(FindingCode.STEEP_ANGLE,), rows=("R13",), needs_mm=True, needs_needle=True)
def visibility(ctx: Context) -> Iterator[Finding]:
    assert ctx.plan.needle is not None and ctx.metrics is not None  # the engine runs this rule only when they exist
    if ctx.plan.approach != "in_plane":
        return
    m, th = ctx.metrics, ctx.th
    a = m.angle_deg
    if a <= th["ANGLE_INFO_DEG"]:
        return
    flat = math.radians(th["ANGLE_INFO_DEG"])
    values: dict[str, Any] = {
        "angle_deg": round(a, 2),
        "entry_offset_for_flat_mm": round(m.depth_mm / math.tan(flat), 2),
        "path_for_flat_mm": round(m.depth_mm / math.sin(flat), 2),
        "flat_angle_deg": th["ANGLE_INFO_DEG"],
    }
    trade = (
        f" At {th['ANGLE_INFO_DEG']:g} deg this {mm(m.depth_mm)} deep target needs an entry "
        f"{mm(values['entry_offset_for_flat_mm'])} away and a {mm(values['path_for_flat_mm'])} path."
    )
    echogenic = bool(ctx.plan.needle.extra.get("echogenic"))
    if a > th["ANGLE_STRONG_DEG"]:
        sev, text = (
            "warn",
            (
                f"Needle at {a:.0f} deg to the skin: most needles are invisible in-plane above "
                f"{th['ANGLE_STRONG_DEG']:g} deg"
                + (" (echogenic needle noted)." if echogenic else " unless echogenic.")
            ),
        )
        values["level"] = "strong"
    elif a > th["ANGLE_WARN_DEG"]:
        sev, text = "warn", f"Needle at {a:.0f} deg to the skin: visibility falls beyond {th['ANGLE_WARN_DEG']:g} deg."
        values["level"] = "warn"
    else:
        sev, text = "info", f"Needle at {a:.0f} deg to the skin: above the ideal {th['ANGLE_INFO_DEG']:g} deg."
        values["level"] = "info"
    yield Finding(code=FindingCode.STEEP_ANGLE, severity=sev, message=text + trade, values=values)


@rule("out_of_plane", codes=(FindingCode.OUT_OF_PLANE,), rows=("R14",))
def out_of_plane(ctx: Context) -> Iterator[Finding]:
    if ctx.plan.approach != "out_of_plane":
        return
    sev = "warn" if ctx.profile.pneumothorax_class else "info"
    values: dict = {}
    if ctx.metrics is not None and ctx.metrics.entry_offset_mm > 0:
        values["incidence_angle_deg"] = round(
            math.degrees(math.atan2(ctx.metrics.depth_mm, ctx.metrics.entry_offset_mm)), 2
        )
    yield Finding(
        code=FindingCode.OUT_OF_PLANE,
        severity=sev,
        message="Out-of-plane approach: the bright dot is where the shaft crosses the beam, not "
        "necessarily the tip. "
        "Walk the needle down or use hydrolocation"
        + ("; prefer in-plane at this thoracic site." if sev == "warn" else "."),
        values=values,
    )


def _probe(plan: Plan) -> tuple[str, float | None] | None:
    p = plan.extra.get("probe")
    if isinstance(p, str):
        return p.lower(), None
    if isinstance(p, Mapping):
        f = p.get("frequency_mhz")
        return str(p.get("type") or p.get("kind") or "").lower(), (float(f) if isinstance(f, (int, float)) else None)
    return None


@rule("probe_depth", codes=(FindingCode.PROBE_DEPTH,), rows=("R15",), needs_mm=True, needs_needle=True)
def probe_depth(ctx: Context) -> Iterator[Finding]:
    assert ctx.metrics is not None  # the engine runs this rule only when they exist
    probe = _probe(ctx.plan)
    if probe is None or "linear" not in probe[0]:
        return
    freq, th, depth = probe[1], ctx.th, ctx.metrics.depth_mm
    high = freq is not None and freq >= th["PROBE_HF_MIN_MHZ"]
    limit = th["PROBE_HF_MAX_DEPTH_MM"] if high else th["PROBE_LINEAR_MAX_DEPTH_MM"]
    if depth > limit:
        what = f"{freq:g} MHz linear probe" if freq else "linear probe"
        yield Finding(
            code=FindingCode.PROBE_DEPTH,
            severity="warn",
            message=f"Target {mm(depth)} deep with a {what}: penetration is often limited to about "
            f"{limit / 10:g} cm; a curvilinear 2-5 MHz probe shows deep targets better.",
            values={"depth_mm": round(depth, 2), "limit_mm": limit, "frequency_mhz": freq},
        )


#: R15 (second part): what lies under the target and would stop, or be hurt by, an overshoot.
_FLOOR_WORDS: Mapping[str, str] = {
    "pleura": "the pleura",
    "rib": "a rib",
    "bone": "bone",
    "viscera": "the kidney or peritoneum",
    "nerve": "the nerve",
    "neuraxis": "the laminae or the interlaminar window",
}


def _floor_kinds(profile: SiteProfile) -> tuple[str, ...]:
    """Kinds that show what is under the target: pleura or bone at thoracic sites; bone and the site's
    expected viscera, nerve or neuraxis at deep and lumbar sites; none at superficial ones (rule not run)."""
    if profile.region == "thoracic":
        return ("pleura", "rib", "bone")
    if profile.region in ("deep", "lumbar"):
        return ("bone",) + tuple(k for k in profile.expected_hazards if k in ("viscera", "nerve", "neuraxis"))
    return ()


@rule("image_depth", codes=(FindingCode.IMAGE_TOO_SHALLOW,), rows=("R15",), needs_mm=True, needs_needle=True)
def image_depth(ctx: Context) -> Iterator[Finding]:
    """WARN when nothing is marked under the target and the image ends above where an overshoot reaches.

    The reach is the straight extension past the tip by the unused needle length (the PLEURA_OVERSHOOT
    geometry); the image ends at the calibrated region's deepest row.  Rows are world ``row_mm``.
    """
    assert ctx.over is not None  # the engine runs this rule only when they exist
    kinds = _floor_kinds(ctx.profile)
    if not kinds:
        return
    plan = ctx.plan
    assert plan.needle is not None  # the engine runs this rule only when there is a needle
    entry, tip = np.asarray(plan.needle.entry_mm, float), np.asarray(plan.needle.target_mm, float)
    if any(max(p[0] for p in s.points_mm) > tip[0] for _i, s in ctx.confirmed(*kinds)):
        return
    reach = ctx.over.reach_mm
    down = float((tip - entry)[0]) / float(np.hypot(*(tip - entry)))
    reach_row_mm = float(tip[0]) + reach * max(down, 0.0)
    what = " or ".join(dict.fromkeys(_FLOOR_WORDS[k] for k in kinds))
    values = {
        "tip_row_mm": round(float(tip[0]), 2),
        "reach_row_mm": round(reach_row_mm, 2),
        "overshoot_reach_mm": round(reach, 2),
        "looked_for": list(kinds),
    }
    box = plan.calibration.region_box_px
    if box is None:
        yield Finding(
            code=FindingCode.IMAGE_TOO_SHALLOW,
            severity="info",
            message=f"Image depth not checked: the plan has no calibrated region box. Nothing is marked "
            f"beneath "
            f"the target and the needle could reach {mm(reach_row_mm)} along this path; make sure the "
            f"image shows {what} under it.",
            values={**values, "image_depth_mm": None, "skipped": "no calibrated region box"},
        )
        return
    image_row_mm = float(plan.calibration.px_to_mm([float(box[2]), float(box[1])])[0])
    if image_row_mm < reach_row_mm:
        yield Finding(
            code=FindingCode.IMAGE_TOO_SHALLOW,
            severity="warn",
            message=f"The image shows {mm(image_row_mm)}; the needle could reach {mm(reach_row_mm)} along "
            f"this "
            f"path ({mm(reach)} of unused needle past the tip at {mm(float(tip[0]))}); nothing is marked "
            f"beneath the target: deepen the image to see {what} under it.",
            values={**values, "image_depth_mm": round(image_row_mm, 2)},
        )


@rule("angle_window", codes=(FindingCode.NO_SAFE_ANGLE,), rows=("R3", "R4", "R5", "R13"), needs_mm=True)
def angle_window(ctx: Context) -> Iterator[Finding]:
    w = ctx.window
    if w is not None and not w.intervals:
        yield Finding(
            code=FindingCode.NO_SAFE_ANGLE,
            severity="warn",
            message=f"No safe in-plane angle: {w.reason}.",
            values={"target_mm": list(w.target_mm)},
        )
