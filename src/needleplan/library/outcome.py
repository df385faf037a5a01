"""What happened after the procedure: pain before and after, how long relief lasted, complications.

A reviewer or physician adds an outcome to a saved plan later.  The library then answers "did this
site respond last time": a new plan for the same patient and site as a plan with a poor outcome
gets an INFO finding ``PRIOR_POOR_OUTCOME``.

Poor outcome (``POOR_RELIEF_FRACTION``): pain fell by less than 30 % of its starting value on a
0-10 scale, or a complication was recorded.  **[inference]** The 30 % cut-off is the IMMPACT
"moderately important" improvement (Dworkin et al., J Pain 2008;9:105-121); docs/clinical-rules.md
row 1J.

>>> o = Outcome(pain_before=8, pain_after=7)
>>> round(o.relief_fraction, 3), o.is_poor
(0.125, True)
>>> Outcome(pain_before=8, pain_after=2).is_poor
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from needleplan.errors import LibraryError
from needleplan.safety.codes import FindingCode

__all__ = ["Outcome", "POOR_RELIEF_FRACTION", "PRIOR_POOR_OUTCOME", "prior_outcome_finding"]

#: Pain reduction below this fraction of the starting score is a poor response [inference, IMMPACT].
POOR_RELIEF_FRACTION = 0.30
#: The library's own finding code (a member of the one enumeration of codes).
PRIOR_POOR_OUTCOME = FindingCode.PRIOR_POOR_OUTCOME


@dataclass(frozen=True, slots=True)
class Outcome:
    """Outcome of one procedure; pain scores on the 0-10 numeric rating scale."""

    pain_before: float | None = None
    pain_after: float | None = None
    relief_days: float | None = None
    complications: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("pain_before", "pain_after"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                raise LibraryError(
                    f"{name.replace('_', ' ')} {value} is outside the 0-10 pain "
                    "scale; give a score from 0 (no pain) to 10"
                )
        if self.relief_days is not None and self.relief_days < 0:
            raise LibraryError(f"relief duration {self.relief_days} days is negative")

    @property
    def relief_fraction(self) -> float | None:
        """Fraction of the starting pain relieved, or None when it cannot be worked out."""
        if self.pain_before is None or self.pain_after is None or self.pain_before <= 0:
            return None
        return (self.pain_before - self.pain_after) / self.pain_before

    @property
    def is_poor(self) -> bool:
        """Less than 30 % relief, or any complication."""
        fraction = self.relief_fraction
        return bool(self.complications) or (fraction is not None and fraction < POOR_RELIEF_FRACTION)

    def summary(self) -> str:
        """One line, e.g. ``pain 8 -> 7 (12% relief), relief 3 days, complications: bruising``."""
        parts = []
        if self.pain_before is not None or self.pain_after is not None:
            text = f"pain {_num(self.pain_before)} -> {_num(self.pain_after)}"
            if self.relief_fraction is not None:
                text += f" ({self.relief_fraction:.0%} relief)"
            parts.append(text)
        if self.relief_days is not None:
            parts.append(f"relief {_num(self.relief_days)} days")
        if self.complications:
            parts.append("complications: " + ", ".join(self.complications))
        return ", ".join(parts) or "no outcome recorded"

    def to_dict(self) -> dict[str, Any]:
        return {
            "pain_before": self.pain_before,
            "pain_after": self.pain_after,
            "relief_days": self.relief_days,
            "complications": list(self.complications),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outcome:
        try:
            return cls(
                pain_before=_opt_float(d.get("pain_before")),
                pain_after=_opt_float(d.get("pain_after")),
                relief_days=_opt_float(d.get("relief_days")),
                complications=tuple(str(c) for c in d.get("complications") or ()),
            )
        except (TypeError, ValueError) as exc:
            raise LibraryError(f"outcome is malformed: {exc}") from exc


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _num(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def prior_outcome_finding(earlier: list[Mapping[str, Any]], site: str) -> dict | None:
    """The INFO finding for earlier plans (same patient and site) whose outcome was poor.

    ``earlier`` holds rows with ``id``, ``created`` and ``outcome_summary``; None if empty.
    """
    if not earlier:
        return None
    cases = "; ".join(f"plan {r['id']} ({(r.get('created') or '')[:10]}): {r['outcome_summary']}" for r in earlier)
    return {
        "code": PRIOR_POOR_OUTCOME.value,
        "severity": "info",
        "message": (
            f"this patient had a poor result at {site} before ({cases}); repeating the "
            "same approach rarely helps and the diagnosis may need review"
        ),
        "values": {"plan_ids": [r["id"] for r in earlier], "relief_threshold_fraction": POOR_RELIEF_FRACTION},
    }
