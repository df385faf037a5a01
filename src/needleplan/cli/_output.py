"""Helpers shared by the subcommands: JSON output and plain-text tables."""

from __future__ import annotations

import json
import sys
from typing import Any

from needleplan.plan import jsonable

__all__ = ["print_json"]


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract of docs/contracts.md §6)."""
    json.dump(jsonable(obj), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
