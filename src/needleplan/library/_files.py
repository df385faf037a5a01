"""Durable file writes for the plan library: publish a file once, never overwrite it.

A revision or an event is written to a temporary file in the destination folder, flushed to disk
(``fsync``), then *linked* to its final name.  ``os.link`` fails when the final name exists, so
two writers racing for the same revision number cannot both win (the loser gets
:class:`FileExistsError`), and a process killed at any point leaves either no final file or a
complete one, never a half-written one.  Leftover temporary files are removed by recovery.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path
from typing import Any

from needleplan.errors import LibraryError

__all__ = ["publish_json", "read_json", "fsync_dir", "TMP_SUFFIX", "remove_leftover_tmp"]

TMP_SUFFIX = ".tmp"


def fsync_dir(path: Path) -> None:
    """Flush a folder's entry table so a rename or link inside it survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` atomically and durably; refuse to overwrite.

    Raises
    ------
    FileExistsError
        ``path`` already exists (someone else published it first).
    LibraryError
        The folder cannot be written (read-only disk, missing folder, disk full).
    """
    data = (json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        finally:
            os.unlink(tmp)
        fsync_dir(path.parent)
    except FileExistsError:
        raise
    except OSError as exc:
        raise _write_error(path, exc) from exc


def _write_error(path: Path, exc: OSError) -> LibraryError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the library folder is read-only; choose a writable one with --library DIR"
    elif exc.errno == errno.ENOSPC:
        hint = "the disk is full; free space and save again"
    else:
        hint = "check the library folder (--library DIR)"
    return LibraryError(f"cannot write {path}: {reason}; {hint}; nothing was changed")


def read_json(path: Path) -> dict:
    """Read a JSON object from a library file; :class:`LibraryError` names the file if it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LibraryError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LibraryError(
            f"library file {path} is damaged (not valid JSON: {exc}); restore it from a backup or remove it"
        ) from exc
    if not isinstance(obj, dict):
        raise LibraryError(f"library file {path} is damaged (expected a JSON object)")
    return obj


def remove_leftover_tmp(folder: Path) -> int:
    """Delete temporary files left by a writer that was killed; return how many were removed."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if name.startswith(".") and name.endswith(TMP_SUFFIX):
            try:
                os.unlink(folder / name)
                removed += 1
            except OSError:
                pass
    return removed
