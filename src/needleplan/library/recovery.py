"""Keep the index and the files in agreement: indexing, recovery after a crash, verification.

The files are the record.  A save killed after its file was published but before the index was
committed leaves a journal marker; the next writable open re-indexes that plan from its files, while
it holds the index's write lock (every writer writes only while it holds that lock, so a live
writer's in-flight files are never touched).  A
damaged or missing index is rebuilt from all the files (the damaged one is kept beside it).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needleplan.errors import LibraryError
from needleplan.library import index as idx
from needleplan.library._files import read_json, remove_leftover_tmp
from needleplan.library.layout import INDEX_NAME, JOURNAL_DIR, PLANS_DIR, parse_name
from needleplan.library.records import LIBRARY_KEY, library_block, plan_summary, summarize_events

if TYPE_CHECKING:
    from needleplan.library.store import Library

__all__ = [
    "open_index",
    "recover_journal",
    "journal_markers",
    "reindex_plans",
    "rebuild",
    "verify",
    "plan_dict",
    "revision_event",
    "index_event",
]


def plan_dict(plan: Any) -> dict:
    """A validated plan dict from a :class:`~needleplan.plan.Plan` or a plan dict.

    The plan goes through the plan model (``plan_from_dict``), so a malformed plan raises
    :class:`~needleplan.errors.PlanFormatError` naming the field, before anything is written.
    A ``library`` block (from a plan exported out of a library) is dropped.
    """
    from needleplan.plan import plan_from_dict, plan_to_dict

    if isinstance(plan, Mapping):
        plan = plan_from_dict({k: v for k, v in plan.items() if k != LIBRARY_KEY})
    out = plan_to_dict(plan)
    out.pop(LIBRARY_KEY, None)
    if not out.get("findings"):
        from needleplan.safety import check_plan

        report = check_plan(plan).to_dict()
        out["findings"] = list(report.get("findings", ()))
        out["metrics"] = dict(report.get("metrics", {}))
    return out


def revision_event(body: Mapping[str, Any]) -> dict:
    """The index event of a revision file."""
    block = library_block(body)
    return {
        "kind": "revision",
        "seq": int(block["seq"]),
        "revision": int(block["revision"]),
        "parent_revision": block.get("parent_revision"),
        "by": block.get("saved_by"),
        "at": block.get("saved_at"),
        "summary": plan_summary(body),
    }


def index_event(lib: Library, plan_id: int, event: Mapping[str, Any], file: str) -> None:
    """Add one event to the index and refresh the plan's row (inside the caller's transaction)."""
    idx.insert_event(lib.conn, plan_id, event, file)
    if event["kind"] == "revision":
        idx.replace_findings(lib.conn, plan_id, event["revision"], event["summary"]["findings"])
    _refresh_row(lib, plan_id)


def _refresh_row(lib: Library, plan_id: int) -> None:
    rows = lib.conn.execute("SELECT payload FROM events WHERE plan_id=?", (plan_id,)).fetchall()
    events = [json.loads(r[0]) for r in rows]
    if not any(e["kind"] == "revision" for e in events):
        lib.conn.execute("DELETE FROM plans WHERE id=?", (plan_id,))
        return
    idx.upsert_plan(lib.conn, summarize_events(plan_id, events))


def library_uid(root: Path, *, create: bool) -> str | None:
    """The library's identity (``library.json``), so a plan exported from one library is never
    saved over a plan of another that happens to have the same id."""
    import uuid

    from needleplan.library._files import publish_json

    path = root / "library.json"
    if not path.exists() and create:
        try:
            publish_json(path, {"format": "needleplan.library", "uid": uuid.uuid4().hex})
        except FileExistsError:
            pass  # created by another process at the same moment
    try:
        return str(read_json(path)["uid"])
    except (LibraryError, KeyError):
        return None


def _is_damaged_db(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def open_index(root: Path, *, create: bool) -> tuple[sqlite3.Connection, Path | None]:
    """Open (or create) the index; a damaged index is moved aside and rebuilt from the files.

    Returns the connection and, when a rebuild happened, where the damaged index was kept.
    """
    db_path = root / INDEX_NAME
    fresh = not db_path.exists()
    try:
        conn = idx.connect(db_path, create=create)
    except LibraryError as exc:
        if not _is_damaged_db(exc.__cause__ or exc):
            raise
        if not create:  # listing does not rewrite the library; say how to rebuild it
            raise LibraryError(
                f"the library index {db_path} is damaged; rebuild it from the plan files with "
                "`needleplan library verify --repair`"
            ) from exc
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        kept = db_path.with_name(f"{INDEX_NAME}.damaged-{stamp}")
        os.replace(db_path, kept)
        conn = idx.connect(db_path, create=True)
        _rebuild_into(conn, root)
        return conn, kept
    if fresh and create and any((root / PLANS_DIR).iterdir()):
        _rebuild_into(conn, root)  # index deleted by hand: the files are still there
    return conn, None


@dataclass(frozen=True)
class _IndexFiles:
    """The few attributes re-indexing needs, before a Library exists."""

    conn: sqlite3.Connection
    root: Path

    def plan_dir(self, plan_id: int) -> Path:
        return self.root / PLANS_DIR / f"{plan_id:06d}"


def _rebuild_into(conn: sqlite3.Connection, root: Path) -> None:
    shim = _IndexFiles(conn, root)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for pid in _plan_ids_on_disk(root):
            _reindex_one(shim, pid)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _plan_ids_on_disk(root: Path) -> list[int]:
    return sorted(int(n) for n in os.listdir(root / PLANS_DIR) if n.isdigit())


def journal_markers(root: Path) -> list[Path]:
    """The journal markers present now (read-only: lists the folder, changes nothing)."""
    journal = root / JOURNAL_DIR
    try:
        return [journal / n for n in os.listdir(journal) if n.endswith(".json")]
    except OSError:
        return []


def recover_journal(lib: Library, *, in_transaction: bool = False) -> list[int]:
    """Re-index the plans named by journal markers left by interrupted writes.

    Recovery only runs under the index's write lock (``BEGIN IMMEDIATE``): every writer publishes
    its marker and its files while it holds that lock, so whatever is found in the journal (a
    marker, a temporary file) while we hold it belongs to a writer that is gone (killed, or
    finished and about to remove its marker).  A live writer's in-flight file is never touched.
    Without ``in_transaction`` the lock is taken here, and only when there is something to
    recover, so an open of a clean library writes nothing.
    """
    journal = lib.root / JOURNAL_DIR
    if not in_transaction:
        try:
            if not os.listdir(journal):
                return []
        except OSError:
            return []
        lib.conn.execute("BEGIN IMMEDIATE")
        try:
            recovered = recover_journal(lib, in_transaction=True)
            lib.conn.execute("COMMIT")
        except BaseException:
            if lib.conn.in_transaction:
                lib.conn.execute("ROLLBACK")
            raise
        return recovered
    markers = journal_markers(lib.root)
    remove_leftover_tmp(journal)  # under the lock: a dead writer's half-written marker
    if not markers:
        return []
    plan_ids: set[int] = set()
    full = False
    for marker in markers:
        try:
            plan_ids.add(int(read_json(marker)["plan_id"]))
        except (LibraryError, KeyError, TypeError, ValueError):
            full = True  # a marker cut short: check every plan
    if full:
        plan_ids = set(_plan_ids_on_disk(lib.root))
    reindex_plans(lib, sorted(plan_ids), in_transaction=True)
    for marker in markers:
        marker.unlink(missing_ok=True)
    return sorted(plan_ids)


def reindex_plans(lib: Library, plan_ids: Iterable[int], *, in_transaction: bool = False) -> None:
    """Rebuild the index rows of these plans from their files."""
    if not in_transaction:
        lib.conn.execute("BEGIN IMMEDIATE")
    try:
        for pid in plan_ids:
            _reindex_one(lib, pid)
        if not in_transaction:
            lib.conn.execute("COMMIT")
    except BaseException:
        if not in_transaction:
            lib.conn.execute("ROLLBACK")
        raise


def _read_plan_files(folder: Path) -> tuple[list[tuple[dict, str]], list[str]]:
    events, problems = [], []
    for name in sorted(os.listdir(folder)):
        kind = parse_name(name)
        if kind is None:
            continue
        try:
            body = read_json(folder / name)
            event = revision_event(body) if kind[0] == "revision" else body
            int(event["seq"]), event["kind"]
        except (LibraryError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"{folder / name}: {exc}")
            continue
        events.append((event, name))
    return events, problems


def _reindex_one(lib: Any, plan_id: int) -> list[str]:
    folder = lib.plan_dir(plan_id)
    lib.conn.execute("DELETE FROM events WHERE plan_id=?", (plan_id,))
    lib.conn.execute("DELETE FROM findings WHERE plan_id=?", (plan_id,))
    if not folder.is_dir():
        lib.conn.execute("DELETE FROM plans WHERE id=?", (plan_id,))
        return []
    remove_leftover_tmp(folder)
    events, problems = _read_plan_files(folder)
    for event, name in events:
        idx.insert_event(lib.conn, plan_id, event, name)
        if event["kind"] == "revision":
            idx.replace_findings(lib.conn, plan_id, event["revision"], event["summary"]["findings"])
    _refresh_row(lib, plan_id)
    if not events:
        try:
            folder.rmdir()  # an add killed before its first revision: an empty folder
        except OSError:
            pass
    return problems


def rebuild(lib: Library) -> None:
    """Re-index every plan from its files."""
    reindex_plans(lib, _plan_ids_on_disk(lib.root))


def _writer_gone(marker: Path) -> bool:
    """True unless the marker names a process that is still running (it is finishing its save)."""
    try:
        pid = int(read_json(marker)["pid"])
    except (LibraryError, KeyError, TypeError, ValueError):
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, but another user's
        return False
    return False


def verify(lib: Library) -> list[str]:
    """Problems where the index and the files disagree (empty list: consistent). Changes nothing.

    The check holds the write lock while it reads (when the index is writable), so a save in
    progress in another process is seen either before or after, never half done.  A dead writer's
    journal marker is reported: its plan is re-indexed on the next writable open.
    """
    locked = False
    if not lib.conn.in_transaction:
        try:
            lib.conn.execute("BEGIN IMMEDIATE")  # takes the lock only; nothing is written
            locked = True
        except sqlite3.Error:  # a read-only index: check without the lock
            pass
    try:
        problems = [
            f"interrupted save waiting for recovery ({m.name}); any save, or "
            "`needleplan library verify --repair`, re-indexes its plan"
            for m in sorted(journal_markers(lib.root))
            if _writer_gone(m)
        ]
        return problems + _verify_files(lib)
    finally:
        if locked:
            lib.conn.execute("ROLLBACK")


def _verify_files(lib: Library) -> list[str]:
    problems: list[str] = []
    indexed: dict[int, dict[int, str]] = {}  # plan id -> event seq -> file
    for pid, seq, file in lib.conn.execute("SELECT plan_id, seq, file FROM events"):
        indexed.setdefault(pid, {})[seq] = file
    on_disk = _plan_ids_on_disk(lib.root)
    for pid in sorted(set(on_disk) | set(indexed)):
        folder = lib.plan_dir(pid)
        events, bad = _read_plan_files(folder) if folder.is_dir() else ([], [])
        problems.extend(bad)
        files = {e["seq"]: name for e, name in events}
        for seq, name in indexed.get(pid, {}).items():
            if files.get(seq) != name:
                problems.append(f"plan {pid}: {name} is in the index but not on disk")
        for seq, name in files.items():
            if indexed.get(pid, {}).get(seq) != name:
                problems.append(f"plan {pid}: {name} is on disk but not in the index")
        leftovers = [n for n in os.listdir(folder) if n.endswith(".tmp")] if folder.is_dir() else []
        if leftovers:
            problems.append(f"plan {pid}: leftover temporary files {leftovers}")
    return problems
