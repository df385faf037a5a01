"""The session's values: what the form holds, and what one safety check gave back.

Qt-free and napari-free.  Every number a widget or an overlay shows is read here from the core's
:class:`~needleplan.safety.SafetyReport` of the current plan (one ``check_plan`` call per change);
nothing in the plugin measures, or looks up a threshold, again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from needleplan.calibration import Calibration
    from needleplan.plan import Plan
    from needleplan.safety import SafetyReport
    from needleplan.safety.report import AppliedMargin

__all__ = ["PlanInputs", "NeedleNumbers", "SessionState"]


@dataclass(frozen=True, slots=True)
class PlanInputs:
    """What the physician picks in the form (everything that is not drawn)."""

    site: str = "upper_trapezius"
    approach: str = "in_plane"
    needle_length_mm: float = 38.0
    gauge: int | None = 25
    bmi: float | None = None
    weight_kg: float | None = None
    sex: str | None = None
    lung_disease: bool = False
    anticoagulated: bool = False
    injectate: tuple[tuple[str, float, float, bool], ...] = ()  # (drug, %, mL, epinephrine)

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanInputs:
        """The form values a plan carries (a plan without needle keeps the 38 mm default)."""
        p, n = plan.patient, plan.needle
        return cls(
            site=plan.site,
            approach=plan.approach,
            needle_length_mm=38.0 if n is None else n.length_mm,
            gauge=None if n is None else n.gauge,
            bmi=p.bmi,
            weight_kg=p.weight_kg,
            sex=p.sex,
            lung_disease=bool(p.lung_disease),
            anticoagulated=bool(p.anticoagulated),
            injectate=tuple((i.drug, i.concentration_pct, i.volume_ml, i.epinephrine) for i in plan.injectate),
        )


@dataclass(frozen=True, slots=True)
class NeedleNumbers:
    """The needle's planner numbers as the check reported them (metrics of docs/contracts.md §6).

    ``None`` where the core has no finite value (no stop along the path, nothing beyond the tip).
    ``remaining_mm`` = deepest safe insertion - path to the tip, both from the skin crossing.
    """

    max_safe_insertion_mm: float | None
    remaining_mm: float | None
    overshoot_reach_mm: float | None
    overshoot_first_hit: str | None

    @classmethod
    def from_report(cls, report: SafetyReport) -> NeedleNumbers:
        m = report.metrics
        return cls(
            m.get("max_safe_insertion_mm"),
            m.get("remaining_insertion_mm"),
            m.get("overshoot_reach_mm"),
            m.get("overshoot_first_hit"),
        )


@dataclass(frozen=True, slots=True)
class SessionState:
    """What the panel and the overlays show after a refresh: one plan and its one check."""

    calibration: Calibration | None = None  # of the image, or None (no image)
    plan: Plan | None = None
    report: SafetyReport | None = None
    error: str | None = None  # why the drawing cannot be checked (e.g. a needle of zero length)

    @property
    def needle_numbers(self) -> NeedleNumbers | None:
        """The deepest safe insertion and the overshoot of the checked needle, or None."""
        plan = self.plan
        if self.report is None or plan is None or plan.needle is None or not plan.calibration.is_calibrated:
            return None
        return NeedleNumbers.from_report(self.report)

    @property
    def applied_margins(self) -> tuple[AppliedMargin, ...]:
        """The tip margin the check applied to each hazard structure (e.g. 10 mm for a pleura
        marked on another frame, 5 mm on the checked frame): the bands the overlays draw."""
        return () if self.report is None else self.report.applied_margins
