"""Options shared by the library subcommands (library, review, history)."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when opened: listing must start fast
    from needleplan.archive import ArchiveLibrary
    from needleplan.library import Library

__all__ = ["add_library_option", "open_library", "user_name", "format_table"]


def add_library_option(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """Add ``--library DIR``; ``nested`` for a sub-action whose parent has it too."""
    parser.add_argument(
        "--library",
        metavar="DIR",
        default=argparse.SUPPRESS if nested else None,
        help="the plan library folder (default: $NEEDLEPLAN_LIBRARY or the user's data directory)",
    )


def open_library(args: argparse.Namespace, *, create: bool = False) -> Library:
    """Open the library named by ``--library`` (imported lazily: listing must start fast)."""
    from needleplan.library import Library

    return Library(args.library, create=create)


def user_name(explicit: str | None) -> str:
    """The name recorded as author or reviewer: explicit, $NEEDLEPLAN_USER, else the login."""
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ.get("NEEDLEPLAN_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain-text table with columns padded to their widest cell.

    >>> print(format_table(["id", "site"], [["1", "rhomboid"]]))
    id  site
    --  --------
    1   rhomboid
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in rows)
    return "\n".join(lines)


def add_archive_option(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """Add ``--archive URL``: act on the department archive instead of the local library."""
    parser.add_argument(
        "--archive",
        metavar="URL",
        nargs="?",
        const="",
        default=argparse.SUPPRESS if nested else None,
        help="the department archive's DICOMweb root (bare --archive: the configured "
        "NEEDLEPLAN_PACS_URL); who you are comes from the DICOMweb credentials",
    )


def archive_mode(args: argparse.Namespace) -> bool:
    """Whether the command acts on the archive (``--archive`` given)."""
    return getattr(args, "archive", None) is not None


def refuse_by_in_archive(args: argparse.Namespace, *names: str) -> None:
    """``--by``/``--reviewer`` names nobody on the archive: the credentials do."""
    from needleplan.errors import LibraryError

    for name in names:
        if getattr(args, name, None):
            raise LibraryError(
                "--by is refused with --archive: the archive records the user of the DICOMweb "
                "credentials (NEEDLEPLAN_PACS_USER or the settings file)"
            )


def open_archive(args: argparse.Namespace) -> ArchiveLibrary:
    """The :class:`~needleplan.archive.ArchiveLibrary` of ``--archive`` (URL and credentials from settings)."""
    from needleplan import pacs
    from needleplan.archive import ArchiveLibrary
    from needleplan.archive.queue_cache import QueueCache, default_queue_cache_path

    settings = pacs.load_settings()
    client = pacs.connect(settings, url=args.archive or None)
    return ArchiveLibrary(
        client,
        reviewers=settings.reviewers,
        organization=settings.organization or "needleplan department",
        cache=QueueCache(default_queue_cache_path()),
    )


def local_plan_id(value: str) -> int:
    """A local library plan id (a number); an archive plan id without --archive is refused."""
    from needleplan.errors import LibraryError

    try:
        return int(value)
    except ValueError:
        raise LibraryError(
            f"{value!r} is not a local library plan id (a number); for a plan on the "
            "department archive add --archive URL"
        ) from None
