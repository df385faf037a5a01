"""A department's plans on its archive: the same verbs as the local library, over the network.

:class:`ArchiveLibrary` adds plans, lists the review queue, shows, submits, approves, requests
changes and reads the history of plans stored as SR chains (:mod:`needleplan.archive.revision`)
on the department's Orthanc.  Rows and history events have the local library's shape
(:func:`needleplan.library.records.summarize_events`), with the plan id a string (the plan's
Series Instance UID) and ``seq``, the step of the chain a change must follow.

Who acts is the authenticated user of the DICOMweb credentials, never a name given on the
command line.  The rules (an author does not approve their own plan; only reviewers approve or
request changes) are checked here first, for a clear message, and again by the archive
(``needleplan-review.lua``), which is what a modified client cannot get around.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pydicom

from needleplan.archive.orthanc_rest import ALREADY_STORED, FILTERED_OUT, OrthancRest
from needleplan.archive.queue_cache import QueueCache
from needleplan.archive.revision import (
    SERIES_DESCRIPTION,
    Step,
    build_step,
    library_block_of,
    plan_fields_of,
    read_step,
)
from needleplan.archive.rows import (
    QUEUE_PREFIX,
    parse_queue_row,
    row_from_block,
    row_of,
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
from needleplan.pacs.client import PacsClient

__all__ = ["QUEUE_PREFIX", "ArchiveLibrary", "check_may_act"]



class ArchiveLibrary:
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

    def __init__(self, client: PacsClient, *, reviewers: Iterable[str] | None = None,
                 organization: str = "needleplan department", cache: QueueCache | None = None):
        self.client = client
        self.rest = OrthancRest(client)
        self.reviewers = None if reviewers is None else tuple(reviewers)
        self.organization = organization
        self.cache = cache if cache is not None else QueueCache(None)
        user = client.settings.user
        if not user:
            raise PacsError("the archive needs to know who you are: set NEEDLEPLAN_PACS_USER and "
                            "NEEDLEPLAN_PACS_PASSWORD (or 'user' with a token in the settings file)")
        self.user = user

    def close(self) -> None:
        """Close the connection and the queue cache."""
        self.cache.close()
        self.client.close()

    def __enter__(self) -> ArchiveLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------
    def _plan_instances(self, query: Mapping[str, str] | None = None) -> list[dict]:
        base = {"Modality": "SR", "SeriesDescription": SERIES_DESCRIPTION}
        return self.rest.find_instances({**base, **dict(query or {})})

    def list_plans(self, *, status: str | None = None, site: str | None = None,
                   patient_id: str | None = None, code: str | None = None,
                   limit: int | None = None, **_ignored: Any) -> list[dict]:
        """The review queue: one row per plan (its latest step), newest first.

        One request to the archive's index for the latest step of every plan; the row of a step
        comes from the local :class:`QueueCache` when this machine has read it before, else from
        the step's Image Comments (read in parallel).
        """
        latest: dict[str | None, tuple[int, str, str]] = {}  # by series (Orthanc's ParentSeries)
        for instance in self._plan_instances():
            tags = instance.get("MainDicomTags") or {}
            seq, parent = int(tags.get("InstanceNumber") or 0), instance.get("ParentSeries")
            if parent not in latest or seq > latest[parent][0]:
                latest[parent] = (seq, instance["ID"], str(tags.get("SOPInstanceUID")))
        wanted = {uid: orthanc_id for _, orthanc_id, uid in latest.values()}
        rows = self.cache.get_many(self.rest.root, wanted)
        missing = [uid for uid in wanted if uid not in rows]
        if missing:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=8) as pool:
                comments = list(pool.map(lambda uid: self.rest.image_comments(wanted[uid]), missing))
            rows_read = map(parse_queue_row, comments)  # one per missing uid, in order (pool.map)
            fetched = {uid: row for uid, row in zip(missing, rows_read, strict=True) if row is not None}
            self.cache.put_many(self.rest.root, fetched)
            rows.update(fetched)
        out = [r for r in rows.values() if (status is None or r["status"] == status)
               and (site is None or r.get("site") == site)
               and (patient_id is None or r.get("patient_id") == patient_id)
               and (code is None or code in (r.get("finding_codes") or "").split())]
        out.sort(key=lambda r: (r.get("updated") or "", r["id"]), reverse=True)
        return out[:limit] if limit else out

    def _steps_raw(self, plan_id: str) -> list[tuple[int, str]]:
        found = self._plan_instances({"SeriesInstanceUID": plan_id})
        steps = sorted((int((i.get("MainDicomTags") or {}).get("InstanceNumber") or 0), i["ID"]) for i in found)
        if not steps:
            raise LibraryError(f"no plan {plan_id} on the archive; list them with `needleplan review --archive URL`")
        return steps

    def _latest(self, plan_id: str) -> tuple[pydicom.Dataset, Step]:
        _, orthanc_id = self._steps_raw(plan_id)[-1]
        ds = self.rest.instance(orthanc_id)
        return ds, read_step(ds)

    def record(self, plan_id: str) -> dict:
        """The queue row of one plan (its latest step)."""
        ds, _ = self._latest(plan_id)
        return row_of(ds)

    def load(self, plan_id: str, seq: int | None = None) -> dict:
        """The plan JSON (with its ``library`` block) of step ``seq`` (latest by default)."""
        steps = self._steps_raw(plan_id)
        chosen = steps[-1] if seq is None else next((s for s in steps if s[0] == seq), None)
        if chosen is None:
            raise LibraryError(f"plan {plan_id} has no step {seq}; see `needleplan history {plan_id} --archive URL`")
        from needleplan.plan import plan_to_dict
        from needleplan.sr import sr_to_plan

        ds = self.rest.instance(chosen[1])
        return plan_to_dict(sr_to_plan(ds))

    def fetch_plan(self, plan_id: str, folder: str | Path, *, cache: Any = None) -> Path:
        """Retrieve a plan's image into the PACS cache and write the plan (latest step) beside it.

        Returns the plan file, whose ``image.path`` is the retrieved image: what a viewer opens to
        show the plan on its image.  ``cache`` is an :class:`~needleplan.pacs.InstanceCache`
        (default: the user's PACS cache).
        """
        from needleplan import pacs
        from needleplan.library._files import publish_json

        body = self.load(plan_id)
        uid = (body.get("image") or {}).get("sop_instance_uid")
        orthanc_id = self.rest.lookup(uid) if uid else None
        if orthanc_id is None:
            raise PacsError(f"the image of plan {plan_id} (SOP Instance UID {uid}) is no longer on the archive")
        header = self.rest.instance(orthanc_id, header_only=True)
        got = pacs.retrieve(self.client, cache if cache is not None else pacs.default_cache(self.client.settings),
                            str(header.StudyInstanceUID), str(header.SeriesInstanceUID), uid)
        body["image"] = {**body["image"], "path": str(Path(got.paths[0]).resolve())}
        out = Path(folder) / f"{plan_id}.plan.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.unlink(missing_ok=True)  # a copy fetched earlier: the archive's latest step replaces it
        publish_json(out, body)
        return out

    def steps(self, plan_id: str) -> list[tuple[Step, dict]]:
        """Every step of the chain, in order, with its ``library`` block (read from the SRs)."""
        out = []
        for _, orthanc_id in self._steps_raw(plan_id):
            ds = self.rest.instance(orthanc_id)
            out.append((read_step(ds), library_block_of(ds)))
        return out

    def history(self, plan_id: str) -> list[dict]:
        """Every event, from the SR chain itself: who did what when, in the local library's format.

        Each step's event is read from that step's own SR (its enterer, time and action), so a
        later revision cannot rewrite what an earlier one records.
        """
        events = []
        for step, block in self.steps(plan_id):
            event = dict((block.get("history") or [{}])[-1])
            event.update({"seq": step.seq, "by": step.actor, "at": step.at, "sop_instance_uid": step.sop_instance_uid})
            if step.verifying_observer:
                event["verifying_observer"] = step.verifying_observer
            events.append(event)
        return events

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

    def save(self, plan_id: str, plan: Any, *, expected_seq: int | None = None,
             origin: Mapping[str, Any] | None = None) -> dict:
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

    def submit(self, plan_id: str, *, comment: str | None = None, expected_revision: int | None = None,
               expected_seq: int | None = None) -> dict:
        """Submit a draft for review."""
        return self._status(plan_id, "submit", comment, expected_revision, expected_seq)

    def approve(self, plan_id: str, *, comment: str | None = None, expected_revision: int | None = None,
                expected_seq: int | None = None) -> dict:
        """Approve a submitted plan (a VERIFIED revision); refused for its author and non-reviewers."""
        return self._status(plan_id, "approve", comment, expected_revision, expected_seq)

    def request_changes(self, plan_id: str, *, comment: str, expected_revision: int | None = None,
                        expected_seq: int | None = None) -> dict:
        """Send a submitted plan back with a comment (a revision carrying it)."""
        if not comment or not comment.strip():
            raise LibraryError("say what should change: --comment is required to request changes")
        return self._status(plan_id, "request_changes", comment, expected_revision, expected_seq)

    def _status(self, plan_id: str, action: str, comment: str | None, expected_revision: int | None,
                expected_seq: int | None) -> dict:
        ds, step = self._latest(plan_id)
        block = library_block_of(ds)
        _check_seq(plan_id, step, expected_seq)
        if expected_revision is not None and block.get("revision") != expected_revision:
            raise RevisionConflictError(
                f"plan {plan_id} is now at revision {block.get('revision')}, not revision {expected_revision} "
                f"you reviewed; open it again before you {action.replace('_', ' ')}")
        new_status = next_status(step.status, action)
        check_may_act(action, self.user, step.author, self.reviewers)
        at = utc_now()
        event = {"kind": "status", "seq": step.seq + 1, "revision": block.get("revision"), "action": action,
                 "from": step.status, "to": new_status, "by": self.user, "at": at, "comment": comment}
        new_block = {**block, "seq": step.seq + 1, "status": new_status, "saved_by": self.user, "saved_at": at,
                     "history": [*block.get("history", []), event], "attempt": uuid.uuid4().hex}
        new = copy.deepcopy(ds)
        set_plan_fields(new, {**plan_fields_of(ds), LIBRARY_KEY: new_block})
        return self._store_step(new, new_block, plan_id=plan_id, status=new_status, author=step.author or "",
                                predecessor=step, at=at)

    def _write_content(self, plan_id: str, body: dict, source: pydicom.Dataset, *,
                       predecessor: Step | None, previous_block: Mapping[str, Any] | None,
                       origin: Mapping[str, Any] | None = None) -> dict:
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
        block: dict[str, Any] = {"archive": True, "plan_id": plan_id, "revision": revision, "seq": seq,
                                 "parent_revision": parent, "status": DRAFT, "saved_by": self.user, "saved_at": at,
                                 "findings": [], "attempt": uuid.uuid4().hex}
        kept = origin if origin is not None else (previous_block or {}).get("origin")
        if kept is not None:  # a pushed revision says which one; a later one keeps the link, not the claim
            block["origin"] = {**kept, "archive_revision": revision} if origin is not None else dict(kept)
        event = revision_event({**body, LIBRARY_KEY: block})
        block["history"] = [*((previous_block or {}).get("history") or []), event]
        plan = plan_from_dict({**body, LIBRARY_KEY: block})
        sr = plan_to_sr(plan, source)
        return self._store_step(sr, block, plan_id=plan_id, status=DRAFT, author=self.user,
                                predecessor=predecessor, at=at)

    def _store_step(self, ds: pydicom.Dataset, block: Mapping[str, Any], *, plan_id: str, status: str,
                    author: str, predecessor: Step | None, at: str) -> dict:
        build_step(ds, plan_id=plan_id, seq=int(block["seq"]), status=status, actor=self.user, author=author,
                   at=at, predecessor=predecessor, organization=self.organization)
        row = row_from_block(plan_id, block, ds)
        ds.ImageComments = QUEUE_PREFIX + json.dumps(row, sort_keys=True, separators=(",", ":"))
        outcome = self.rest.store(ds)
        if outcome == FILTERED_OUT:
            raise PacsError(f"the archive refused this {status.replace('_', ' ')} revision of plan {plan_id} "
                            f"stored by {self.user}: its department rules allow only a reviewer who did not author "
                            "the plan to approve or request changes (see the archive's log for the rule)")
        if outcome == ALREADY_STORED:
            stored = self.rest.lookup(str(ds.SOPInstanceUID))
            theirs = {} if stored is None else library_block_of(self.rest.instance(stored))
            if theirs.get("attempt") != block.get("attempt"):
                raise RevisionConflictError(
                    f"plan {plan_id} changed since you read it: step {block['seq']} was stored by "
                    f"{theirs.get('saved_by') or 'someone else'} first; nothing of yours was stored; "
                    "open the plan again and redo your change")
        return row

    def _source_image(self, plan: Any) -> pydicom.Dataset:
        uid = plan.image.sop_instance_uid if hasattr(plan, "image") else None
        if not uid:
            raise PlanFormatError("the plan does not name its image's SOP Instance UID, so it cannot be stored "
                                  "beside its image on the archive")
        orthanc_id = self.rest.lookup(uid)
        if orthanc_id is None:
            raise PacsError(f"the plan's image (SOP Instance UID {uid}) is not on the archive; a plan is stored "
                            "in its image's study: store the image first, or choose the archive that holds it")
        return self.rest.instance(orthanc_id, header_only=True)


def _check_seq(plan_id: str, step: Step, expected_seq: int | None) -> None:
    if expected_seq is not None and step.seq != expected_seq:
        raise RevisionConflictError(
            f"plan {plan_id} changed since you read it (step {step.seq} by {step.actor}, you read step "
            f"{expected_seq}); nothing was stored; open it again before you act")
