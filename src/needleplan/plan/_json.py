"""Plain JSON values from plan values: numpy scalars and arrays, tuples, non-finite floats.

The plan file and every ``--json`` output of the command line use this one conversion.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """Convert numpy scalars, tuples and non-finite floats into plain JSON values.

    >>> import numpy as np
    >>> jsonable({"depth_mm": np.float64(12.5), "box": (1, 2), "reach_mm": float("inf")})
    {'depth_mm': 12.5, 'box': [1, 2], 'reach_mm': None}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
