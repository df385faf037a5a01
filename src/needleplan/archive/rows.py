"""Queue rows of archive plans: what a step's Image Comments carries, and the plan JSON inside an SR.

A row has the local library's shape (:func:`needleplan.library.records.summarize_events` over the
history the step carries) plus ``id`` (the plan's Series Instance UID), ``seq``,
``study_instance_uid`` and ``origin``.  Each step stores its row as ``QUEUE_PREFIX`` + JSON in
Image Comments, so the queue is read without opening the documents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pydicom

from needleplan.archive.revision import library_block_of
from needleplan.errors import PlanFormatError
from needleplan.library.records import summarize_events

__all__ = ["QUEUE_PREFIX", "parse_queue_row", "row_from_block", "row_of", "set_plan_fields"]

#: Image Comments of every step: this prefix + the queue row as JSON.
QUEUE_PREFIX = "needleplan queue "


def set_plan_fields(ds: pydicom.Dataset, fields: Mapping[str, Any]) -> None:
    from needleplan.sr import _codes as c

    for item in ds.get("ContentSequence", []):
        for child in item.get("ContentSequence", []) if item.get("ValueType") == "CONTAINER" else []:
            code = child.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in child else None
            if code is not None and code.CodeValue == c.PLAN_FIELDS.value:
                child.TextValue = json.dumps(fields, sort_keys=True, default=str)
                return
    raise PlanFormatError(f"SR {ds.SOPInstanceUID} carries no needleplan plan fields; it is not a plan revision")


def row_from_block(plan_id: str, block: Mapping[str, Any], ds: pydicom.Dataset) -> dict:
    row = summarize_events(0, block.get("history") or [])
    row.update(
        {
            "id": plan_id,
            "seq": int(block["seq"]),
            "status": block["status"],
            "study_instance_uid": str(ds.StudyInstanceUID),
            "updated": block.get("saved_at"),
            "origin": block.get("origin"),
        }
    )
    return row


def parse_queue_row(comment: str) -> dict | None:
    """The queue row an Image Comments value carries (None when it is not a needleplan one)."""
    if not comment.startswith(QUEUE_PREFIX):
        return None
    try:
        row = json.loads(comment[len(QUEUE_PREFIX) :])
    except json.JSONDecodeError:
        return None
    return row if isinstance(row, dict) and "id" in row and "status" in row else None


def row_of(ds: pydicom.Dataset) -> dict:
    row = parse_queue_row(str(ds.get("ImageComments") or ""))
    if row is not None:
        return row
    block = library_block_of(ds)
    return row_from_block(str(ds.SeriesInstanceUID), block, ds)
