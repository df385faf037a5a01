"""A department's plans on its archive: the same verbs as the local library, over the network.

:class:`ArchiveLibrary` adds plans, saves revisions, submits, approves and requests changes of
plans stored as SR chains (:mod:`needleplan.archive.revision`) on the department's Orthanc; it
reads them (the queue, a plan, its history) as its base :class:`~needleplan.archive.reader.ArchiveReader`.

Who acts is the authenticated user of the DICOMweb credentials, never a name given on the
command line.  The rules (an author does not approve their own plan; only reviewers approve or
request changes) are checked here first, for a clear message, and again by the archive
(``needleplan-review.lua``), which is what a modified client cannot get around.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pydicom

from needleplan.archive.orthanc_rest import ALREADY_STORED, FILTERED_OUT
from needleplan.archive.reader import ArchiveReader
from needleplan.archive.revision import (
    Step,
    build_step,
    library_block_of,
    plan_fields_of,
)
from needleplan.archive.rows import (
    QUEUE_PREFIX,
    row_from_block,
    set_plan_fields,
)
from needleplan.archive.rules import check_may_act
from needleplan.errors import (
    LibraryError,
    PacsError,
    PlanFormatError,
    RevisionConflictError,
)
from needleplan.library.records import LIBRARY_KEY
from needleplan.library.recovery import revision_event
from needleplan.library.store import utc_now
from needleplan.library.workflow import DRAFT, next_status

__all__ = ["QUEUE_PREFIX", "ArchiveLibrary", "check_may_act"]


class ArchiveLibrary(ArchiveReader):
    """The plans on one archive, acted on as the authenticated user.

    Parameters
    ----------
    client : PacsClient
        Connected to the archive's DICOMweb root (``.../dicom-web``) with basic authentication
        (or a token together with ``user`` in the settings).
    reviewers : iterable of str, optional
        The department's reviewer list, when known locally (checked before asking the archive).
    organization : str
        Written as Verifying Organization on approvals.
    cache : QueueCache, optional
        Queue rows already read (default: none kept).
    """

    # -- writing -----------------------------------------------------------------------------------
    def add(self, plan: Any, *, source: pydicom.Dataset | None = None, origin: Mapping[str, Any] | None = None) -> dict:
        """Store a new plan (step 1, a draft by the authenticated user) in its image's study.

        Raises
        ------
        PacsError
            The plan's image is not on the archive (a plan is stored beside its image).
        """
        from pydicom.uid import generate_uid

        from needleplan.plan import plan_to_dict

        body = plan_to_dict(plan)
        body.pop(LIBRARY_KEY, None)
        body["author"] = self.user
        source = source if source is not None else self._source_image(plan)
        plan_id = str(generate_uid())
        return self._write_content(plan_id, body, source, predecessor=None, previous_block=None, origin=origin)

    def save(
        self, plan_id: str, plan: Any, *, expected_seq: int | None = None, origin: Mapping[str, Any] | None = None
    ) -> dict:
        """Store a changed plan as a new draft revision (approved plans included).

        ``origin`` (local library uid, plan id, revision) marks a revision pushed from a local library.
        """
        from needleplan.plan import plan_to_dict

        ds, step = self._latest(plan_id)
        _check_seq(plan_id, step, expected_seq)
        block = library_block_of(ds)
        body = plan_to_dict(plan)
        body.pop(LIBRARY_KEY, None)
        body["author"] = self.user
        before = plan_fields_of(ds).get("image") or {}
        after = body.get("image") or {}
        if before.get("sop_instance_uid") and after.get("sop_instance_uid") not in (None, before["sop_instance_uid"]):
            raise LibraryError(f"this plan is for another image than plan {plan_id}; add it as a new plan")
        source = self._source_image(plan)
        return self._write_content(plan_id, body, source, predecessor=step, previous_block=block, origin=origin)

    def submit(
        self,
        plan_id: str,
        *,
        comment: str | None = None,
        expected_revision: int | None = None,
        expected_seq: int | None = None,
    ) -> dict:
        """Submit a draft for review."""
        return self._status(plan_id, "submit", comment, expected_revision, expected_seq)

    def approve(
        self,
        plan_id: str,
        *,
        comment: str | None = None,
        expected_revision: int | None = None,
        expected_seq: int | None = None,
    ) -> dict:
        """Approve a submitted plan (a VERIFIED revision); refused for its author and non-reviewers."""
        return self._status(plan_id, "approve", comment, expected_revision, expected_seq)

    def request_changes(
        self, plan_id: str, *, comment: str, expected_revision: int | None = None, expected_seq: int | None = None
    ) -> dict:
        """Send a submitted plan back with a comment (a revision carrying it)."""
        if not comment or not comment.strip():
            raise LibraryError("say what should change: --comment is required to request changes")
        return self._status(plan_id, "request_changes", comment, expected_revision, expected_seq)

    def _status(
        self, plan_id: str, action: str, comment: str | None, expected_revision: int | None, expected_seq: int | None
    ) -> dict:
        ds, step = self._latest(plan_id)
        block = library_block_of(ds)
        _check_seq(plan_id, step, expected_seq)
        if expected_revision is not None and block.get("revision") != expected_revision:
            raise RevisionConflictError(
                f"plan {plan_id} is now at revision {block.get('revision')}, not revision {expected_revision} "
                f"you reviewed; open it again before you {action.replace('_', ' ')}"
            )
        new_status = next_status(step.status, action)
        check_may_act(action, self.user, step.author, self.reviewers)
        at = utc_now()
        event = {
            "kind": "status",
            "seq": step.seq + 1,
            "revision": block.get("revision"),
            "action": action,
            "from": step.status,
            "to": new_status,
            "by": self.user,
            "at": at,
            "comment": comment,
        }
        new_block = {
            **block,
            "seq": step.seq + 1,
            "status": new_status,
            "saved_by": self.user,
            "saved_at": at,
            "history": [*block.get("history", []), event],
            "attempt": uuid.uuid4().hex,
        }
        new = copy.deepcopy(ds)
        set_plan_fields(new, {**plan_fields_of(ds), LIBRARY_KEY: new_block})
        return self._store_step(
            new, new_block, plan_id=plan_id, status=new_status, author=step.author or "", predecessor=step, at=at
        )

    def _write_content(
        self,
        plan_id: str,
        body: dict,
        source: pydicom.Dataset,
        *,
        predecessor: Step | None,
        previous_block: Mapping[str, Any] | None,
        origin: Mapping[str, Any] | None = None,
    ) -> dict:
        from needleplan.plan import plan_from_dict, plan_to_dict, with_report
        from needleplan.safety import check_plan
        from needleplan.sr import plan_to_sr

        if not body.get("findings"):  # stored as checked now, as `sr export` does, so the queue shows it
            checked = plan_from_dict(body)
            body = {**plan_to_dict(with_report(checked, check_plan(checked))), "author": body.get("author")}
        at = utc_now()
        seq = 1 if predecessor is None else predecessor.seq + 1
        parent = None if previous_block is None else previous_block.get("revision")
        revision = 1 if parent is None else int(parent) + 1
        block: dict[str, Any] = {
            "archive": True,
            "plan_id": plan_id,
            "revision": revision,
            "seq": seq,
            "parent_revision": parent,
            "status": DRAFT,
            "saved_by": self.user,
            "saved_at": at,
            "findings": [],
            "attempt": uuid.uuid4().hex,
        }
        kept = origin if origin is not None else (previous_block or {}).get("origin")
        if kept is not None:  # a pushed revision says which one; a later one keeps the link, not the claim
            block["origin"] = {**kept, "archive_revision": revision} if origin is not None else dict(kept)
        event = revision_event({**body, LIBRARY_KEY: block})
        block["history"] = [*((previous_block or {}).get("history") or []), event]
        plan = plan_from_dict({**body, LIBRARY_KEY: block})
        sr = plan_to_sr(plan, source)
        return self._store_step(
            sr, block, plan_id=plan_id, status=DRAFT, author=self.user, predecessor=predecessor, at=at
        )

    def _store_step(
        self,
        ds: pydicom.Dataset,
        block: Mapping[str, Any],
        *,
        plan_id: str,
        status: str,
        author: str,
        predecessor: Step | None,
        at: str,
    ) -> dict:
        build_step(
            ds,
            plan_id=plan_id,
            seq=int(block["seq"]),
            status=status,
            actor=self.user,
            author=author,
            at=at,
            predecessor=predecessor,
            organization=self.organization,
        )
        row = row_from_block(plan_id, block, ds)
        ds.ImageComments = QUEUE_PREFIX + json.dumps(row, sort_keys=True, separators=(",", ":"))
        outcome = self.rest.store(ds)
        if outcome == FILTERED_OUT:
            raise PacsError(
                f"the archive refused this {status.replace('_', ' ')} revision of plan {plan_id} "
                f"stored by {self.user}: its department rules allow only a reviewer who did not author "
                "the plan to approve or request changes (see the archive's log for the rule)"
            )
        if outcome == ALREADY_STORED:
            stored = self.rest.lookup(str(ds.SOPInstanceUID))
            theirs = {} if stored is None else library_block_of(self.rest.instance(stored))
            if theirs.get("attempt") != block.get("attempt"):
                raise RevisionConflictError(
                    f"plan {plan_id} changed since you read it: step {block['seq']} was stored by "
                    f"{theirs.get('saved_by') or 'someone else'} first; nothing of yours was stored; "
                    "open the plan again and redo your change"
                )
        return row

    def _source_image(self, plan: Any) -> pydicom.Dataset:
        uid = plan.image.sop_instance_uid if hasattr(plan, "image") else None
        if not uid:
            raise PlanFormatError(
                "the plan does not name its image's SOP Instance UID, so it cannot be stored "
                "beside its image on the archive"
            )
        orthanc_id = self.rest.lookup(uid)
        if orthanc_id is None:
            raise PacsError(
                f"the plan's image (SOP Instance UID {uid}) is not on the archive; a plan is stored "
                "in its image's study: store the image first, or choose the archive that holds it"
            )
        return self.rest.instance(orthanc_id, header_only=True)


def _check_seq(plan_id: str, step: Step, expected_seq: int | None) -> None:
    if expected_seq is not None and step.seq != expected_seq:
        raise RevisionConflictError(
            f"plan {plan_id} changed since you read it (step {step.seq} by {step.actor}, you read step "
            f"{expected_seq}); nothing was stored; open it again before you act"
        )
