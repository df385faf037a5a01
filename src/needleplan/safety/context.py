"""What every rule sees: the plan, its site profile, the thresholds and the computed geometry.

The geometry (metrics, deepest safe insertion, overshoot, angle window) is computed once per check
by :mod:`needleplan.planner` and only when the plan is calibrated; rules that need millimetres are
skipped otherwise and the UNCALIBRATED finding lists them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from needleplan.calibration import UltrasoundRegion
from needleplan.clinical import SiteProfile, hazard_family
from needleplan.plan import Plan, Structure
from needleplan.planner import (
    AngleWindow,
    NeedleMetrics,
    Overshoot,
    SafeInsertion,
    Scene,
    drawn_clearance,
    first_hits,
    needle_vectors,
)
from needleplan.safety.codes import FindingCode
from needleplan.safety.registry import RULES, Rule, rule

__all__ = ["Context", "Rule", "RULES", "rule", "mm", "pct"]


def mm(value: float) -> str:
    """A length for a message: one decimal, no trailing zero noise (``3.2 mm``)."""
    return f"{value:.1f} mm"


def pct(fraction: float) -> str:
    """A fraction as a whole percent (``85%``)."""
    return f"{100 * fraction:.0f}%"


@dataclass(kw_only=True)
class Context:
    """Inputs of one check.  ``scene`` etc. are None for an uncalibrated plan or one without needle.

    Only ``skipped`` changes during a check (rules record the millimetre checks they could not run).
    """

    plan: Plan
    profile: SiteProfile
    th: Mapping[str, float]
    calibrated: bool
    scene: Scene | None = None
    metrics: NeedleMetrics | None = None
    insertion: SafeInsertion | None = None
    over: Overshoot | None = None
    window: AngleWindow | None = None
    regions: Sequence[UltrasoundRegion] | None = None
    skipped: list[FindingCode] = field(default_factory=list)

    def confirmed(self, *families_or_kinds: str) -> list[tuple[int, Structure]]:
        """Confirmed (not merely suggested) structures of the given hazard families or kinds."""
        wanted = set(families_or_kinds)
        return [
            (i, s)
            for i, s in enumerate(self.plan.structures)
            if not s.suggested and (s.kind in wanted or hazard_family(s.kind) in wanted)
        ]

    def skip(self, code: FindingCode) -> None:
        """Record that a millimetre rule could not run (reported by UNCALIBRATED)."""
        if code not in self.skipped:
            self.skipped.append(code)

    @property
    def has_needle(self) -> bool:
        return self.plan.needle is not None

    # The planner's answers about the drawn needle, for the rules.

    def needle_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Entry, tip and unit direction of the drawn needle."""
        return needle_vectors(self.plan)

    def clearance(self, index: int, structure: Structure | None) -> tuple[float, float]:
        """(shaft, tip) distance from the needle to structure ``index`` (mm when calibrated; 0 = crosses)."""
        return drawn_clearance(self.plan, self.metrics, index, structure)

    def crosses(self, index: int, structure: Structure) -> bool:
        """Does the drawn needle touch or cross a structure (or end inside it)?"""
        return self.clearance(index, structure)[0] <= 1e-9

    def first_hits(self, origin: ArrayLike, directions: np.ndarray, *families_or_kinds: str) -> np.ndarray:
        """Distance along each ray to the first confirmed structure of the given families or kinds."""
        return first_hits([s for _i, s in self.confirmed(*families_or_kinds)], origin, directions)
