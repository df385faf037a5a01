"""Plan files: read and validate, write atomically (temp file, fsync, rename, fsync of the folder)."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from needleplan.clinical.plausible_ranges import MAX_PLAN_FILE_BYTES
from needleplan.errors import PlanFormatError
from needleplan.plan._json import jsonable
from needleplan.plan._model import Plan
from needleplan.plan._serialize import plan_to_dict, with_report
from needleplan.plan._validate import plan_from_dict


def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and validate a plan file.  Bad JSON or fields raise :class:`PlanFormatError`."""
    path = Path(path)
    size = path.stat().st_size if path.is_file() else 0
    if size > MAX_PLAN_FILE_BYTES:
        raise PlanFormatError(
            f"{path}: {size / 1e6:.1f} MB, larger than any plan (at most "
            f"{MAX_PLAN_FILE_BYTES / 1e6:.1f} MB); is it a plan file?"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanFormatError(f"{path}: not a UTF-8 text file; a plan is a JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise PlanFormatError(
            f"{path}: arrays and objects nested thousands deep; a needleplan plan nests 5 deep at most"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise PlanFormatError(f"{path}: not a plan's JSON ({str(exc).splitlines()[0][:80]})") from None
    try:
        return plan_from_dict(data)
    except PlanFormatError as exc:
        raise PlanFormatError(f"{path}: {exc}") from None


def save_plan(plan: Plan, path: str | os.PathLike[str], *, report: Any = None) -> None:
    """Write a plan atomically; with ``report`` its findings and metrics are written too.

    A temporary file in the same folder is written, flushed and fsynced, then renamed over ``path``,
    and the folder is fsynced, so readers see either the old plan or the new one, never half.
    """
    if report is not None:
        plan = with_report(plan, report)
    path = Path(path)
    text = json.dumps(jsonable(plan_to_dict(plan)), indent=2, ensure_ascii=False) + "\n"
    folder = path.parent if str(path.parent) else Path(".")
    # Name the user's path, not the temporary file, when the destination cannot be written.
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"folder {folder} does not exist; create it first", str(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
