"""Neuraxis rules (R20): the lumbar interlaminar window, where a needle aimed deep and medial passes
between two laminae through the ligamentum flavum towards the epidural space and dura.

A lamina (bone) under the target is the backstop, as the rib is in the thorax: the overshoot stops
on it.  The margin is the planner's (``NEURAXIS_MARGIN_MM``, 15 mm when marked on another frame);
the deepest safe insertion is limited by the neuraxis like the pleura (``limited_by`` ``neuraxis``).
"""

from __future__ import annotations

import numpy as np

from needleplan import geometry as g
from needleplan.planner import depth_below_skin, skin_entry
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding

rule_family(__name__, order=25, title="neuraxis (lumbar interlaminar window)")

#: The neuraxis in a physician's words, for every message of this family.
NEURAXIS_WORDS = "the neuraxis (ligamentum flavum, epidural space and dura in the interlaminar window)"
_WHY = ("local anaesthetic there becomes an epidural or, through the dura, a spinal injection")


@rule("neuraxis_margin", codes=(FindingCode.NEURAXIS_MARGIN,), rows=("R20",), needs_needle=True)
def neuraxis_margin(ctx: Context):
    if not ctx.calibrated:
        ctx.skip(FindingCode.NEURAXIS_MARGIN)
        for i, s in ctx.confirmed("neuraxis"):
            if ctx.crosses(i, s):
                yield Finding(FindingCode.NEURAXIS_MARGIN, "block",
                              f"The needle as drawn reaches {NEURAXIS_WORDS}; {_WHY}.", {"structure": i, "crosses": True})
        return
    for h in (h for h in ctx.scene.hazards if h.family == "neuraxis"):
        shaft, tip = ctx.clearance(h.index, None)
        why = " (neuraxis marked on another frame or position)" if h.other_frame else ""
        values = {"structure": h.index, "tip_to_neuraxis_mm": round(tip, 2), "shaft_to_neuraxis_mm": round(shaft, 2),
                  "margin_mm": h.margin_mm, "crosses": shaft <= 1e-9}
        if shaft <= 1e-9:
            yield Finding(FindingCode.NEURAXIS_MARGIN, "block",
                          f"The needle as drawn reaches {NEURAXIS_WORDS} (tip {mm(tip)} from it); {_WHY}. Stop at "
                          f"least {h.margin_mm:g} mm short of it, over a lamina{why}.", values)
        elif shaft < h.margin_mm - g.TIE_MM:
            part = f"Tip {mm(tip)} from" if tip - shaft < 1e-6 else f"Shaft passes {mm(shaft)} from"
            yield Finding(FindingCode.NEURAXIS_MARGIN, "warn",
                          f"{part} {NEURAXIS_WORDS}; margin {h.margin_mm:g} mm{why}: {_WHY}.", values)


@rule("neuraxis_overshoot", codes=(FindingCode.NEURAXIS_OVERSHOOT,), rows=("R20",), needs_mm=True, needs_needle=True)
def neuraxis_overshoot(ctx: Context):
    o = ctx.over
    if o.neuraxis_mm is None or o.neuraxis_mm > o.reach_mm + g.TIE_MM:
        return
    if o.backstop_mm is not None and o.backstop_mm < o.neuraxis_mm:
        return  # a lamina under the target stops the needle first
    if any(ctx.crosses(i, s) for i, s in ctx.confirmed("neuraxis")):
        return  # already reached: NEURAXIS_MARGIN blocks
    yield Finding(FindingCode.NEURAXIS_OVERSHOOT, "warn",
                  f"If the needle is pushed further, its straight path passes between the laminae and reaches "
                  f"{NEURAXIS_WORDS} {mm(o.neuraxis_mm)} past the planned tip with no bone in between; "
                  f"{mm(o.reach_mm)} of needle is still unused. Aim onto a lamina, or stop at the planned depth.",
                  {"neuraxis_beyond_tip_mm": round(o.neuraxis_mm, 2), "unused_length_mm": round(o.reach_mm, 2)})


def _reach_depth_mm(ctx: Context) -> float:
    """How deep below the skin the whole needle reaches along the drawn path (its full length inserted)."""
    entry, tip, u = ctx.needle_vectors()
    entry = skin_entry(ctx.scene, entry, tip)
    return depth_below_skin(ctx.scene, entry + ctx.plan.needle.length_mm * np.asarray(u))


@rule("neuraxis_marked", codes=(FindingCode.NEURAXIS_NOT_MARKED,), rows=("R20",))
def neuraxis_marked(ctx: Context):
    """Lumbar paraspinal: neither bone nor neuraxis marked, and the needle can reach the interlaminar depth.

    A single image does not say how far from the midline it was taken, so "medial enough to reach the
    interlaminar region" is judged by depth: the needle, inserted to its hub along the drawn path,
    reaches ``NEURAXIS_REACH_DEPTH_MM`` below the skin (the shallowest lumbar epidural depth, 1D).
    Without a calibration or a needle the depth is unknown and the finding is raised.
    """
    if not ctx.profile.requires_neuraxis_mark or ctx.confirmed("neuraxis", "bone", "rib"):
        return
    limit = ctx.th["NEURAXIS_REACH_DEPTH_MM"]
    values: dict = {"site": ctx.plan.site, "reach_depth_limit_mm": limit}
    if ctx.calibrated and ctx.has_needle:
        reach = _reach_depth_mm(ctx)
        if reach < limit - g.TIE_MM:
            return
        values["needle_reach_depth_mm"] = round(reach, 2)
        how = (f"the {ctx.plan.needle.length_mm:g} mm needle reaches {mm(reach)} below the skin on this path, "
               f"deeper than the laminae can lie in a thin patient (about {limit:g} mm)")
    else:
        how = "how deep the needle can go is not known (no calibration or no needle drawn)"
    yield Finding(FindingCode.NEURAXIS_NOT_MARKED, "warn",
                  f"Neither a lamina (bone) nor {NEURAXIS_WORDS} is marked at this {ctx.profile.name} site, and "
                  f"{how}. Scan for the laminae and the interlaminar window and mark them, or aim onto a lamina.",
                  values)
