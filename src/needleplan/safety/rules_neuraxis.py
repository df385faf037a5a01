"""Neuraxis rules (R20): the lumbar interlaminar window, where a needle aimed deep and medial passes
between two laminae through the ligamentum flavum towards the epidural space and dura.

A lamina (bone) under the target is the backstop, as the rib is in the thorax: the overshoot stops
on it.  The margin is the planner's (``NEURAXIS_MARGIN_MM``, 15 mm when marked on another frame);
the deepest safe insertion is limited by the neuraxis like the pleura (``limited_by`` ``neuraxis``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
_WHY = "local anaesthetic there becomes an epidural or, through the dura, a spinal injection"


def _margin_words(shaft: float, tip: float | None, margin_mm: float, other_frame: bool) -> tuple[str, str] | None:
    """Severity and message for a needle ``shaft``/``tip`` mm from the neuraxis (``tip`` None: not
    measured, uncalibrated), or None when clear."""
    why = " (neuraxis marked on another frame or position)" if other_frame else ""
    if shaft <= 1e-9:
        where = f" (tip {mm(tip)} from it)" if tip is not None else ""
        stop = f"Stop at least {margin_mm:g} mm short of it, over a lamina" if tip is not None else "Aim onto a lamina"
        return "block", f"The needle as drawn reaches {NEURAXIS_WORDS}{where}; {_WHY}. {stop}{why}."
    if shaft >= margin_mm - g.TIE_MM:
        return None
    assert tip is not None  # a shaft clear of the mark but inside the margin is measured only when calibrated
    part = f"Tip {mm(tip)} from" if tip - shaft < 1e-6 else f"Shaft passes {mm(shaft)} from"
    return "warn", f"{part} {NEURAXIS_WORDS}; margin {margin_mm:g} mm{why}: {_WHY}."


@rule("neuraxis_margin", codes=(FindingCode.NEURAXIS_MARGIN,), rows=("R20",), needs_needle=True)
def neuraxis_margin(ctx: Context) -> Iterator[Finding]:
    """The drawn needle within the neuraxis margin (warn) or reaching it (block); without a
    calibration only a needle drawn through the mark can be told (block)."""
    measured: list[tuple[int, float, float | None, float, bool]]
    if ctx.calibrated:
        assert ctx.scene is not None  # the engine prepares the scene of every calibrated plan
        measured = [
            (h.index, *ctx.clearance(h.index, None), h.margin_mm, h.other_frame)
            for h in ctx.scene.hazards
            if h.family == "neuraxis"
        ]
    else:
        ctx.skip(FindingCode.NEURAXIS_MARGIN)
        measured = [(i, 0.0, None, 0.0, False) for i, s in ctx.confirmed("neuraxis") if ctx.crosses(i, s)]
    for index, shaft, tip, margin_mm, other_frame in measured:
        words = _margin_words(shaft, tip, margin_mm, other_frame)
        if words is None:
            continue
        values: dict[str, Any] = {"structure": index, "crosses": shaft <= 1e-9}
        if ctx.calibrated:
            assert tip is not None  # measured above for every calibrated plan
            values.update(tip_to_neuraxis_mm=round(tip, 2), shaft_to_neuraxis_mm=round(shaft, 2), margin_mm=margin_mm)
        yield Finding(code=FindingCode.NEURAXIS_MARGIN, severity=words[0], message=words[1], values=values)


@rule("neuraxis_overshoot", codes=(FindingCode.NEURAXIS_OVERSHOOT,), rows=("R20",), needs_mm=True, needs_needle=True)
def neuraxis_overshoot(ctx: Context) -> Iterator[Finding]:
    """Pushed past the planned tip, the needle's straight path reaches the neuraxis with no lamina between."""
    assert ctx.over is not None  # the engine runs this rule only when it is computed
    o = ctx.over
    # a lamina met first stops the needle; a neuraxis already reached is NEURAXIS_MARGIN's block
    neuraxis_mm = o.neuraxis_mm
    if (
        neuraxis_mm is None
        or not o.unstopped(neuraxis_mm)
        or any(ctx.crosses(i, s) for i, s in ctx.confirmed("neuraxis"))
    ):
        return
    yield Finding(
        code=FindingCode.NEURAXIS_OVERSHOOT,
        severity="warn",
        message=f"If the needle is pushed further, its straight path passes between the laminae and "
        f"reaches {NEURAXIS_WORDS} {mm(neuraxis_mm)} past the planned tip with no bone in between; "
        f"{mm(o.reach_mm)} of needle is still unused. Aim onto a lamina, or stop at the planned depth.",
        values={"neuraxis_beyond_tip_mm": round(neuraxis_mm, 2), "unused_length_mm": round(o.reach_mm, 2)},
    )


def _reach_depth_mm(ctx: Context) -> float:
    """How deep below the skin the whole needle reaches along the drawn path (its full length inserted)."""
    assert ctx.scene is not None and ctx.plan.needle is not None  # called only when calibrated with a needle
    entry, tip, u = ctx.needle_vectors()
    entry = skin_entry(ctx.scene, entry, tip)
    return depth_below_skin(ctx.scene, entry + ctx.plan.needle.length_mm * np.asarray(u))


@rule("neuraxis_marked", codes=(FindingCode.NEURAXIS_NOT_MARKED,), rows=("R20",))
def neuraxis_marked(ctx: Context) -> Iterator[Finding]:
    """Lumbar paraspinal: neither bone nor neuraxis marked, and the needle can reach the interlaminar depth.

    A single image does not say how far from the midline it was taken, so "medial enough to reach the
    interlaminar region" is judged by depth: the needle, inserted to its hub along the drawn path,
    reaches ``NEURAXIS_REACH_DEPTH_MM`` below the skin (the shallowest lumbar epidural depth, 1D).
    Without a calibration or a needle the depth is unknown and the finding is raised.
    """
    if not ctx.profile.requires_neuraxis_mark or ctx.confirmed("neuraxis", "bone", "rib"):
        return
    limit = ctx.th["NEURAXIS_REACH_DEPTH_MM"]
    values: dict[str, Any] = {"site": ctx.plan.site, "reach_depth_limit_mm": limit}
    if ctx.calibrated and ctx.has_needle:
        reach = _reach_depth_mm(ctx)
        if reach < limit - g.TIE_MM:
            return
        values["needle_reach_depth_mm"] = round(reach, 2)
        assert ctx.plan.needle is not None  # ctx.has_needle
        how = (
            f"the {ctx.plan.needle.length_mm:g} mm needle reaches {mm(reach)} below the skin on this path, "
            f"deeper than the laminae can lie in a thin patient (about {limit:g} mm)"
        )
    else:
        how = "how deep the needle can go is not known (no calibration or no needle drawn)"
    yield Finding(
        code=FindingCode.NEURAXIS_NOT_MARKED,
        severity="warn",
        message=f"Neither a lamina (bone) nor {NEURAXIS_WORDS} is marked at this {ctx.profile.name} site, "
        f"and "
        f"{how}. Scan for the laminae and the interlaminar window and mark them, or aim onto a lamina.",
        values=values,
    )
