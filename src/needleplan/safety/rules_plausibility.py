"""Plans that describe no real procedure: a ``block`` with its reason, never a clean verdict (issue 17).

A plan can pass plan validation (every number finite and inside its physical range) and still be no
plan a physician could carry out: a needle longer than any made, a target on or above the skin, a
needle drawn a fraction of a millimetre long, hazards marked outside the patient.  Every other rule
would measure such a plan as if it were real ("deepest safe insertion 999999990 mm"), so these rules
say plainly that it is not.  A needle too short for its path is ``NEEDLE_TOO_SHORT`` (block) in
:mod:`needleplan.safety.rules_needle`.  The limits are :data:`needleplan.clinical.plausible_ranges.IMPLAUSIBLE`.

Examples
--------
A 250 mm needle on an uncalibrated plan (the length is in mm whatever the image's calibration):

>>> from needleplan.plan import plan_from_dict
>>> from needleplan.safety import check_plan
>>> plan = plan_from_dict({"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...     "calibration": {"source": "NONE"}, "site": "other", "structures": [],
...     "needle": {"entry_mm": [0, 0], "target_mm": [30, 10], "length_mm": 250}})
>>> [(f.code, f.severity) for f in check_plan(plan).findings if f.code.startswith("IMPLAUSIBLE")]
[('IMPLAUSIBLE_NEEDLE_LENGTH', 'block')]
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from needleplan import geometry as g
from needleplan.clinical.plausible_ranges import IMPLAUSIBLE
from needleplan.planner import depth_below_skin
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding

__all__ = ["IMPLAUSIBLE_CODES"]

#: The codes of this family (all ``block``).
IMPLAUSIBLE_CODES = (
    FindingCode.IMPLAUSIBLE_NEEDLE_LENGTH,
    FindingCode.IMPLAUSIBLE_TARGET_DEPTH,
    FindingCode.IMPLAUSIBLE_PATH,
    FindingCode.IMPLAUSIBLE_STRUCTURE,
)

rule_family(__name__, order=5, title="plans that describe no real procedure")

_REDRAW = "Check the plan's calibration and redraw it on the image"


def _limit(key: str) -> float:
    return IMPLAUSIBLE[key].value


@rule("needle_length_plausible", codes=(FindingCode.IMPLAUSIBLE_NEEDLE_LENGTH,), rows=("1E",), needs_needle=True)
def needle_length_plausible(ctx: Context) -> Iterator[Finding]:
    """A needle longer than any made (> 200 mm) or shorter than 1 mm is no needle."""
    assert ctx.plan.needle is not None  # needs_needle: the engine runs this rule only when it exists
    length = ctx.plan.needle.length_mm
    longest, shortest = _limit("LONGEST_NEEDLE_MADE_MM"), _limit("SHORTEST_NEEDLE_MM")
    values = {"needle_length_mm": length, "longest_made_mm": longest, "shortest_mm": shortest}
    if length > longest:
        yield Finding(
            code=FindingCode.IMPLAUSIBLE_NEEDLE_LENGTH,
            severity="block",
            message=f"A {length:g} mm needle is longer than any needle made (the longest spinal and biopsy "
            f"needles are about {longest:g} mm): no depth or margin can be judged for it. Enter the "
            "length of the needle you will use.",
            values=values,
        )
    elif length < shortest:
        yield Finding(
            code=FindingCode.IMPLAUSIBLE_NEEDLE_LENGTH,
            severity="block",
            message=f"A {length:g} mm needle is shorter than {shortest:g} mm and reaches nothing under "
            f"the skin. "
            "Enter the length of the needle you will use.",
            values=values,
        )


@rule(
    "target_depth_plausible",
    codes=(FindingCode.IMPLAUSIBLE_TARGET_DEPTH, FindingCode.IMPLAUSIBLE_PATH),
    rows=("contracts.md §3",),
    needs_mm=True,
    needs_needle=True,
)
def target_depth_plausible(ctx: Context) -> Iterator[Finding]:
    """The tip lies under the skin (at least 1 mm) and the needle is drawn at least 1 mm long."""
    # needs_mm, needs_needle: the engine runs this rule only on a calibrated plan (its scene prepared) with a needle
    assert ctx.plan.needle is not None and ctx.scene is not None
    needle = ctx.plan.needle
    depth = depth_below_skin(ctx.scene, needle.target_mm)
    least = _limit("MIN_TARGET_DEPTH_MM")
    if depth < least - g.TIE_MM:
        where = f"{mm(-depth)} above the skin" if depth < -g.TIE_MM else f"only {mm(max(depth, 0.0))} below the skin"
        yield Finding(
            code=FindingCode.IMPLAUSIBLE_TARGET_DEPTH,
            severity="block",
            message=f"The planned tip is {where}: no injection target lies there (a depth under {least:g} "
            f"mm is "
            f"the skin itself). {_REDRAW}.",
            values={"depth_mm": round(depth, 4), "min_depth_mm": least},
        )
    path = math.dist(needle.entry_mm, needle.target_mm)
    shortest = _limit("MIN_PATH_MM")
    if path < shortest - g.TIE_MM:  # a path of 1 mm may compute as 0.9999999999999999
        yield Finding(
            code=FindingCode.IMPLAUSIBLE_PATH,
            severity="block",
            message=f"The needle is drawn {path:.3g} mm from entry to tip, shorter than {shortest:g} mm: "
            f"at this "
            f"scale the plan describes no path through tissue. {_REDRAW}.",
            values={"path_length_mm": round(path, 6), "min_path_mm": shortest},
        )


@rule("structures_plausible", codes=(FindingCode.IMPLAUSIBLE_STRUCTURE,), rows=("contracts.md §3",), needs_mm=True)
def structures_plausible(ctx: Context) -> Iterator[Finding]:
    """A marked structure (other than the skin) lying entirely above the skin is outside the patient."""
    assert ctx.scene is not None  # needs_mm: the engine prepares the scene of every calibrated plan
    above = []
    for i, s in enumerate(ctx.plan.structures):
        if s.suggested or s.kind == "skin":
            continue
        if all(depth_below_skin(ctx.scene, p) < -g.TIE_MM for p in s.points_mm):
            above.append((i, s))
    if not above:
        return
    names = ", ".join(f"{s.label or s.kind} (structures[{i}])" for i, s in above)
    yield Finding(
        code=FindingCode.IMPLAUSIBLE_STRUCTURE,
        severity="block",
        message=f"Marked entirely above the skin, outside the patient: {names}. A hazard placed there is "
        f"never "
        f"measured against the needle. {_REDRAW}.",
        values={"structures": [i for i, _s in above], "kinds": [s.kind for _i, s in above]},
    )
