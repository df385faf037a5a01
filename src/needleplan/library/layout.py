"""Where the library lives on disk and how its files are named.

::

    LIBRARY/
      index.sqlite                 the index (derived; rebuilt from the files if lost)
      journal/<uuid>.json          one marker per write in progress (removed when it is indexed)
      plans/000017/
        r0001.plan.json            revision 1: a plan file (docs/contracts.md §4) + a "library" block
        r0002.plan.json            revision 2 (revision 1 is never touched again)
        e000003.json               event 3: a status change or an outcome

Revision and event files are written once and never overwritten (see ``_files.publish_json``).

>>> revision_name(3), event_name(12)
('r0003.plan.json', 'e000012.json')
>>> parse_name('r0003.plan.json'), parse_name('e000012.json'), parse_name('x.json')
(('revision', 3), ('event', 12), None)
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from needleplan.errors import LibraryError

__all__ = [
    "default_library_dir",
    "revision_name",
    "event_name",
    "parse_name",
    "plan_dir_name",
    "INDEX_NAME",
    "PLANS_DIR",
    "JOURNAL_DIR",
    "LIBRARY_ENV",
]

INDEX_NAME = "index.sqlite"
PLANS_DIR = "plans"
JOURNAL_DIR = "journal"
#: Environment variable naming the library folder (``--library DIR`` wins over it).
LIBRARY_ENV = "NEEDLEPLAN_LIBRARY"

_REVISION = re.compile(r"^r(\d{4,})\.plan\.json$")
_EVENT = re.compile(r"^e(\d{6,})\.json$")


def default_library_dir() -> Path:
    """The library folder: ``$NEEDLEPLAN_LIBRARY``, else the user's data directory.

    The data directory comes from platformdirs when installed, else ``$XDG_DATA_HOME`` or
    ``~/.local/share`` (the XDG default).
    """
    env = os.environ.get(LIBRARY_ENV)
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        return base / "needleplan" / "library"
    return Path(platformdirs.user_data_dir("needleplan", appauthor=False)) / "library"


def revision_name(revision: int) -> str:
    return f"r{revision:04d}.plan.json"


def event_name(seq: int) -> str:
    return f"e{seq:06d}.json"


def plan_dir_name(plan_id: int) -> str:
    return f"{plan_id:06d}"


def parse_name(name: str) -> tuple[str, int] | None:
    """``("revision", n)`` or ``("event", seq)`` for a library file name, else None."""
    m = _REVISION.match(name)
    if m:
        return "revision", int(m.group(1))
    m = _EVENT.match(name)
    if m:
        return "event", int(m.group(1))
    return None


def ensure_dirs(root: Path) -> None:
    """Create the library folders; :class:`LibraryError` if the place cannot hold a folder."""
    for path in (root, root / PLANS_DIR, root / JOURNAL_DIR):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (NotADirectoryError, FileExistsError) as exc:
            raise LibraryError(
                f"cannot create the library folder {path}: a file is in the way "
                f"({exc.filename}); choose another folder with --library DIR"
            ) from exc
        except OSError as exc:
            raise LibraryError(
                f"cannot create the library folder {path}: "
                f"{exc.strerror or exc}; choose a writable folder with "
                "--library DIR"
            ) from exc
