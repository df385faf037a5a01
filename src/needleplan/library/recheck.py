"""Re-check a saved plan with the current rules and show what changed, side by side.

A plan keeps the findings and metrics the planner gave when it was saved.  When it is opened, the
current safety engine checks it again; a rule or threshold may have changed since.  The saved
result is never replaced silently: both are shown, row by row.

>>> d = diff_findings([{"code": "PLEURA_MARGIN", "severity": "warn", "message": "a"}],
...                   [{"code": "PLEURA_MARGIN", "severity": "block", "message": "b"}])
>>> [(r.code, r.change) for r in d]
[('PLEURA_MARGIN', 'changed')]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FindingChange",
    "MetricChange",
    "Recheck",
    "diff_findings",
    "diff_metrics",
    "recheck_plan",
    "format_side_by_side",
]


@dataclass(frozen=True, slots=True)
class FindingChange:
    """One finding code: what was saved, what the current rules say."""

    code: str
    saved: Mapping[str, Any] | None
    current: Mapping[str, Any] | None
    change: str  # "same" | "added" | "removed" | "changed"


@dataclass(frozen=True, slots=True)
class MetricChange:
    name: str
    saved: Any
    current: Any
    change: str


@dataclass(frozen=True, slots=True)
class Recheck:
    """The saved result, the current result and their differences."""

    findings: tuple[FindingChange, ...]
    metrics: tuple[MetricChange, ...]
    current_findings: tuple[Mapping[str, Any], ...]
    current_metrics: Mapping[str, Any]

    @property
    def changed(self) -> bool:
        return any(r.change != "same" for r in self.findings + self.metrics)


def _key(finding: Mapping[str, Any]) -> str:
    return str(finding.get("code"))


def diff_findings(
    saved: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> tuple[FindingChange, ...]:
    """Pair saved and current findings by code (several of one code are paired in order)."""
    rows: list[FindingChange] = []
    pending: dict[Any, list[Mapping[str, Any]]] = {}
    for f in current:
        pending.setdefault(_key(f), []).append(f)
    for f in saved:
        match = pending.get(_key(f))
        if match:
            cur = match.pop(0)
            same = cur.get("severity") == f.get("severity") and cur.get("message") == f.get("message")
            rows.append(FindingChange(_key(f), f, cur, "same" if same else "changed"))
        else:
            rows.append(FindingChange(_key(f), f, None, "removed"))
    for code, rest in pending.items():
        rows.extend(FindingChange(code, None, cur, "added") for cur in rest)
    return tuple(rows)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=0, abs_tol=1e-6)
    return a == b


def diff_metrics(saved: Mapping[str, Any], current: Mapping[str, Any]) -> tuple[MetricChange, ...]:
    """Compare metrics name by name (numbers within 1e-6)."""
    rows = []
    for name in list(saved) + [n for n in current if n not in saved]:
        a, b = saved.get(name), current.get(name)
        if name not in current:
            change = "removed"
        elif name not in saved:
            change = "added"
        else:
            change = "same" if _same_value(a, b) else "changed"
        rows.append(MetricChange(name, a, b, change))
    return tuple(rows)


def recheck_plan(plan_dict: Mapping[str, Any]) -> Recheck:
    """Run the current safety engine on a saved plan and compare with what the plan carries."""
    from needleplan.plan import plan_from_dict
    from needleplan.safety import check_plan

    report = check_plan(plan_from_dict(dict(plan_dict))).to_dict()
    current_findings = tuple(report.get("findings", ()))
    current_metrics = dict(report.get("metrics", {}))
    return Recheck(
        findings=diff_findings(plan_dict.get("findings") or (), current_findings),
        metrics=diff_metrics(plan_dict.get("metrics") or {}, current_metrics),
        current_findings=current_findings,
        current_metrics=current_metrics,
    )


def _cell(finding: Mapping[str, Any] | None) -> str:
    if finding is None:
        return "-"
    return f"{str(finding.get('severity', '?')).upper()}: {finding.get('message', '')}"


def format_side_by_side(result: Recheck, width: int = 60) -> str:
    """Plain-text two-column table: saved | current, marking every difference."""
    lines = [f"{'':2}{'saved when the plan was written':<{width}} | current rules"]
    for row in result.findings:
        mark = " " if row.change == "same" else "*"
        lines.append(f"{mark} {row.code}")
        lines.append(f"{'':2}{_cell(row.saved)[:width]:<{width}} | {_cell(row.current)}")
    for m in result.metrics:
        if m.change != "same":
            lines.append(f"* metric {m.name}: {m.saved!r:<{width - 10}} | {m.current!r}")
    if not result.changed:
        lines.append("  (the current rules give the same result as when the plan was saved)")
    return "\n".join(lines)
