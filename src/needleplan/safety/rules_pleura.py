"""Pneumothorax rules: site class (R1, R19), pleura marked (R2), margin and overshoot (R3),
rib rather than intercostal space (R4), needle length against the pleura (R5)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from needleplan import geometry as g
from needleplan.clinical import SITE_PROFILES
from needleplan.planner import Hazard, depth_below_skin, shortest_needle, skin_entry
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding
from needleplan.vocabulary import STANDARD_NEEDLE_LENGTHS_MM

#: Codes whose severity a lung-disease history raises (R7).
PNEUMOTHORAX_CODES = (
    FindingCode.PLEURA_MARGIN,
    FindingCode.PLEURA_OVERSHOOT,
    FindingCode.INTERCOSTAL_TARGET,
    FindingCode.NEEDLE_REACHES_PLEURA,
)

rule_family(__name__, order=20, title="pleura and pneumothorax")


@rule("pneumothorax_site", codes=(FindingCode.PNEUMOTHORAX_SITE, FindingCode.SITE_UNKNOWN), rows=("R1", "R19"))
def pneumothorax_site(ctx: Context) -> Iterator[Finding]:
    if ctx.plan.site not in SITE_PROFILES:
        yield Finding(
            code=FindingCode.SITE_UNKNOWN,
            severity="warn",
            message=f"Site '{ctx.plan.site}' is not a known site, so it is checked as a superficial site "
            f"without "
            "the pneumothorax rules. If the target lies over the rib cage or lung apex, choose the site "
            f"from: {', '.join(s for s in SITE_PROFILES if s != 'other')}.",
            values={"site": ctx.plan.site},
        )
    if ctx.profile.pneumothorax_class:
        male = ctx.plan.patient.sex == "M"
        yield Finding(
            code=FindingCode.PNEUMOTHORAX_SITE,
            severity="info",
            message=f"{ctx.profile.name.capitalize()} lies over the rib cage or lung apex: pneumothorax "
            f"is the "
            "main injury here" + (" (somewhat more often in men)" if male else "") + ". Tell the patient "
            "to return for pleuritic chest pain, breathlessness or cough over the next 2 days.",
            values={"site": ctx.plan.site, "region": ctx.profile.region, "male_sex": male},
        )


def _pleura_depth(ctx: Context, points: ArrayLike) -> float | None:
    if not ctx.calibrated:
        return None
    assert ctx.scene is not None  # the engine prepares the scene of every calibrated plan
    pts = np.asarray(points, dtype=float)
    col = ctx.plan.needle.target_mm[1] if ctx.plan.needle is not None else float(pts[:, 1].mean())
    if len(pts) >= 2 and pts[:, 1].min() <= col <= pts[:, 1].max():
        return depth_below_skin(ctx.scene, (g.polyline_row_at_col(pts, col), col))
    return min(depth_below_skin(ctx.scene, p) for p in pts)


@rule(
    "pleura_marked",
    codes=(FindingCode.PLEURA_NOT_MARKED, FindingCode.PLEURA_UNMEASURED, FindingCode.PLEURA_SUGGESTED_UNMARKED),
    rows=("R2",),
)
def pleura_marked(ctx: Context) -> Iterator[Finding]:
    pleura, ribs = ctx.confirmed("pleura"), ctx.confirmed("rib")
    suggested = [s for s in ctx.plan.structures if s.kind == "pleura" and s.suggested]
    if not pleura and suggested:
        s = max(suggested, key=lambda s: s.confidence or 0.0)
        depth = _pleura_depth(ctx, s.points_mm)
        where = f" {depth:.1f} mm deep" if depth is not None else ""
        yield Finding(
            code=FindingCode.PLEURA_SUGGESTED_UNMARKED,
            severity="warn",
            message=f"A pleura-like line was detected{where} and is not marked; check it and accept or "
            f"reject it "
            "before relying on the margins.",
            values={"depth_mm": depth, "confidence": s.confidence, "evidence": s.evidence},
        )
    if not ctx.profile.requires_pleura_mark or pleura:
        return
    if not ribs:
        yield Finding(
            code=FindingCode.PLEURA_NOT_MARKED,
            severity="block",
            message=f"Pleural depth not verified: neither pleura nor rib is marked at this "
            f"{ctx.profile.name} site. "
            "Depth cannot be predicted from BMI or sex; mark the pleural line on this frame.",
            values={"site": ctx.plan.site},
        )
    else:
        yield Finding(
            code=FindingCode.PLEURA_UNMEASURED,
            severity="warn",
            message="Only the rib is marked: the pleural line (about 5 mm below the rib line in adults) "
            "is not, so "
            "the tip-to-pleura margin cannot be measured; mark the pleura.",
            values={"ribs_marked": len(ribs)},
        )


def _pleura_hazards(ctx: Context) -> list[Hazard]:
    return [h for h in ctx.scene.hazards if h.family == "pleura"] if ctx.scene is not None else []


_BEYOND_WORDS = (
    " (beyond the marked end of the pleura: it is taken to continue at the depth of its last marked "
    "point; mark it across the needle's path)"
)


def _beyond_marked(ctx: Context, col_mm: float) -> bool:
    """Does a pleura hit at this column lie on the assumed continuation rather than on a marked pleura?"""
    return not any(
        h.points[:, 1].min() - g.TIE_MM <= col_mm <= h.points[:, 1].max() + g.TIE_MM for h in _pleura_hazards(ctx)
    )


@rule("pleura_margin", codes=(FindingCode.PLEURA_MARGIN,), rows=("R3",), needs_needle=True)
def pleura_margin(ctx: Context) -> Iterator[Finding]:
    if not ctx.calibrated:
        ctx.skip(FindingCode.PLEURA_MARGIN)
        for i, s in ctx.confirmed("pleura"):
            if ctx.crosses(i, s):
                yield Finding(
                    code=FindingCode.PLEURA_MARGIN,
                    severity="block",
                    message="The needle as drawn crosses the pleura.",
                    values={"structure": i, "crosses": True},
                )
        return
    assert ctx.scene is not None  # the engine prepares the scene of every calibrated plan
    entry, tip_point, _u = ctx.needle_vectors()
    entry = skin_entry(ctx.scene, entry, tip_point)
    for h in _pleura_hazards(ctx):
        shaft, tip = ctx.clearance(h.index, None)
        # The clearance is to the pleura continued beyond its marked ends; say so when only that is close.
        beyond = g.segment_shape_distance(entry, tip_point, h.points, h.closed) > shaft + g.TIE_MM
        why = " (pleura marked on another frame or position)" if h.other_frame else ""
        why += _BEYOND_WORDS if beyond else ""
        values = {
            "structure": h.index,
            "tip_to_pleura_mm": round(tip, 2),
            "shaft_to_pleura_mm": round(shaft, 2),
            "margin_mm": h.margin_mm,
            "crosses": shaft <= 1e-9,
            "beyond_marked_pleura": beyond,
        }
        if shaft <= 1e-9:
            yield Finding(
                code=FindingCode.PLEURA_MARGIN,
                severity="block",
                message=f"The needle as drawn reaches or crosses the pleura (tip {mm(tip)} from the "
                f"pleural line); "
                f"it must stop at least {h.margin_mm:g} mm above it{why}.",
                values=values,
            )
        elif shaft < h.margin_mm - g.TIE_MM:
            part = (
                f"Tip {mm(tip)} above the pleura" if tip - shaft < 1e-6 else f"Shaft passes {mm(shaft)} from the pleura"
            )
            yield Finding(
                code=FindingCode.PLEURA_MARGIN,
                severity="warn",
                message=f"{part}; margin {h.margin_mm:g} mm{why}.",
                values=values,
            )


@rule("pleura_overshoot", codes=(FindingCode.PLEURA_OVERSHOOT,), rows=("R3",), needs_mm=True, needs_needle=True)
def pleura_overshoot(ctx: Context) -> Iterator[Finding]:
    assert ctx.over is not None  # the engine runs this rule only when they exist
    o = ctx.over
    if o.pleura_mm is None or o.pleura_mm > o.reach_mm + g.TIE_MM:
        return
    if o.backstop_mm is not None and o.backstop_mm < o.pleura_mm:
        return
    _entry, tip, u = ctx.needle_vectors()
    beyond = _beyond_marked(ctx, float(tip[1] + o.pleura_mm * u[1]))
    where = _BEYOND_WORDS if beyond else ""
    yield Finding(
        code=FindingCode.PLEURA_OVERSHOOT,
        severity="warn",
        message=f"If the needle is pushed further, its straight path meets the pleura {mm(o.pleura_mm)} "
        f"past the "
        f"planned tip{where} with no rib in between; {mm(o.reach_mm)} of needle is still unused.",
        values={
            "pleura_beyond_tip_mm": round(o.pleura_mm, 2),
            "unused_length_mm": round(o.reach_mm, 2),
            "beyond_marked_pleura": beyond,
        },
    )


@rule("intercostal_target", codes=(FindingCode.INTERCOSTAL_TARGET,), rows=("R4",), needs_needle=True)
def intercostal_target(ctx: Context) -> Iterator[Finding]:
    if not ctx.confirmed("pleura"):
        return
    _entry, tip, u = ctx.needle_vectors()
    directions = np.array([u, [1.0, 0.0]])
    if ctx.scene is not None:  # the planner's pleura-then-backstops shapes: one pass for both rays
        n_pleura = sum(h.family == "pleura" for h in ctx.scene.hazards)
        hits = ctx.scene.stop_shapes.ray_hits(np.array([tip, tip]), directions)
        t_pleura = hits[:, :n_pleura].min(axis=1)
        t_rib = hits[:, n_pleura:].min(axis=1) if hits.shape[1] > n_pleura else np.full(2, math.inf)
    else:
        t_pleura = ctx.first_hits(tip, directions, "pleura")
        t_rib = ctx.first_hits(tip, directions, "rib", "bone")
    for k, label in enumerate(("extension", "vertical")):
        if math.isfinite(t_pleura[k]) and t_pleura[k] < t_rib[k]:
            where = "the needle's forward extension" if label == "extension" else "the tip"
            yield Finding(
                code=FindingCode.INTERCOSTAL_TARGET,
                severity="warn",
                message=f"{where.capitalize()} lies over an intercostal space: pleura below and no rib "
                f"backstop. "
                "Aim down onto a rib (bracketing reduces but does not remove the risk), and keep off the "
                "rib's lower border where the intercostal vessels and nerve run.",
                values={"over": label},
            )
            return


@rule(
    "needle_reaches_pleura", codes=(FindingCode.NEEDLE_REACHES_PLEURA,), rows=("R5",), needs_mm=True, needs_needle=True
)
def needle_reaches_pleura(ctx: Context) -> Iterator[Finding]:
    assert ctx.plan.needle is not None and ctx.metrics is not None  # the engine runs this rule only when they exist
    m, n = ctx.metrics, ctx.plan.needle
    p = m.pleura_along_path_mm
    if p is None or p > n.length_mm + g.TIE_MM:
        return
    if m.backstop_along_path_mm is not None and m.backstop_along_path_mm < p:
        return
    best = shortest_needle(m.needle_length_required_mm, STANDARD_NEEDLE_LENGTHS_MM)
    if best is not None and best < n.length_mm:
        advice = f"a {best:g} mm needle still leaves {ctx.th['HUB_MARGIN_MM']:g} mm outside at the target"
        advice += " but can also reach it" if best >= p else " and cannot reach it"
    else:
        advice = "no shorter needle reaches the target with the hub margin; aim onto a rib instead"
    _entry, tip, u = ctx.needle_vectors()  # the pleura lies p - path past the tip along the needle
    beyond = _beyond_marked(ctx, float(tip[1] + (p - m.path_length_mm) * u[1]))
    yield Finding(
        code=FindingCode.NEEDLE_REACHES_PLEURA,
        severity="warn",
        message=f"The {n.length_mm:g} mm needle is long enough to reach the pleura on this path "
        f"(pleura {mm(p)} from the skin along the needle{_BEYOND_WORDS if beyond else ''}); {advice}.",
        values={
            "needle_length_mm": n.length_mm,
            "pleura_along_path_mm": round(p, 2),
            "suggested_needle_mm": best,
            "beyond_marked_pleura": beyond,
        },
    )


#: R9: words a plan's ``orientation`` may give to the image's right-hand side.
_ORIENTATION_WORDS = ("medial", "lateral", "cranial", "caudal")
_OPPOSITE = {"medial": "lateral", "lateral": "medial", "cranial": "caudal", "caudal": "cranial"}


@rule("trapezius_direction", codes=(FindingCode.TRAPEZIUS_DIRECTION,), rows=("R9",), needs_needle=True)
def trapezius_direction(ctx: Context) -> Iterator[Finding]:
    """R9 at the neck base: medially or caudally directed needles come closest to the lung apex.

    Needs the plan's ``orientation`` field, ``{"right": "medial" | "lateral" | "cranial" | "caudal"}``
    (which way the image's right-hand side points on the patient); without it the rule cannot tell.
    """
    orientation = ctx.plan.extra.get("orientation")
    right = orientation.get("right") if isinstance(orientation, dict) else None
    if ctx.plan.site != "upper_trapezius" or right not in _ORIENTATION_WORDS:
        return
    _entry, _tip, u = ctx.needle_vectors()
    if abs(u[1]) < 1e-9:
        return
    heading = right if u[1] > 0 else _OPPOSITE[right]
    if heading in ("medial", "caudal"):
        yield Finding(
            code=FindingCode.TRAPEZIUS_DIRECTION,
            severity="warn",
            message=f"Needle directed {heading}ly at the neck base: on MRI, paths angled 30 deg medially "
            f"came "
            "closest to the lung apex (minimum 33 mm) while laterally angled ones never met the pleura. "
            "Aim laterally or tangentially, or lift the muscle in a pincer grasp.",
            values={"heading": heading},
        )
