"""Reading a department's plans on its archive: the review queue, one plan, its chain of steps.

:class:`ArchiveReader` lists the review queue, shows, loads, fetches and reads the history of plans
stored as SR chains (:mod:`needleplan.archive.revision`) on the department's Orthanc.  Rows and
history events have the local library's shape (:func:`needleplan.library.records.summarize_events`),
with the plan id a string (the plan's Series Instance UID) and ``seq``, the step of the chain a
change must follow.  :class:`needleplan.archive.store.ArchiveLibrary` adds the verbs that write.

Who reads is the authenticated user of the DICOMweb credentials, never a name given on the
command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Self

import pydicom

from needleplan.archive.orthanc_rest import OrthancRest
from needleplan.archive.queue_cache import QueueCache
from needleplan.archive.revision import SERIES_DESCRIPTION, Step, library_block_of, read_step
from needleplan.archive.rows import parse_queue_row, row_of
from needleplan.errors import LibraryError, PacsError
from needleplan.pacs.client import PacsClient

__all__ = ["ArchiveReader"]


class ArchiveReader:
    """The plans on one archive, read as the authenticated user: the queue, a plan, its chain.

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

    def __init__(
        self,
        client: PacsClient,
        *,
        reviewers: Iterable[str] | None = None,
        organization: str = "needleplan department",
        cache: QueueCache | None = None,
    ):
        self.client = client
        self.rest = OrthancRest(client)
        self.reviewers = None if reviewers is None else tuple(reviewers)
        self.organization = organization
        self.cache = cache if cache is not None else QueueCache(None)
        user = client.settings.user
        if not user:
            raise PacsError(
                "the archive needs to know who you are: set NEEDLEPLAN_PACS_USER and "
                "NEEDLEPLAN_PACS_PASSWORD (or 'user' with a token in the settings file)"
            )
        self.user = user

    def close(self) -> None:
        """Close the connection and the queue cache."""
        self.cache.close()
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------
    def _plan_instances(self, query: Mapping[str, str] | None = None) -> list[dict]:
        base = {"Modality": "SR", "SeriesDescription": SERIES_DESCRIPTION}
        return self.rest.find_instances({**base, **dict(query or {})})

    def list_plans(
        self,
        *,
        status: str | None = None,
        site: str | None = None,
        patient_id: str | None = None,
        code: str | None = None,
        limit: int | None = None,
        **_ignored: Any,
    ) -> list[dict]:
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
        out = [
            r
            for r in rows.values()
            if (status is None or r["status"] == status)
            and (site is None or r.get("site") == site)
            and (patient_id is None or r.get("patient_id") == patient_id)
            and (code is None or code in (r.get("finding_codes") or "").split())
        ]
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
        got = pacs.retrieve(
            self.client,
            cache if cache is not None else pacs.default_cache(self.client.settings),
            str(header.StudyInstanceUID),
            str(header.SeriesInstanceUID),
            uid,
        )
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
