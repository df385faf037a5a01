"""Between a local library and the archive: work offline, push later, pull what was reviewed.

Links, kept inside the plans themselves (so both ends can check them, and nothing else needs to
be stored):

* a plan pushed to the archive carries ``origin`` in its ``library`` block: the local library's
  uid, the local plan id and the local revision it was pushed from;
* a plan pulled into the local library carries ``pulled_from``: the archive plan id, the step and
  the archive content revision it was pulled at.

A push or pull that would lose a change made on the other side since the last exchange is a
conflict: :class:`~needleplan.errors.RevisionConflictError` says which two revisions diverged and
nothing is stored on either side.  Nothing is ever merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from needleplan.errors import RevisionConflictError

__all__ = ["PULLED_FROM", "pull", "push"]

PULLED_FROM = "pulled_from"


def _linked_archive_row(archive: Any, library_uid: str, plan_id: int) -> dict | None:
    for row in archive.list_plans():
        origin = row.get("origin") or {}
        if origin.get("library_uid") == library_uid and origin.get("plan_id") == plan_id:
            return row
    return None


def push(library: Any, archive: Any, plan_id: int) -> dict:
    """Store local plan ``plan_id`` (its latest revision) on the archive; return the archive row.

    A plan pushed before gets a new archive revision only when the archive still holds what was
    pushed last (no one changed it there); ``outcome`` in the returned row says what happened:
    ``"added"``, ``"revised"`` or ``"up to date"``.

    Raises
    ------
    RevisionConflictError
        The plan changed on the archive since it was pushed (nothing is pushed).
    """
    from needleplan.plan import plan_from_dict

    body = library.load(plan_id)
    revision = int(body["library"]["revision"])
    origin = {"library_uid": library.uid, "plan_id": int(plan_id), "revision": revision}
    plan = plan_from_dict({k: v for k, v in body.items() if k != "library"})
    row = _linked_archive_row(archive, library.uid, int(plan_id))
    if row is None:
        return {**archive.add(plan, origin=origin), "outcome": "added"}
    pushed = int(row["origin"]["revision"])
    if row["origin"].get("archive_revision") != row["revision"]:
        raise RevisionConflictError(
            f"plan {plan_id} changed on the archive (plan {row['id']}, now revision {row['revision']}) since "
            f"local revision {pushed} was pushed; nothing was pushed: pull it, compare, and save your change "
            "over it"
        )
    if pushed == revision:
        return {**row, "outcome": "up to date"}
    return {**archive.save(row["id"], plan, expected_seq=row["seq"], origin=origin), "outcome": "revised"}


def _linked_local(library: Any, archive_plan_id: str) -> tuple[int, dict, int] | None:
    """(local plan id, the last pull's link, the local revision that pull wrote), or None.

    A local revision saved after a pull may not carry the link (a plan file edited elsewhere), so
    every revision is looked at, latest first.
    """
    for row in library.list_plans():
        revisions = [e["revision"] for e in library.history(row["id"]) if e["kind"] == "revision"]
        for revision in sorted(revisions, reverse=True):
            link = library.load(row["id"], revision).get(PULLED_FROM)
            if isinstance(link, Mapping) and link.get("plan_id") == archive_plan_id:
                first = min(r for r in revisions if library.load(row["id"], r).get(PULLED_FROM) == link)
                return int(row["id"]), dict(link), first
    return None


def pull(archive: Any, library: Any, archive_plan_id: str, *, by: str | None = None) -> dict:
    """Copy archive plan ``archive_plan_id`` (latest content) into the local library; return the local row.

    The first pull adds a local plan; a later one saves a new local revision when the archive's
    content changed, provided the local plan has not changed since the last pull.  The review
    status stays the archive's (the local copy is a draft to work on offline); ``outcome`` says
    ``"added"``, ``"revised"`` or ``"up to date"``.

    Raises
    ------
    RevisionConflictError
        The plan changed both locally and on the archive since the last pull (nothing is pulled).
    """
    from needleplan.plan import plan_from_dict

    body = archive.load(archive_plan_id)
    block = body.get("library") or {}
    link = {"plan_id": archive_plan_id, "revision": block.get("revision")}
    plan = plan_from_dict({**{k: v for k, v in body.items() if k not in ("library", PULLED_FROM)}, PULLED_FROM: link})
    linked = _linked_local(library, archive_plan_id)
    if linked is None:
        return {**library.add(plan, saved_by=by), "outcome": "added"}
    local_id, before, pulled_revision = linked
    current = int(library.record(local_id)["revision"])
    if before.get("revision") == block.get("revision"):
        return {**library.record(local_id), "outcome": "up to date"}
    if pulled_revision != current:
        raise RevisionConflictError(
            f"local plan {local_id} changed since it was pulled (local revision {current}) and the archive plan "
            f"changed too (archive revision {block.get('revision')}); nothing was pulled: push your change as a "
            "new plan (library add --as-new --archive) or export it before pulling again"
        )
    return {**library.new_draft(local_id, plan, expected_revision=current, saved_by=by), "outcome": "revised"}
