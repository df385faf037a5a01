"""Residents' attempts, kept in the plan library so their progress can be listed.

Attempts live in a library of their own, ``<library>/training`` (a :class:`needleplan.library.Library`
with every revision and the crash-safe writes of the plan library), so training plans never mix
with the clinical plans a reviewer lists.  Each attempt is the resident's plan file with
``author`` = the resident, ``case_id`` and a ``training`` block holding the score.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from needleplan.library import Library, default_library_dir
from needleplan.library.store import utc_now
from needleplan.plan import Plan, plan_to_dict
from needleplan.training.scoring import Score

__all__ = ["TRAINING_DIR", "AttemptRecord", "training_library_dir", "record_attempt", "attempt_history"]

TRAINING_DIR = "training"


def training_library_dir(library_root: str | os.PathLike[str] | None = None) -> Path:
    """``<library>/training``: where attempts are kept (``--library DIR`` or the default library)."""
    root = Path(library_root) if library_root is not None else default_library_dir()
    return root / TRAINING_DIR


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One scored attempt, as ``score history`` lists it."""

    plan_id: int
    resident: str
    case_id: str | None
    scored_at: str
    result: str
    target_error_mm: float | None
    angle_deg: float | None
    hazards_found: int
    hazards_total: int
    blocks: tuple[str, ...]
    first_reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in ((k, getattr(self, k)) for k in AttemptRecord.__slots__)
        }


def record_attempt(
    attempt: Plan,
    score: Score,
    *,
    resident: str,
    case_id: str | None = None,
    reference: str | None = None,
    library_root: str | os.PathLike[str] | None = None,
) -> AttemptRecord:
    """Add a scored attempt to the training library; return its history record."""
    body = plan_to_dict(attempt)
    body["author"] = resident
    if case_id is not None:
        body["case_id"] = case_id
    body["training"] = {
        "resident": resident,
        "case_id": case_id,
        "reference": reference,
        "scored_at": utc_now(),
        "score": score.to_dict(),
    }
    with Library(training_library_dir(library_root)) as lib:
        row = lib.add(body, saved_by=resident)
    return _record(int(row["id"]), body)


def attempt_history(
    resident: str,
    *,
    library_root: str | os.PathLike[str] | None = None,
) -> list[AttemptRecord]:
    """Every scored attempt of ``resident``, oldest first (empty if none was recorded)."""
    folder = training_library_dir(library_root)
    if not folder.is_dir():
        return []
    out = []
    with Library(folder, create=False) as lib:
        for row in lib.list_plans():
            if row.get("author") != resident:
                continue
            body = lib.load(int(row["id"]))
            if isinstance(body.get("training"), dict):
                out.append(_record(int(row["id"]), body))
    return sorted(out, key=lambda r: (r.scored_at, r.plan_id))


def _record(plan_id: int, body: dict) -> AttemptRecord:
    training = body["training"]
    score = training.get("score") or {}
    needle = score.get("needle") or {}
    hazards = score.get("hazards") or []
    reasons = score.get("reasons") or [""]
    return AttemptRecord(
        plan_id=plan_id,
        resident=str(training.get("resident") or body.get("author")),
        case_id=training.get("case_id"),
        scored_at=str(training.get("scored_at") or ""),
        result=str(score.get("result")),
        target_error_mm=needle.get("target_distance_mm"),
        angle_deg=needle.get("angle_deg"),
        hazards_found=sum(1 for h in hazards if h.get("status") == "found"),
        hazards_total=len(hazards),
        blocks=tuple(str(f.get("code")) for f in score.get("blocks") or ()),
        first_reason=str(reasons[0]) if reasons else "",
    )
