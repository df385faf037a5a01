"""A local cache of queue rows, one per archive SR instance, keyed by SOP Instance UID.

Sound because an instance never changes: a step of a plan chain is stored once under a UID
derived from (plan id, step) and is never overwritten (:mod:`needleplan.archive.revision`), so the
row read from it once is its row forever.  Listing the queue then needs the archive's index
(one request) plus the rows of steps this machine has not seen yet.

The cache is an SQLite file in the user's cache folder (a local disk, never a share); a damaged
or unwritable cache is skipped, never an error: it only makes listing slower.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["QueueCache", "default_queue_cache_path"]


def default_queue_cache_path() -> Path:
    """``$XDG_CACHE_HOME/needleplan/archive-queue.sqlite`` (default ``~/.cache/...``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "needleplan" / "archive-queue.sqlite"


class QueueCache:
    """Rows by (archive, SOP Instance UID); ``path=None`` keeps nothing (every row is fetched)."""

    def __init__(self, path: str | os.PathLike | None):
        self._conn = None
        if path is None:
            return
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), timeout=5.0)
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS rows (archive TEXT, uid TEXT, row TEXT, PRIMARY KEY (archive, uid))"
            )
        except (OSError, sqlite3.Error):
            self._conn = None

    def get_many(self, archive: str, uids: Iterable[str]) -> dict[str, dict]:
        """The cached rows of ``uids`` (missing ones are left out)."""
        if self._conn is None:
            return {}
        wanted = list(uids)
        out: dict[str, dict] = {}
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for uid, row in self._conn.execute(
                    f"SELECT uid, row FROM rows WHERE archive=? AND uid IN ({marks})", [archive, *chunk]
                ):
                    out[uid] = json.loads(row)
        except (sqlite3.Error, ValueError):
            return out
        return out

    def put_many(self, archive: str, rows: Mapping[str, Mapping]) -> None:
        """Remember ``rows`` (uid -> row)."""
        if self._conn is None or not rows:
            return
        try:
            with self._conn:
                self._conn.executemany(
                    "INSERT OR REPLACE INTO rows VALUES (?, ?, ?)",
                    [(archive, uid, json.dumps(row, sort_keys=True)) for uid, row in rows.items()],
                )
        except sqlite3.Error:
            pass

    def close(self) -> None:
        """Close the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
