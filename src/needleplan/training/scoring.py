"""Score a resident's plan against an expert's reference plan of the same image.

The score compares four things, and says in a teacher's words what to work on:

* the needle: the tip error split along and across the expert's needle (mm), the angle between
  the two needles (deg), the tip depth difference (mm) and the entry point distance (mm);
* the hazards the expert marked (pleura, vessels, nerves, viscera, rib/bone backstops): each is
  matched to the resident's mark of the same kind by the mean distance between the two marks;
  it is *found* within ``hazard_mm``, *mislocated* within ``hazard_search_mm``, else *missed*;
* the safety findings the resident's plan triggers that the expert's does not;
* the result: ``fail`` when the resident's plan has any ``block`` finding (it must not be carried
  out as drawn), else ``needs_work`` when anything above is out of tolerance, else ``pass``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from needleplan.clinical import BACKSTOP_KINDS, hazard_family
from needleplan.errors import ImageBindingError, PlanFormatError
from needleplan.plan import Plan, Structure
from needleplan.training.criteria import DEFAULT_CRITERIA, Criteria
from needleplan.training.curves import curve_distances, direction_angle_deg, split_along_across
from needleplan.training.wording import reasons_for

__all__ = ["NeedleDelta", "HazardMatch", "Score", "score_plans", "PASS", "NEEDS_WORK", "FAIL"]

PASS, NEEDS_WORK, FAIL = "pass", "needs_work", "fail"


@dataclass(frozen=True, slots=True)
class NeedleDelta:
    """Attempt minus reference for the needle.  ``target_along_mm`` > 0: the tip is past the
    expert's along the needle; ``depth_mm`` > 0: the tip is deeper below the skin."""

    target_along_mm: float
    target_across_mm: float
    target_distance_mm: float
    angle_deg: float
    depth_mm: float | None
    entry_mm: float


@dataclass(frozen=True, slots=True)
class HazardMatch:
    """One hazard the expert marked and what the resident did with it."""

    kind: str
    label: str | None
    status: str  # "found" | "mislocated" | "missed"
    distance_mm: float | None  # mean distance to the resident's matching mark
    hausdorff_mm: float | None
    attempt_index: int | None  # index into the attempt's structures


@dataclass(frozen=True, slots=True)
class Score:
    """The result of :func:`score_plans` (``to_dict`` is the ``--json`` output)."""

    result: str
    reasons: tuple[str, ...]
    needle: NeedleDelta | None
    hazards: tuple[HazardMatch, ...]
    extra_marks: tuple[str, ...]  # hazard kinds the resident marked and the expert did not
    new_findings: tuple[dict, ...]  # findings of the attempt whose code the reference lacks
    blocks: tuple[dict, ...]  # every block finding of the attempt
    criteria: Criteria

    @property
    def passed(self) -> bool:
        return self.result == PASS

    def to_dict(self) -> dict[str, Any]:
        needle = None
        if self.needle is not None:
            needle = {k: getattr(self.needle, k) for k in NeedleDelta.__slots__}
        return {
            "result": self.result,
            "reasons": list(self.reasons),
            "needle": needle,
            "hazards": [{k: getattr(h, k) for k in HazardMatch.__slots__} for h in self.hazards],
            "extra_marks": list(self.extra_marks),
            "new_findings": [dict(f) for f in self.new_findings],
            "blocks": [dict(f) for f in self.blocks],
            "criteria": self.criteria.to_dict(),
        }


def _match_key(kind: str) -> str | None:
    """Kinds that stand for the same hazard: artery/vein/vessel; rib/bone (a backstop)."""
    if kind in BACKSTOP_KINDS:
        return "backstop"
    return hazard_family(kind)


def _hazards(plan: Plan) -> list[tuple[int, Structure]]:
    return [
        (i, s)
        for i, s in enumerate(plan.structures)
        if not s.suggested and _match_key(s.kind) is not None and s.points_mm
    ]


def match_hazards(
    attempt: Plan,
    reference: Plan,
    criteria: Criteria = DEFAULT_CRITERIA,
) -> tuple[tuple[HazardMatch, ...], tuple[str, ...]]:
    """Pair the expert's hazards with the resident's marks of the same kind, closest pairs first.

    Returns the match of each reference hazard (in the reference's order) and the kinds of the
    resident's hazard marks left unpaired.
    """
    ref, att = _hazards(reference), _hazards(attempt)
    pairs = []
    for ri, (_, rs) in enumerate(ref):
        for ai, (_, a) in enumerate(att):
            if _match_key(a.kind) == _match_key(rs.kind):
                d = curve_distances(a.points_mm, a.closed, rs.points_mm, rs.closed)
                pairs.append((d.mean_mm, ri, ai, d))
    pairs.sort(key=lambda p: (p[0], p[1], p[2]))
    taken_ref: dict[int, tuple[int, Any]] = {}
    taken_att: set[int] = set()
    for mean, ri, ai, d in pairs:
        if ri in taken_ref or ai in taken_att or mean > criteria.hazard_search_mm:
            continue
        taken_ref[ri] = (ai, d)
        taken_att.add(ai)
    matches = []
    for ri, (_, rs) in enumerate(ref):
        if ri not in taken_ref:
            matches.append(HazardMatch(rs.kind, rs.label, "missed", None, None, None))
            continue
        ai, d = taken_ref[ri]
        status = "found" if d.mean_mm <= criteria.hazard_mm else "mislocated"
        matches.append(
            HazardMatch(rs.kind, rs.label, status, round(d.mean_mm, 3), round(d.hausdorff_mm, 3), att[ai][0])
        )
    extra = tuple(att[ai][1].kind for ai in range(len(att)) if ai not in taken_att)
    return tuple(matches), extra


def needle_delta(
    attempt: Plan, reference: Plan, attempt_depth_mm: float | None = None, reference_depth_mm: float | None = None
) -> NeedleDelta | None:
    """The needle comparison, or None when the resident drew no needle.

    Examples
    --------
    Reference needle from (0, -18) to (9.5, 2); the attempt's tip 3 mm further along it.  The
    direction is (9.5, 20) / 22.1416, so the tip moves by (1.2872, 2.7099):

    >>> from needleplan.plan import plan_from_dict
    >>> base = {"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
    ...         "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]},
    ...         "site": "rhomboid", "structures": [],
    ...         "needle": {"entry_mm": [0, -18], "target_mm": [9.5, 2], "length_mm": 38}}
    >>> ref = plan_from_dict(base)
    >>> tip = [9.5 + 3 * 9.5 / math.hypot(9.5, 20), 2 + 3 * 20 / math.hypot(9.5, 20)]
    >>> att = plan_from_dict({**base, "needle": {**base["needle"], "target_mm": tip}})
    >>> d = needle_delta(att, ref)
    >>> round(d.target_along_mm, 6), round(d.target_across_mm, 6), round(d.angle_deg, 6), d.entry_mm
    (3.0, 0.0, 0.0, 0.0)
    """
    if reference.needle is None:
        raise PlanFormatError(
            "reference plan: needle: expected the expert's needle, got none; "
            "a reference plan must have its needle drawn"
        )
    if attempt.needle is None:
        return None
    r, a = reference.needle, attempt.needle
    along, across = split_along_across(a.target_mm, r.target_mm, r.entry_mm)
    depth = None
    if attempt_depth_mm is not None and reference_depth_mm is not None:
        depth = round(float(attempt_depth_mm) - float(reference_depth_mm), 12) + 0.0
    return NeedleDelta(
        target_along_mm=along,
        target_across_mm=across,
        target_distance_mm=math.hypot(along, across),
        angle_deg=round(direction_angle_deg(a.entry_mm, a.target_mm, r.entry_mm, r.target_mm), 9),
        depth_mm=depth,
        entry_mm=round(math.dist(a.entry_mm, r.entry_mm), 12),
    )


def _same_image(attempt: Plan, reference: Plan) -> None:
    for key in ("sop_instance_uid", "pixel_sha256", "frame_index"):
        a, r = getattr(attempt.image, key), getattr(reference.image, key)
        if a is not None and r is not None and a != r:
            raise ImageBindingError(
                f"the attempt was drawn on another image than the reference ({key} {a} vs {r}); "
                "score a plan made on the case's own image"
            )


def _finding_dicts(report: Any) -> list[dict]:
    out = []
    for f in report.findings:
        out.append({"code": f.code, "severity": f.severity, "message": f.message, "values": dict(f.values)})
    return out


def score_plans(attempt: Plan, reference: Plan, *, criteria: Criteria = DEFAULT_CRITERIA) -> Score:
    """Score ``attempt`` (the resident's plan) against ``reference`` (the expert's).

    Both plans are run through the safety check (:func:`needleplan.safety.check_plan`), so the
    findings compared are today's, not whatever the files carried when saved.
    """
    from needleplan.safety import check_plan

    _same_image(attempt, reference)
    att_report, ref_report = check_plan(attempt), check_plan(reference)
    needle = needle_delta(attempt, reference, att_report.metrics.get("depth_mm"), ref_report.metrics.get("depth_mm"))
    hazards, extra = match_hazards(attempt, reference, criteria)
    att_findings = _finding_dicts(att_report)
    ref_codes = {f.code for f in ref_report.findings}
    new = tuple(f for f in att_findings if f["code"] not in ref_codes)
    blocks = tuple(f for f in att_findings if f["severity"] == "block")
    reasons, out_of_tolerance = reasons_for(
        needle,
        hazards,
        new,
        blocks,
        criteria,
        reference_blocks=[f.code for f in ref_report.findings if f.severity == "block"],
    )
    result = FAIL if blocks else (NEEDS_WORK if out_of_tolerance else PASS)
    return Score(result, tuple(reasons), needle, hazards, extra, new, blocks, criteria)
