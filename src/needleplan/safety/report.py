"""Finding and SafetyReport: the values a safety check returns (docs/contracts.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SEVERITIES", "Finding", "SafetyReport", "compare_with_saved"]

#: Severity words, worst first.
SEVERITIES: tuple[str, ...] = ("block", "warn", "info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of a rule: stable ``code``, ``severity``, a physician's ``message``, the ``values``.

    >>> Finding("PLEURA_MARGIN", "warn", "tip 3.2 mm above the pleura; margin 5 mm",
    ...         {"tip_to_pleura_mm": 3.2}).to_dict()["severity"]
    'warn'
    """

    code: str
    severity: str
    message: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "severity", "message", "values"}`` as the plan file stores it."""
        return {"code": self.code, "severity": self.severity, "message": self.message, "values": dict(self.values)}


@dataclass(frozen=True, slots=True)
class SafetyReport:
    """Findings (worst first) and metrics (docs/contracts.md §6 names) of one safety check."""

    findings: tuple[Finding, ...]
    metrics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def worst_severity(self) -> str | None:
        """``block``, ``warn``, ``info`` or None when there are no findings."""
        present = {f.severity for f in self.findings}
        return next((s for s in SEVERITIES if s in present), None)

    @property
    def codes(self) -> frozenset[str]:
        """The set of finding codes."""
        return frozenset(f.code for f in self.findings)

    def by_code(self, code: str) -> tuple[Finding, ...]:
        """The findings with one code."""
        return tuple(f for f in self.findings if f.code == code)

    def to_dict(self) -> dict[str, Any]:
        """``{"worst_severity", "findings": [...], "metrics": {...}}`` (the ``check --json`` object)."""
        return {"worst_severity": self.worst_severity, "findings": [f.to_dict() for f in self.findings],
                "metrics": dict(self.metrics)}


def compare_with_saved(saved_findings: Any, report: SafetyReport) -> dict[str, list[str]]:
    """What changed since a plan was saved: ``{"added": [...], "removed": [...]}`` as ``CODE/severity``.

    >>> r = SafetyReport((Finding("STEEP_ANGLE", "warn", "m"),))
    >>> compare_with_saved([{"code": "PLEURA_MARGIN", "severity": "warn"}], r)
    {'added': ['STEEP_ANGLE/warn'], 'removed': ['PLEURA_MARGIN/warn']}
    """
    before = {f"{f.get('code')}/{f.get('severity')}" for f in saved_findings or ()}
    now = {f"{f.code}/{f.severity}" for f in report.findings}
    return {"added": sorted(now - before), "removed": sorted(before - now)}
