"""What a plan file may hold at all: nesting, counts and number ranges (the table is
:mod:`needleplan.clinical.plausible_ranges`).  Used by :mod:`needleplan.plan._validate` and
:func:`needleplan.plan.load_plan`; every refusal is a one-line :class:`PlanFormatError`.

Examples
--------
>>> nesting_depth([[[1]]], 16), nesting_depth({"a": [{"b": 1}]}, 16)
(3, 3)
>>> check_nesting([[[[1]]]], limit=2)  # doctest: +ELLIPSIS
Traceback (most recent call last):
needleplan.errors.PlanFormatError: plan: arrays and objects nested more than 2 deep; a needleplan plan nests ...
>>> try:
...     finite_in_range(10**400, "needle.length_mm", "needle.length_mm")
... except PlanFormatError as exc:
...     expected, got = str(exc).split(", got ")
>>> expected
'needle.length_mm: expected a finite number from 5 to 300 mm'
>>> got == "1" + "0" * 56 + "..."  # the 401-digit number cut to 60 characters, never printed whole
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from needleplan.clinical.plausible_ranges import (
    MAX_NESTING,
    MAX_POINTS_PER_STRUCTURE,
    MAX_STRUCTURES,
    MAX_TOTAL_POINTS,
    PLAN_RANGES,
)
from needleplan.errors import PlanFormatError

__all__ = ["nesting_depth", "check_nesting", "check_counts", "finite_in_range", "short_repr"]


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr`` cut to ``limit`` characters (a huge integer is never turned into 400 digits first)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return ("-" if value < 0 else "") + "1" + "0" * (limit - 4) + "..."
    if isinstance(value, (list, tuple, dict)) and len(value) > limit:
        return f"{type(value).__name__} of {len(value):,} items"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def nesting_depth(obj: Any, limit: int) -> int:
    """Depth of nested lists/dicts in ``obj`` (a scalar is 0), counted without recursion.

    Stops as soon as the depth passes ``limit`` and returns ``limit + 1``.
    """
    deepest = 0
    stack = [(obj, 0)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest


def check_nesting(obj: Any, *, limit: int = MAX_NESTING) -> None:
    """Refuse arrays and objects nested deeper than ``limit`` (the format itself nests 5 deep)."""
    if nesting_depth(obj, limit) > limit:
        raise PlanFormatError(
            f"plan: arrays and objects nested more than {limit} deep; a needleplan plan nests 5 deep at most"
        )


def check_counts(structures: list) -> None:
    """Refuse more structures, or more points, than a person draws (numbers in the message)."""
    if len(structures) > MAX_STRUCTURES:
        raise PlanFormatError(
            f"structures: {len(structures):,} structures, more than a plan marks "
            f"(at most {MAX_STRUCTURES:,}); remove the ones the plan does not need"
        )
    total = 0
    for i, s in enumerate(structures):
        points = s.get("points_mm") if isinstance(s, dict) else None
        if not isinstance(points, list):
            continue  # the structure's own validation names it
        if len(points) > MAX_POINTS_PER_STRUCTURE:
            raise PlanFormatError(
                f"structures[{i}].points_mm: {len(points):,} points, more than a person draws (at most "
                f"{MAX_POINTS_PER_STRUCTURE:,} per structure); simplify the outline "
                "(needleplan.geometry.simplify_polyline) or mark it again"
            )
        total += len(points)
    if total > MAX_TOTAL_POINTS:
        raise PlanFormatError(
            f"structures: {total:,} points in all, more than a plan needs (at most "
            f"{MAX_TOTAL_POINTS:,}); simplify the traced outlines"
        )


def finite_in_range(value: Any, where: str, range_key: str, *, integer: bool = False) -> float:
    """``value`` as a float, refused unless it is a finite number inside ``PLAN_RANGES[range_key]``.

    Integers are compared before conversion, so ``10**400`` is refused, not an OverflowError.
    With ``integer`` only a whole number (a JSON integer) is accepted.
    """
    rng = PLAN_RANGES[range_key]
    expected = f"an integer from {rng.describe(integer=True)}" if integer else f"a finite number from {rng.describe()}"
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise PlanFormatError(f"{where}: expected {expected}, got {short_repr(value)}")
    if isinstance(value, int) and not rng.low <= value <= rng.high:
        raise PlanFormatError(f"{where}: expected {expected}, got {short_repr(value)}")
    number = float(value)
    if not math.isfinite(number) or not rng.contains(number):
        raise PlanFormatError(f"{where}: expected {expected}, got {short_repr(value)}")
    return number
