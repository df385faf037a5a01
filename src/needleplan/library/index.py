"""The SQLite index of the plan library: one row per plan, per revision and per event.

The index is derived from the files (revision files and event files are the record); it can be
rebuilt from them at any time.  It exists so that listing and filtering 10,000 plans reads one
small database instead of 10,000 JSON files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from needleplan.errors import LibraryError
from needleplan.vocabulary import Severity

__all__ = ["connect", "SCHEMA_VERSION", "SEVERITY_RANK", "plan_row_values", "query_plans", "PLAN_COLUMNS"]

SCHEMA_VERSION = 1

#: Severity rank stored in the index for "worst finding" (docs/contracts.md §5): block 3 > warn 2 > info 1
#: (0: no finding).
SEVERITY_RANK: dict[str, int] = {s.value: len(Severity) - i for i, s in enumerate(Severity)}

PLAN_COLUMNS = (
    "id",
    "patient_id",
    "site",
    "side",
    "created",
    "author",
    "status",
    "revision",
    "worst_severity",
    "worst_rank",
    "worst_code",
    "finding_codes",
    "sop_instance_uid",
    "frame_index",
    "pixel_sha256",
    "image_path",
    "reviewer",
    "updated",
    "outcome_poor",
    "outcome_summary",
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plans (
    id INTEGER PRIMARY KEY,
    patient_id TEXT, site TEXT, side TEXT, created TEXT, author TEXT,
    status TEXT NOT NULL, revision INTEGER NOT NULL,
    worst_severity TEXT, worst_rank INTEGER NOT NULL DEFAULT 0, worst_code TEXT,
    finding_codes TEXT NOT NULL DEFAULT '',
    sop_instance_uid TEXT, frame_index INTEGER, pixel_sha256 TEXT, image_path TEXT,
    reviewer TEXT, updated TEXT,
    outcome_poor INTEGER, outcome_summary TEXT
);
CREATE INDEX IF NOT EXISTS plans_status ON plans(status, created);
CREATE INDEX IF NOT EXISTS plans_site ON plans(site, created);
CREATE INDEX IF NOT EXISTS plans_created ON plans(created);
CREATE INDEX IF NOT EXISTS plans_patient_site ON plans(patient_id, site);
CREATE TABLE IF NOT EXISTS events (
    plan_id INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL,
    revision INTEGER NOT NULL, at TEXT, by TEXT, file TEXT NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (plan_id, seq)
);
CREATE TABLE IF NOT EXISTS findings (
    plan_id INTEGER NOT NULL, revision INTEGER NOT NULL, code TEXT NOT NULL, severity TEXT,
    PRIMARY KEY (plan_id, revision, code)
);
CREATE INDEX IF NOT EXISTS findings_code ON findings(code);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}');
"""


def connect(db_path: Path, *, create: bool) -> sqlite3.Connection:
    """Open the index; create its tables when ``create`` is true.

    Raises
    ------
    LibraryError
        The database cannot be opened (a folder in its place, no permission, read-only disk)
        or is not a needleplan index.
    """
    try:
        if create:
            conn = sqlite3.connect(db_path, timeout=30.0, isolation_level=None)
        else:
            # mode=rw: never creates the file; SQLite falls back to read-only on a read-only disk
            conn = sqlite3.connect(f"file:{db_path}?mode=rw", uri=True, timeout=30.0, isolation_level=None)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=OFF")
        if create:
            conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise LibraryError(
            f"cannot open the library index {db_path}: {exc}; "
            "check the folder is writable or choose another with --library DIR"
        ) from exc
    if row is None or int(row[0]) > SCHEMA_VERSION:
        conn.close()
        raise LibraryError(
            f"{db_path} is not a needleplan library index of version {SCHEMA_VERSION} or older; upgrade needleplan"
        )
    return conn


def plan_row_values(row: Mapping[str, Any]) -> tuple:
    """Order a plan row mapping as :data:`PLAN_COLUMNS` for an INSERT."""
    return tuple(row.get(name) for name in PLAN_COLUMNS)


def upsert_plan(conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
    """Insert or replace the summary row of one plan."""
    placeholders = ",".join("?" for _ in PLAN_COLUMNS)
    conn.execute(
        f"INSERT OR REPLACE INTO plans({','.join(PLAN_COLUMNS)}) VALUES ({placeholders})", plan_row_values(row)
    )


def insert_event(conn: sqlite3.Connection, plan_id: int, event: Mapping[str, Any], file: str) -> None:
    """Record one event (revision, status change, outcome) in the index."""
    conn.execute(
        "INSERT OR REPLACE INTO events(plan_id, seq, kind, revision, at, by, file, payload) VALUES (?,?,?,?,?,?,?,?)",
        (
            plan_id,
            event["seq"],
            event["kind"],
            event["revision"],
            event.get("at"),
            event.get("by"),
            file,
            json.dumps(event, sort_keys=True),
        ),
    )


def replace_findings(
    conn: sqlite3.Connection, plan_id: int, revision: int, findings: Iterable[Mapping[str, Any]]
) -> None:
    """Store the finding codes of one revision (for queries by code)."""
    conn.execute("DELETE FROM findings WHERE plan_id=? AND revision=?", (plan_id, revision))
    conn.executemany(
        "INSERT OR REPLACE INTO findings(plan_id, revision, code, severity) VALUES (?,?,?,?)",
        [(plan_id, revision, str(f.get("code")), f.get("severity")) for f in findings],
    )


def query_plans(
    conn: sqlite3.Connection,
    *,
    status: str | None = None,
    site: str | None = None,
    patient_id: str | None = None,
    code: str | None = None,
    limit: int | None = None,
    columns: tuple[str, ...] = PLAN_COLUMNS,
) -> list[dict]:
    """Plans matching the filters, newest first, as dicts of ``columns`` (all by default)."""
    unknown = set(columns) - set(PLAN_COLUMNS)
    if unknown:
        raise LibraryError(f"unknown index columns {sorted(unknown)}")
    where, params = [], []
    if status:
        where.append("status = ?")
        params.append(status)
    if site:
        where.append("site = ?")
        params.append(site)
    if patient_id:
        where.append("patient_id = ?")
        params.append(patient_id)
    if code:
        where.append("(' ' || finding_codes || ' ') LIKE ?")
        params.append(f"% {code} %")
    sql = f"SELECT {','.join(columns)} FROM plans"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created DESC, id DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    try:
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.DatabaseError as exc:
        raise LibraryError(f"the library index cannot be read: {exc}") from exc
    return [dict(zip(columns, r, strict=True)) for r in rows]
