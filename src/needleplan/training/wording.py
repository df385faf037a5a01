"""The reasons of a score, in the words a teacher would use, with the numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from needleplan.training.criteria import Criteria

if TYPE_CHECKING:
    from needleplan.training.scoring import HazardMatch, NeedleDelta

__all__ = ["reasons_for", "HAZARD_WORDS"]

#: How a teacher names each hazard kind.
HAZARD_WORDS = {
    "pleura": "the pleura",
    "rib": "the rib",
    "bone": "the bone",
    "vessel": "the vessel",
    "artery": "the artery",
    "vein": "the vein",
    "nerve": "the nerve",
    "viscera": "the viscera",
    "neuraxis": "the neuraxis",
}
_WHY = {
    "pleura": "on this site the pleura is what stands between the needle and a pneumothorax",
    "rib": "the rib is the backstop that keeps the needle out of the pleura",
    "bone": "the bone is the backstop that limits how deep the needle can go",
    "artery": "a needle through an artery means bleeding or an intravascular injection",
    "vessel": "a needle through a vessel means bleeding or an intravascular injection",
    "vein": "a needle through a vein means bleeding or an intravascular injection",
    "nerve": "a needle into a nerve means injury and an intraneural injection",
    "viscera": "the viscera lie just under the target and must be kept clear",
    "neuraxis": "between the laminae the needle reaches the epidural space and dura: a neuraxial injection",
}


def _name(h: HazardMatch) -> str:
    words = HAZARD_WORDS.get(h.kind, f"the {h.kind}")
    return f"{words} ({h.label})" if h.label else words


def _needle_reasons(n: NeedleDelta, c: Criteria) -> list[str]:
    out = []
    if abs(n.target_along_mm) > c.target_along_mm:
        where = "past" if n.target_along_mm > 0 else "short of"
        out.append(
            f"Your tip is {abs(n.target_along_mm):.1f} mm {where} the expert's along the "
            f"needle (allowed {c.target_along_mm:.0f} mm): "
            + ("you would go too deep." if n.target_along_mm > 0 else "you would stop short of the target.")
        )
    if n.target_across_mm > c.target_across_mm:
        out.append(
            f"Your tip is {n.target_across_mm:.1f} mm to the side of the expert's needle "
            f"(allowed {c.target_across_mm:.0f} mm): aim at the centre of the target."
        )
    if n.depth_mm is not None and abs(n.depth_mm) > c.depth_mm:
        word = "deeper" if n.depth_mm > 0 else "shallower"
        out.append(
            f"Your tip is {abs(n.depth_mm):.1f} mm {word} below the skin than the expert's "
            f"(allowed {c.depth_mm:.0f} mm)."
        )
    if n.angle_deg > c.angle_deg:
        out.append(
            f"Your needle is {n.angle_deg:.0f} deg off the expert's direction "
            f"(allowed {c.angle_deg:.0f} deg): rethink the approach angle."
        )
    if n.entry_mm > c.entry_mm:
        out.append(f"Your entry point is {n.entry_mm:.1f} mm from the expert's (allowed {c.entry_mm:.0f} mm).")
    return out


def reasons_for(
    needle: NeedleDelta | None,
    hazards: Sequence[HazardMatch],
    new_findings: Sequence[dict],
    blocks: Sequence[dict],
    criteria: Criteria,
    *,
    reference_blocks: Sequence[str] = (),
) -> tuple[list[str], bool]:
    """The reasons, most serious first, and whether anything is out of tolerance.

    Examples
    --------
    >>> from needleplan.training.scoring import HazardMatch
    >>> missed = HazardMatch("pleura", None, "missed", None, None, None)
    >>> reasons, bad = reasons_for(None, [missed], [], [], Criteria())
    >>> bad, reasons[0]
    (True, 'You did not draw a needle: there is nothing to score against the expert.')
    >>> reasons[1].startswith("You did not mark the pleura")
    True
    """
    reasons: list[str] = []
    for f in blocks:
        reasons.append(
            f"Automatic fail: your plan triggers {f['code']}, a blocking warning "
            f"(it must not be carried out as drawn): {f['message']}"
        )
    if reference_blocks:
        reasons.append(
            "Note for the teacher: the reference plan itself triggers "
            f"{', '.join(sorted(set(reference_blocks)))}; check the case."
        )
    bad = bool(blocks)
    if needle is None:
        reasons.append("You did not draw a needle: there is nothing to score against the expert.")
        bad = True
    for h in hazards:
        if h.status == "missed":
            reasons.append(
                f"You did not mark {_name(h)} that the expert marked: "
                f"{_WHY.get(h.kind, 'it is a hazard on this path')}."
            )
            bad = True
        elif h.status == "mislocated":
            reasons.append(
                f"Your mark of {_name(h)} is {h.distance_mm:.1f} mm from the expert's on "
                f"average (allowed {criteria.hazard_mm:.0f} mm): look again at where it lies."
            )
            bad = True
    if needle is not None:
        needle_reasons = _needle_reasons(needle, criteria)
        reasons.extend(needle_reasons)
        bad = bad or bool(needle_reasons)
    for f in new_findings:
        if f["severity"] == "block":
            continue  # already said above
        reasons.append(f"Your plan triggers {f['code']} ({f['severity']}) and the expert's does not: {f['message']}")
        bad = bad or f["severity"] == "warn"
    if not bad:
        reasons.insert(0, _praise(needle, hazards))
    return reasons, bad


def _praise(needle: NeedleDelta | None, hazards: Sequence[Any]) -> str:
    found = sum(1 for h in hazards if h.status == "found")
    tip = (
        ""
        if needle is None
        else (
            f"your tip is within {needle.target_distance_mm:.1f} mm of the "
            f"expert's and your needle within {needle.angle_deg:.0f} deg of its direction"
        )
    )
    marks = f"you marked all {found} hazard(s) the expert marked" if hazards else "no hazard was marked by the expert"
    return f"Good plan: {tip}; {marks}."
