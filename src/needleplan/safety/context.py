"""What every rule sees: the plan, its site profile, the thresholds and the computed geometry.

The geometry (metrics, deepest safe insertion, overshoot, angle window) is computed once per check
by :mod:`needleplan.planner` and only when the plan is calibrated; rules that need millimetres are
skipped otherwise and the UNCALIBRATED finding lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from needleplan.clinical import SiteProfile, hazard_family
from needleplan.plan import Plan, Structure
from needleplan.safety.report import Finding

__all__ = ["Context", "Rule", "RULES", "rule", "mm", "pct"]


def mm(value: float) -> str:
    """A length for a message: one decimal, no trailing zero noise (``3.2 mm``)."""
    return f"{value:.1f} mm"


def pct(fraction: float) -> str:
    """A fraction as a whole percent (``85%``)."""
    return f"{100 * fraction:.0f}%"


@dataclass
class Context:
    """Inputs of one check.  ``metrics`` etc. are None for an uncalibrated plan or one without needle."""

    plan: Plan
    profile: SiteProfile
    th: Mapping[str, float]
    calibrated: bool
    scene: Any = None
    metrics: Any = None
    insertion: Any = None
    over: Any = None
    window: Any = None
    regions: Any = None
    skipped: list[str] = field(default_factory=list)

    def confirmed(self, *families_or_kinds: str) -> list[tuple[int, Structure]]:
        """Confirmed (not merely suggested) structures of the given hazard families or kinds."""
        wanted = set(families_or_kinds)
        return [(i, s) for i, s in enumerate(self.plan.structures)
                if not s.suggested and (s.kind in wanted or hazard_family(s.kind) in wanted)]

    def skip(self, code: str) -> None:
        """Record that a millimetre rule could not run (reported by UNCALIBRATED)."""
        if code not in self.skipped:
            self.skipped.append(code)

    @property
    def has_needle(self) -> bool:
        return self.plan.needle is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """A registered rule: ``func(ctx)`` yields findings; ``needs_mm`` rules are skipped uncalibrated."""

    name: str
    codes: tuple[str, ...]
    rows: tuple[str, ...]
    needs_mm: bool
    needs_needle: bool
    func: Callable[[Context], Iterable[Finding]]


RULES: list[Rule] = []


def rule(name: str, *, codes: tuple[str, ...], rows: tuple[str, ...], needs_mm: bool = False,
         needs_needle: bool = False) -> Callable[[Callable[[Context], Iterable[Finding]]], Callable]:
    """Register a rule function in :data:`RULES` (the registry; the order is the report order)."""
    def deco(func: Callable[[Context], Iterable[Finding]]) -> Callable:
        RULES.append(Rule(name, codes, rows, needs_mm, needs_needle, func))
        return func
    return deco
