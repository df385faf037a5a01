"""The plan library: plan files with every revision kept, an SQLite index, a review workflow.

Every change is written the same way: take the index's write lock (``BEGIN IMMEDIATE``), leave a
marker in ``journal/``, publish the new file (temp file, fsync, link to its final name without
overwriting), update the index, commit, remove the marker.  A process killed at any point leaves
either nothing or a complete file; the next writable open (or write) finds the marker under the
write lock and re-indexes that plan from its files (:mod:`needleplan.library.recovery`).  Recovery
never runs without the lock, so it only ever sees a dead writer's leftovers, and a read-only open
(``create=False``, as ``needleplan review`` does) deletes and rewrites nothing.  No earlier revision
is ever rewritten.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from needleplan.errors import ImageBindingError, LibraryError, ReadOnlyPlanError, RevisionConflictError
from needleplan.library import index as idx
from needleplan.library import recovery
from needleplan.library._files import publish_json, read_json
from needleplan.library.layout import (
    INDEX_NAME,
    JOURNAL_DIR,
    PLANS_DIR,
    default_library_dir,
    ensure_dirs,
    event_name,
    plan_dir_name,
    revision_name,
)
from needleplan.library.outcome import Outcome, prior_outcome_finding
from needleplan.library.records import LIBRARY_KEY, plan_summary
from needleplan.library.workflow import APPROVED, next_status

__all__ = ["Library", "utc_now"]


def utc_now() -> str:
    """The current time as ISO-8601 UTC, seconds precision."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Library:
    """A plan library folder.  Use as a context manager or call :meth:`close`.

    Parameters
    ----------
    root
        The library folder; default :func:`~needleplan.library.layout.default_library_dir`.
    create
        Create the folder and index if missing (else :class:`LibraryError` when there is none).
    """

    def __init__(self, root: str | os.PathLike | None = None, *, create: bool = True) -> None:
        self.root = Path(root) if root is not None else default_library_dir()
        db_path = self.root / INDEX_NAME
        if create:
            ensure_dirs(self.root)
        elif not db_path.is_file():
            raise LibraryError(
                f"no plan library at {self.root}; add a plan first with "
                "`needleplan library add PLAN` or give --library DIR"
            )
        self._conn, self.rebuilt_from = recovery.open_index(self.root, create=create)
        self.uid = recovery.library_uid(self.root, create=create)
        #: plans re-indexed from a dead writer's journal markers on this open (writable opens only)
        self.recovered: list[int] = []
        #: a read-only open never deletes or rewrites anything: it only says whether interrupted
        #: saves wait for the next writable open to recover them
        self.pending_recovery = False
        if not create:
            self.pending_recovery = bool(recovery.journal_markers(self.root))
            return
        try:
            self.recovered = recovery.recover_journal(self)
        except Exception as exc:
            self._conn.close()
            raise LibraryError(
                f"cannot recover interrupted saves in {self.root}: {exc}; open the library where it is writable"
            ) from exc

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def plan_dir(self, plan_id: int) -> Path:
        return self.root / PLANS_DIR / plan_dir_name(plan_id)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _writing(self, plan_id: int | None) -> Iterator[dict]:
        """Write lock + journal marker; on failure the plan is re-indexed from its files."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # sqlite3.OperationalError: read-only, locked
            raise LibraryError(
                f"cannot write to the library index in {self.root}: {exc}; check the folder is writable (--library DIR)"
            ) from exc
        marker = self.root / JOURNAL_DIR / f"{uuid.uuid4().hex}.json"
        state: dict[str, Any] = {"plan_id": plan_id, "marker": marker, "published": False}
        self._state = state
        try:
            recovery.recover_journal(self, in_transaction=True)
            if plan_id is not None:
                publish_json(marker, {"plan_id": plan_id, "pid": os.getpid()})
            yield state
            self._conn.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            keep_marker = False
            if state["published"]:  # a file is on disk but the index missed it: re-index now
                try:
                    recovery.reindex_plans(self, [state["plan_id"]])
                except Exception:  # the next open re-indexes this plan from the marker
                    keep_marker = True
            if not keep_marker:
                marker.unlink(missing_ok=True)
            if isinstance(exc, sqlite3.Error):
                raise LibraryError(
                    f"the library index in {self.root} could not be updated ({exc}); files "
                    "already written are kept and indexed when the library is next opened "
                    "where it is writable"
                ) from exc
            raise
        marker.unlink(missing_ok=True)

    def _current(self, plan_id: int) -> dict:
        rows = self._conn.execute(f"SELECT {','.join(idx.PLAN_COLUMNS)} FROM plans WHERE id=?", (plan_id,)).fetchall()
        if not rows:
            raise LibraryError(
                f"no plan with id {plan_id} in the library {self.root}; list them with `needleplan review`"
            )
        return dict(zip(idx.PLAN_COLUMNS, rows[0], strict=True))

    def _next_seq(self, plan_id: int) -> int:
        row = self._conn.execute("SELECT MAX(seq) FROM events WHERE plan_id=?", (plan_id,)).fetchone()
        return (row[0] or 0) + 1

    def _publish_event(self, plan_id: int, event: dict, name: str, body: dict) -> None:
        path = self.plan_dir(plan_id) / name
        try:
            publish_json(path, body)
            self._state["published"] = True
        except FileExistsError as exc:
            raise RevisionConflictError(
                f"plan {plan_id} was changed by someone else at the same moment ({name} exists); "
                "nothing was overwritten; open the plan again and redo your change"
            ) from exc
        recovery.index_event(self, plan_id, event, name)

    # -- saving plans --------------------------------------------------------------------------
    def add(self, plan: Any, *, saved_by: str | None = None) -> dict:
        """Add a new plan (revision 1, status draft); return its index row."""
        plan_dict = recovery.plan_dict(plan)
        with self._writing(None) as state:
            plan_id = self._next_free_id()
            state["plan_id"] = plan_id  # the marker comes first: recovery removes an empty folder
            publish_json(state["marker"], {"plan_id": plan_id, "pid": os.getpid()})
            try:
                self.plan_dir(plan_id).mkdir()
            except OSError as exc:
                raise LibraryError(
                    f"cannot create a plan folder in {self.root / PLANS_DIR}: "
                    f"{exc.strerror or exc}; check the library is writable"
                ) from exc
            self._write_revision(plan_id, plan_dict, 1, None, saved_by)
        return self.record(plan_id)

    def save(self, plan_id: int, plan: Any, *, expected_revision: int, saved_by: str | None = None) -> dict:
        """Save a new revision over ``expected_revision``; the earlier revision is kept.

        Raises
        ------
        RevisionConflictError
            The plan's current revision is not ``expected_revision`` (someone saved first).
        ReadOnlyPlanError
            The plan is approved; use :meth:`new_draft`.
        """
        return self._save(plan_id, plan, expected_revision, saved_by, allow_approved=False)

    def new_draft(self, plan_id: int, plan: Any, *, expected_revision: int, saved_by: str | None = None) -> dict:
        """Save a change to any plan, approved ones included, as a new draft revision."""
        return self._save(plan_id, plan, expected_revision, saved_by, allow_approved=True)

    def _save(self, plan_id: int, plan: Any, expected: int, saved_by: str | None, *, allow_approved: bool) -> dict:
        plan_dict = recovery.plan_dict(plan)
        with self._writing(plan_id):
            current = self._current(plan_id)
            if current["revision"] != expected:
                raise RevisionConflictError(
                    f"plan {plan_id} is at revision {current['revision']}, saved by someone else "
                    f"after revision {expected} you started from; your change was not saved "
                    "over it: open the plan again, redo the change and save"
                )
            if current["status"] == APPROVED and not allow_approved:
                raise ReadOnlyPlanError(
                    f"plan {plan_id} revision {expected} is approved and read-only; "
                    "save the change as a new draft revision (needleplan library add "
                    f"--new-draft {plan_id} PLAN)"
                )
            _check_same_image(plan_id, current, plan_dict)
            self._write_revision(plan_id, plan_dict, expected + 1, expected, saved_by)
        return self.record(plan_id)

    def _next_free_id(self) -> int:
        row = self._conn.execute("SELECT MAX(id) FROM plans").fetchone()
        plan_id = (row[0] or 0) + 1
        while self.plan_dir(plan_id).exists():  # a folder the index does not know: keep it
            plan_id += 1
        return plan_id

    def _write_revision(
        self, plan_id: int, plan_dict: dict, revision: int, parent: int | None, saved_by: str | None
    ) -> None:
        summary = plan_summary(plan_dict)
        earlier = self._poor_outcomes(summary["patient_id"], summary["site"], plan_id)
        extra = prior_outcome_finding(earlier, summary["site"] or "this site")
        block = {
            "library_uid": self.uid,
            "plan_id": plan_id,
            "revision": revision,
            "seq": self._next_seq(plan_id),
            "parent_revision": parent,
            "saved_at": utc_now(),
            "saved_by": saved_by,
            "findings": [extra] if extra else [],
        }
        body = {**plan_dict, LIBRARY_KEY: block}
        event = recovery.revision_event(body)
        self._publish_event(plan_id, event, revision_name(revision), body)

    def _poor_outcomes(self, patient_id: str | None, site: str | None, plan_id: int) -> list:
        if not patient_id or not site:
            return []
        rows = self._conn.execute(
            "SELECT id, created, outcome_summary FROM plans WHERE patient_id=? AND site=? "
            "AND outcome_poor=1 AND id<>? ORDER BY created",
            (patient_id, site, plan_id),
        )
        return [{"id": r[0], "created": r[1], "outcome_summary": r[2]} for r in rows]

    # -- review workflow and outcome -------------------------------------------------------------
    def submit(
        self, plan_id: int, *, by: str | None = None, comment: str | None = None, expected_revision: int | None = None
    ) -> dict:
        """Submit a draft for review."""
        return self._status(plan_id, "submit", by, comment, expected_revision)

    def approve(
        self, plan_id: int, *, reviewer: str, comment: str | None = None, expected_revision: int | None = None
    ) -> dict:
        """Approve a submitted plan; it becomes read-only."""
        return self._status(plan_id, "approve", reviewer, comment, expected_revision)

    def request_changes(
        self, plan_id: int, *, reviewer: str, comment: str, expected_revision: int | None = None
    ) -> dict:
        """Send a submitted plan back to its author with a comment."""
        if not comment or not comment.strip():
            raise LibraryError("say what should change: --comment is required to request changes")
        return self._status(plan_id, "request_changes", reviewer, comment, expected_revision)

    def _status(self, plan_id: int, action: str, by: str | None, comment: str | None, expected: int | None) -> dict:
        if action != "submit" and not (by and by.strip()):
            raise LibraryError("a review needs the reviewer's name: give --reviewer NAME")
        with self._writing(plan_id):
            current = self._current(plan_id)
            if expected is not None and current["revision"] != expected:
                raise RevisionConflictError(
                    f"plan {plan_id} is now at revision {current['revision']}, not revision "
                    f"{expected} you reviewed; open it again before you {action.replace('_', ' ')}"
                )
            new = next_status(current["status"], action)
            seq = self._next_seq(plan_id)
            event = {
                "kind": "status",
                "seq": seq,
                "revision": current["revision"],
                "action": action,
                "from": current["status"],
                "to": new,
                "by": by,
                "at": utc_now(),
                "comment": comment,
            }
            self._publish_event(plan_id, event, event_name(seq), event)
        return self.record(plan_id)

    def set_outcome(self, plan_id: int, outcome: Outcome, *, by: str | None = None) -> dict:
        """Record the outcome of the procedure (allowed on approved plans: it is not a change)."""
        with self._writing(plan_id):
            current = self._current(plan_id)
            seq = self._next_seq(plan_id)
            event = {
                "kind": "outcome",
                "seq": seq,
                "revision": current["revision"],
                "by": by,
                "at": utc_now(),
                "outcome": outcome.to_dict(),
            }
            self._publish_event(plan_id, event, event_name(seq), event)
        return self.record(plan_id)

    # -- reading ---------------------------------------------------------------------------------
    def record(self, plan_id: int) -> dict:
        """The index row of one plan (status, revision, worst finding...)."""
        return self._current(int(plan_id))

    def list_plans(self, **filters: Any) -> list[dict]:
        """Index rows, newest first; filters: status, site, patient_id, code, limit."""
        return idx.query_plans(self._conn, **filters)

    def revision_path(self, plan_id: int, revision: int | None = None) -> Path:
        rev = revision if revision is not None else self.record(plan_id)["revision"]
        return self.plan_dir(int(plan_id)) / revision_name(rev)

    def load(self, plan_id: int, revision: int | None = None) -> dict:
        """The plan dict of one revision (latest by default), with its ``library`` block."""
        path = self.revision_path(plan_id, revision)
        if not path.is_file():
            raise LibraryError(
                f"plan {plan_id} has no revision file {path.name}; see `needleplan history ID` for its revisions"
            )
        return read_json(path)

    def history(self, plan_id: int) -> list[dict]:
        """Every event of a plan in order: revisions, status changes with comments, outcomes."""
        self._current(int(plan_id))
        rows = self._conn.execute("SELECT payload FROM events WHERE plan_id=? ORDER BY seq", (int(plan_id),)).fetchall()
        import json

        return [json.loads(r[0]) for r in rows]


def _check_same_image(plan_id: int, current: Mapping[str, Any], plan_dict: Mapping[str, Any]) -> None:
    image = plan_dict.get("image") or {}
    for key in ("sop_instance_uid", "frame_index", "pixel_sha256"):
        before, after = current.get(key), image.get(key)
        if before is not None and after is not None and before != after:
            raise ImageBindingError(
                f"this plan is for another image than plan {plan_id} ({key} {after!r}, the plan "
                f"was made on {before!r}); add it as a new plan with `needleplan library add`"
            )
