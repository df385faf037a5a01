"""Helpers shared by the subcommands: JSON output and plain-text tables."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

__all__ = ["print_json", "jsonable"]


def jsonable(value: Any) -> Any:
    """Convert numpy scalars, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(obj: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract of docs/contracts.md §6)."""
    json.dump(jsonable(obj), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
