"""From library files to index rows: what a revision or event contributes to the plan summary.

Pure functions on dicts, shared by saving and by recovery so both derive the index the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from needleplan.library.index import SEVERITY_RANK
from needleplan.library.outcome import Outcome
from needleplan.library.workflow import DRAFT

__all__ = ["plan_summary", "summarize_events", "library_block", "all_findings", "worst_finding"]

LIBRARY_KEY = "library"


def library_block(plan_dict: Mapping[str, Any]) -> dict:
    """The ``library`` block a revision file carries (plan id, revision, seq, who, when)."""
    block = plan_dict.get(LIBRARY_KEY)
    return dict(block) if isinstance(block, Mapping) else {}


def all_findings(plan_dict: Mapping[str, Any]) -> list[dict]:
    """Findings the planner saved plus findings the library added (e.g. PRIOR_POOR_OUTCOME)."""
    saved = [dict(f) for f in plan_dict.get("findings") or () if isinstance(f, Mapping)]
    return saved + [dict(f) for f in library_block(plan_dict).get("findings") or ()]


def worst_finding(findings: Iterable[Mapping[str, Any]]) -> tuple[str | None, int, str | None]:
    """(severity, rank, code) of the most severe finding; first one wins a tie.

    >>> worst_finding([{"code": "A", "severity": "info"}, {"code": "B", "severity": "block"}])
    ('block', 3, 'B')
    >>> worst_finding([])
    (None, 0, None)
    """
    best: tuple[str | None, int, str | None] = (None, 0, None)
    for f in findings:
        rank = SEVERITY_RANK.get(str(f.get("severity")), 0)
        if rank > best[1]:
            best = (str(f.get("severity")), rank, str(f.get("code")))
    return best


def _patient_id(plan: Mapping[str, Any]) -> str | None:
    patient = plan.get("patient")
    if not isinstance(patient, Mapping):
        patient = {}
    for source, key in (
        (patient, "id"),
        (patient, "patient_id"),
        (patient, "case_id"),
        (plan, "patient_id"),
        (plan, "case_id"),
    ):
        value = source.get(key)
        if value not in (None, ""):
            return str(value)
    return None


def plan_summary(plan: Mapping[str, Any]) -> dict:
    """The index fields of one revision: who, what site, which image, which findings."""
    image = plan.get("image")
    if not isinstance(image, Mapping):
        image = {}
    findings = all_findings(plan)
    severity, rank, code = worst_finding(findings)
    return {
        "patient_id": _patient_id(plan),
        "site": plan.get("site"),
        "side": plan.get("side") or (plan.get("patient") or {}).get("side"),
        "created": plan.get("created"),
        "author": plan.get("author"),
        "worst_severity": severity,
        "worst_rank": rank,
        "worst_code": code,
        "finding_codes": " ".join(sorted({str(f.get("code")) for f in findings})),
        "findings": [{"code": f.get("code"), "severity": f.get("severity")} for f in findings],
        "sop_instance_uid": image.get("sop_instance_uid"),
        "frame_index": image.get("frame_index"),
        "pixel_sha256": image.get("pixel_sha256"),
        "image_path": image.get("path"),
    }


def summarize_events(plan_id: int, events: Iterable[Mapping[str, Any]]) -> dict:
    """Replay a plan's events in order into its index row (status, reviewer, outcome, summary)."""
    row: dict[str, Any] = {
        "id": plan_id,
        "status": DRAFT,
        "revision": 0,
        "reviewer": None,
        "outcome_poor": None,
        "outcome_summary": None,
    }
    for event in sorted(events, key=lambda e: e["seq"]):
        row["updated"] = event.get("at")
        if event["kind"] == "revision":
            row["revision"] = event["revision"]
            row["status"] = DRAFT
            row["reviewer"] = None
            row.update({k: v for k, v in event["summary"].items() if k != "findings"})
        elif event["kind"] == "status":
            row["status"] = event["to"]
            if event.get("action") in ("approve", "request_changes"):
                row["reviewer"] = event.get("by")
        elif event["kind"] == "outcome":
            outcome = Outcome.from_dict(event["outcome"])
            row["outcome_poor"] = int(outcome.is_poor)
            row["outcome_summary"] = outcome.summary()
    return row
