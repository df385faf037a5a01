"""Options shared by the library subcommands (library, review, history)."""

from __future__ import annotations

import argparse
import getpass
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when opened: listing must start fast
    from needleplan.library import Library

__all__ = ["add_library_option", "open_library", "user_name", "format_table"]


def add_library_option(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    """Add ``--library DIR``; ``nested`` for a sub-action whose parent has it too."""
    parser.add_argument("--library", metavar="DIR",
                        default=argparse.SUPPRESS if nested else None,
                        help="the plan library folder (default: $NEEDLEPLAN_LIBRARY or the user's "
                             "data directory)")


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
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in rows)
    return "\n".join(lines)
