"""The teaching tolerances a resident's plan is held to, each with where it comes from.

These are teaching criteria, not clinical limits: the safety engine's findings stay the clinical
judgement (any ``block`` finding fails an attempt whatever these numbers say).  Where the team's
docs/clinical-rules.md has a number behind a tolerance, its row is named.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Criteria", "CRITERIA_SOURCES", "DEFAULT_CRITERIA"]


@dataclass(frozen=True, slots=True)
class Criteria:
    """Tolerances (mm, deg) within which an attempt matches the expert's reference plan."""

    target_along_mm: float = 3.0
    target_across_mm: float = 3.0
    depth_mm: float = 3.0
    angle_deg: float = 10.0
    entry_mm: float = 10.0
    hazard_mm: float = 2.0
    hazard_search_mm: float = 10.0

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Where each tolerance comes from (docs/clinical-rules.md rows, or "teaching choice" where none exists).
CRITERIA_SOURCES: dict[str, str] = {
    "target_along_mm": "docs/clinical-rules.md 1G 'Tip movement during aspiration and injection' (mean "
    "2.9 mm retrograde): a plan need not be finer than the tip moves; and 1F "
    "'Trigger points on ultrasound' (0.16 cm^2, about 4.5 mm across)",
    "target_across_mm": "same rows as target_along_mm",
    "depth_mm": "same rows as target_along_mm",
    "angle_deg": "teaching choice: no published tolerance; 10 deg keeps an in-plane needle inside "
    "the 30-40 deg visibility band of docs/clinical-rules.md 1F 'In-plane angle vs needle "
    "visibility' when the expert's is inside it",
    "entry_mm": "docs/clinical-rules.md 1E 'Entry and angle' (enter 1-2 cm from the trigger point): "
    "an entry more than 1 cm away is a different approach",
    "hazard_mm": "docs/clinical-rules.md 1G 'Ultrasound thickness measurement error' (inter-rater SEM "
    "0.94 mm): two readers' marks of one structure differ by up to about 2 SEM",
    "hazard_search_mm": "teaching choice: a mark more than 1 cm from the expert's is taken to be "
    "a different structure, so the expert's one counts as not marked",
}

DEFAULT_CRITERIA = Criteria()
