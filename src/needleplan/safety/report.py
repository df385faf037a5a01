"""Finding and SafetyReport: the values a safety check returns (docs/contracts.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from needleplan.vocabulary import Severity, severity_rank

__all__ = ["Finding", "AppliedMargin", "SafetyReport", "compare_with_saved"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One result of a rule: stable ``code``, ``severity``, a physician's ``message``, the ``values``.

    ``code`` is the word of a :class:`~needleplan.safety.codes.FindingCode` member.

    >>> Finding(code="PLEURA_MARGIN", severity="warn", message="tip 3.2 mm above the pleura; margin 5 mm",
    ...         values={"tip_to_pleura_mm": 3.2}).to_dict()["severity"]
    'warn'
    """

    code: str
    severity: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Codes and severities are stored as their plain words (a FindingCode or Severity member is
        # one), so a report compares, prints and serialises the same however it was built.
        object.__setattr__(self, "code", str(self.code))
        object.__setattr__(self, "severity", str(self.severity))
        if severity_rank(self.severity) == len(Severity):
            raise ValueError(f"severity must be one of {tuple(s.value for s in Severity)}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "severity", "message", "values"}`` as the plan file stores it."""
        return {"code": self.code, "severity": self.severity, "message": self.message, "values": dict(self.values)}


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedMargin:
    """The margin one check kept from one hazard structure, as the rules applied it.

    ``margin_mm`` is the number actually used (e.g. 10 mm for a pleura marked on another frame or
    after a position change, 5 mm otherwise); ``threshold`` names its entry of
    :data:`needleplan.clinical.THRESHOLDS`.  A viewer draws exactly this band around
    ``plan.structures[structure_index]``.
    """

    structure_index: int
    kind: str
    family: str
    margin_mm: float
    threshold: str
    other_frame: bool


@dataclass(frozen=True, slots=True)
class SafetyReport:
    """Findings (worst first) and metrics (docs/contracts.md §6 names) of one safety check."""

    findings: tuple[Finding, ...]
    metrics: Mapping[str, Any] = field(default_factory=dict)
    #: The margin applied to each confirmed hazard structure (empty for an uncalibrated plan: no
    #: millimetre margin is checked then).  Not part of :meth:`to_dict` (the JSON is unchanged).
    applied_margins: tuple[AppliedMargin, ...] = ()

    def margin_for(self, structure_index: int) -> AppliedMargin | None:
        """The margin applied to one structure of the plan, or None when none was."""
        return next((m for m in self.applied_margins if m.structure_index == structure_index), None)

    @property
    def worst_severity(self) -> str | None:
        """``block``, ``warn``, ``info`` or None when there are no findings."""
        present = {f.severity for f in self.findings}
        return next((s.value for s in Severity if s in present), None)

    @property
    def codes(self) -> frozenset[str]:
        """The set of finding codes."""
        return frozenset(f.code for f in self.findings)

    def by_code(self, code: str) -> tuple[Finding, ...]:
        """The findings with one code."""
        return tuple(f for f in self.findings if f.code == code)

    def to_dict(self) -> dict[str, Any]:
        """``{"worst_severity", "findings": [...], "metrics": {...}}`` (the ``check --json`` object)."""
        return {
            "worst_severity": self.worst_severity,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": dict(self.metrics),
        }


def compare_with_saved(saved_findings: Any, report: SafetyReport) -> dict[str, list[str]]:
    """What changed since a plan was saved: ``{"added": [...], "removed": [...]}`` as ``CODE/severity``.

    >>> r = SafetyReport((Finding(code="STEEP_ANGLE", severity="warn", message="m"),))
    >>> compare_with_saved([{"code": "PLEURA_MARGIN", "severity": "warn"}], r)
    {'added': ['STEEP_ANGLE/warn'], 'removed': ['PLEURA_MARGIN/warn']}
    """
    before = {f"{f.get('code')}/{f.get('severity')}" for f in saved_findings or ()}
    now = {f"{f.code}/{f.severity}" for f in report.findings}
    return {"added": sorted(now - before), "removed": sorted(before - now)}
