"""One plan revision on the archive: a TID 1500 Comprehensive SR carrying DICOM's own review state.

A plan on the archive is one SR series in its image's study; the series' Series Instance UID is
the plan's id, stable across revisions.  Every action (a new revision of the plan, submit,
approve, request changes) is a new SR instance of that series, numbered by Instance Number
(``seq``, 1, 2, 3...), whose Predecessor Documents Sequence names the instance it replaces.
Nothing is ever overwritten or deleted: the chain of instances is the audit trail.

The instance of step ``seq`` has a SOP Instance UID derived from ``(plan id, seq)``
(:func:`revision_uid`).  Two users who both act on step 4 of a plan therefore send the same UID
for step 5; the archive keeps the first and answers ``AlreadyStored`` to the second, who is told
that the plan changed since they read it.  That is the revision check, done by the archive's own
index, atomically.

DICOM attributes written on each instance (PS3.3 C.17.2, SR Document General Module):

* Completion Flag ``COMPLETE`` once submitted (submitted, approved), ``PARTIAL`` otherwise;
  Verification Flag ``VERIFIED`` only on an approval, with the Verifying Observer Sequence (the
  reviewer's name, organization, date and time);
  Completion Flag Description ``needleplan <status>`` (the review status, readable without
  opening the document).
* Author Observer Sequence: the plan's author (who saved its current content).
* Participant Sequence, one item of type ``ENT`` (data enterer): who did this step and when.
  The department's Orthanc refuses an instance whose enterer is not the authenticated user.
* Predecessor Documents Sequence: the instance of step ``seq - 1`` (absent on step 1).

The plan's JSON inside the SR (the "plan fields" TEXT item) carries the ``library`` block with
the status and the whole history, in the local library's format, so a plan reads the same from
either place.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydicom

from needleplan.errors import PlanFormatError
from needleplan.library.records import LIBRARY_KEY
from needleplan.library.workflow import APPROVED, DRAFT, STATUSES, SUBMITTED

__all__ = [
    "SERIES_DESCRIPTION",
    "STATUS_PREFIX",
    "Step",
    "build_step",
    "chain_problems",
    "library_block_of",
    "plan_fields_of",
    "read_step",
    "revision_uid",
]

#: The Series Description of every plan series (what the queue searches for).
SERIES_DESCRIPTION = "needleplan plan"
#: Completion Flag Description is ``STATUS_PREFIX + status``.
STATUS_PREFIX = "needleplan "

_COMPLETE = {SUBMITTED, APPROVED}
_UID_NAMESPACE = uuid.UUID("6f1c2a52-3b0e-5d8e-9a41-0d7e6c1f2b90")  # needleplan archive steps (fixed forever)


def revision_uid(plan_id: str, seq: int) -> str:
    """The SOP Instance UID of step ``seq`` of plan ``plan_id``: the same for everyone.

    >>> revision_uid("1.2.3", 2) == revision_uid("1.2.3", 2)
    True
    >>> revision_uid("1.2.3", 2) == revision_uid("1.2.3", 3)
    False
    >>> revision_uid("1.2.3", 2).startswith("2.25.")
    True
    """
    return "2.25." + str(uuid.uuid5(_UID_NAMESPACE, f"{plan_id}/{int(seq)}").int)


@dataclass(frozen=True, slots=True)
class Step:
    """One SR instance of a plan's chain, as read from its header (no plan content).

    ``seq`` is the Instance Number (1 for the first); ``revision`` the plan content revision it
    carries (a status change keeps the revision); ``actor`` who stored it, ``at`` when (ISO UTC).
    """

    plan_id: str
    seq: int
    sop_instance_uid: str
    study_instance_uid: str
    status: str
    completion_flag: str
    verification_flag: str
    actor: str | None
    author: str | None
    at: str | None
    predecessor_uid: str | None
    verifying_observer: str | None = None

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__slots__}


def _person(name: str) -> pydicom.Dataset:
    item = pydicom.Dataset()
    item.ObserverType = "PSN"
    item.PersonName = name
    return item


def _dicom_dt(iso: str) -> str:
    """ISO-8601 UTC -> DICOM DT with its offset.

    >>> _dicom_dt("2026-12-04T17:30:05+00:00")
    '20261204173005+0000'
    """
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return moment.strftime("%Y%m%d%H%M%S+0000")


def build_step(
    sr: pydicom.Dataset,
    *,
    plan_id: str,
    seq: int,
    status: str,
    actor: str,
    author: str,
    at: str,
    predecessor: Step | None,
    organization: str,
) -> pydicom.Dataset:
    """Turn the SR of a plan (from :func:`needleplan.sr.plan_to_sr`) into step ``seq`` of its chain.

    ``sr`` must already carry the plan JSON with its ``library`` block; this sets the series
    (the plan id), the instance UID and number, the review flags, the observers and the
    predecessor.  The dataset is changed in place and returned.
    """
    if status not in STATUSES:
        raise PlanFormatError(f"unknown review status {status!r}; use one of {', '.join(STATUSES)}")
    if (predecessor is None) != (seq == 1):
        raise PlanFormatError(f"step {seq} of plan {plan_id} must name its predecessor (and step 1 none)")
    sr.SeriesInstanceUID = plan_id
    sr.SOPInstanceUID = revision_uid(plan_id, seq)
    sr.InstanceNumber = seq
    sr.SeriesDescription = SERIES_DESCRIPTION
    if getattr(sr, "file_meta", None) is not None:
        sr.file_meta.MediaStorageSOPInstanceUID = sr.SOPInstanceUID
    stamp = _dicom_dt(at)
    sr.ContentDate, sr.ContentTime = stamp[:8], stamp[8:14]
    sr.InstanceCreationDate, sr.InstanceCreationTime = stamp[:8], stamp[8:14]
    sr.CompletionFlag = "COMPLETE" if status in _COMPLETE else "PARTIAL"
    sr.CompletionFlagDescription = STATUS_PREFIX + status
    if status == APPROVED:
        observer = pydicom.Dataset()
        observer.VerifyingObserverName = actor
        observer.VerifyingOrganization = organization
        observer.VerificationDateTime = stamp
        observer.VerifyingObserverIdentificationCodeSequence = []
        sr.VerificationFlag = "VERIFIED"
        sr.VerifyingObserverSequence = [observer]
    else:
        sr.VerificationFlag = "UNVERIFIED"
        if "VerifyingObserverSequence" in sr:
            del sr.VerifyingObserverSequence
    sr.AuthorObserverSequence = [_person(author)]
    enterer = _person(actor)
    enterer.ParticipationType = "ENT"
    enterer.ParticipationDateTime = stamp
    sr.ParticipantSequence = [enterer]
    if predecessor is not None:
        ref = pydicom.Dataset()
        ref.ReferencedSOPClassUID = sr.SOPClassUID
        ref.ReferencedSOPInstanceUID = predecessor.sop_instance_uid
        series = pydicom.Dataset()
        series.SeriesInstanceUID = plan_id
        series.ReferencedSOPSequence = [ref]
        study = pydicom.Dataset()
        study.StudyInstanceUID = predecessor.study_instance_uid
        study.ReferencedSeriesSequence = [series]
        sr.PredecessorDocumentsSequence = [study]
    return sr


def _first(seq: Any, keyword: str) -> str | None:
    if not seq:
        return None
    value = seq[0].get(keyword)
    return None if value in (None, "") else str(value)


def _status_of(description: str | None, completion: str, verification: str) -> str:
    if description and description.startswith(STATUS_PREFIX):
        status = description[len(STATUS_PREFIX) :]
        if status in STATUSES:
            return status
    if verification == "VERIFIED":
        return APPROVED
    return SUBMITTED if completion == "COMPLETE" else DRAFT


def read_step(ds: pydicom.Dataset) -> Step:
    """The :class:`Step` of an SR instance of a plan chain (header only)."""
    predecessor = None
    for study in ds.get("PredecessorDocumentsSequence", []):
        for series in study.get("ReferencedSeriesSequence", []):
            predecessor = _first(series.get("ReferencedSOPSequence"), "ReferencedSOPInstanceUID")
    completion = str(ds.get("CompletionFlag", "PARTIAL"))
    verification = str(ds.get("VerificationFlag", "UNVERIFIED"))
    actor = _first(ds.get("ParticipantSequence"), "PersonName")
    stamp = _first(ds.get("ParticipantSequence"), "ParticipationDateTime")
    return Step(
        plan_id=str(ds.SeriesInstanceUID),
        seq=int(ds.get("InstanceNumber") or 0),
        sop_instance_uid=str(ds.SOPInstanceUID),
        study_instance_uid=str(ds.StudyInstanceUID),
        status=_status_of(ds.get("CompletionFlagDescription"), completion, verification),
        completion_flag=completion,
        verification_flag=verification,
        actor=actor,
        author=_first(ds.get("AuthorObserverSequence"), "PersonName"),
        at=_iso(stamp),
        predecessor_uid=predecessor,
        verifying_observer=_first(ds.get("VerifyingObserverSequence"), "VerifyingObserverName"),
    )


def _iso(stamp: str | None) -> str | None:
    """DICOM DT (as written by :func:`build_step`) -> ISO-8601 UTC.

    >>> _iso("20261204173005+0000")
    '2026-12-04T17:30:05+00:00'
    """
    if not stamp:
        return None
    try:
        return datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return None


def plan_fields_of(ds: pydicom.Dataset) -> dict:
    """The plan JSON (with its ``library`` block) an archive SR carries; {} when it has none."""
    from needleplan.sr import _codes as c

    for item in ds.get("ContentSequence", []):
        if item.get("ValueType") != "CONTAINER":
            continue
        for child in item.get("ContentSequence", []):
            code = child.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in child else None
            if (
                child.get("ValueType") == "TEXT"
                and code is not None
                and code.CodeValue == c.PLAN_FIELDS.value
                and code.CodingSchemeDesignator == c.PLAN_FIELDS.scheme_designator
            ):
                try:
                    return json.loads(child.TextValue)
                except json.JSONDecodeError as exc:
                    raise PlanFormatError(f"the plan JSON in SR {ds.SOPInstanceUID} is damaged: {exc}") from exc
    return {}


def library_block_of(ds: pydicom.Dataset) -> dict:
    """The ``library`` block (status, history...) of an archive SR."""
    block = plan_fields_of(ds).get(LIBRARY_KEY)
    return dict(block) if isinstance(block, Mapping) else {}


def chain_problems(steps: Sequence[Step]) -> list[str]:
    """What is wrong with a plan's chain (empty when consistent): numbering and predecessors.

    >>> chain_problems([])
    []
    """
    problems = []
    ordered = sorted(steps, key=lambda s: s.seq)
    for i, step in enumerate(ordered, start=1):
        if step.seq != i:
            problems.append(f"step {i} is missing (found step {step.seq} next)")
            break
        expected = None if i == 1 else ordered[i - 2].sop_instance_uid
        if step.predecessor_uid != expected:
            problems.append(f"step {i} names predecessor {step.predecessor_uid}, expected {expected}")
        if step.sop_instance_uid != revision_uid(step.plan_id, step.seq):
            problems.append(f"step {i} has SOP Instance UID {step.sop_instance_uid}, not the chain's own")
    return problems
