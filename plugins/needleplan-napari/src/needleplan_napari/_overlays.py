"""Drawings of the planner's results, in world millimetres ``(row, col)``.

These are pictures of numbers the core computed (the deepest safe insertion, the overshoot, the
margins, the safe angle window); nothing here decides anything clinical.  Each function returns
:class:`Drawing` values that the session writes into its overlay layers through
``_layers.to_layer_data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from needleplan.viewing import margin_zone_outline_mm

__all__ = ["Drawing", "tick", "dashed", "margin_band", "angle_rays", "line", "along"]


@dataclass(frozen=True, slots=True)
class Drawing:
    """One napari shape: world vertices ``(N, 2)`` mm, shape type, colours, edge width in mm."""

    points_mm: np.ndarray
    shape_type: str
    edge_color: str
    face_color: str = "transparent"
    edge_width_mm: float = 0.3


def _unit(entry_mm: Sequence[float], tip_mm: Sequence[float]) -> tuple[np.ndarray, float]:
    d = np.asarray(tip_mm, float) - np.asarray(entry_mm, float)
    n = float(np.hypot(*d))
    return (d / n if n > 0 else np.zeros(2)), n


def along(entry_mm: Sequence[float], tip_mm: Sequence[float], beyond_tip_mm: float) -> np.ndarray:
    """The point ``beyond_tip_mm`` past the tip on the straight extension of the needle.

    Examples
    --------
    >>> along((0, 0), (3, 4), 5.0).tolist()   # unit (0.6, 0.8); tip + 5 * unit
    [6.0, 8.0]
    """
    u, _ = _unit(entry_mm, tip_mm)
    return np.asarray(tip_mm, float) + u * beyond_tip_mm


def line(entry_mm: Sequence[float], tip_mm: Sequence[float], color: str, width_mm: float = 0.3) -> Drawing:
    """A straight segment."""
    return Drawing(np.asarray([entry_mm, tip_mm], float), "line", color, edge_width_mm=width_mm)


def tick(
    entry_mm: Sequence[float], tip_mm: Sequence[float], beyond_tip_mm: float, color: str, half_length_mm: float = 2.0
) -> Drawing | None:
    """A short bar across the needle ``beyond_tip_mm`` past the tip (negative: short of it).

    The planner measures the deepest safe insertion from where the needle crosses the skin, which
    may differ from the drawn entry point; its ``remaining_mm`` (deepest safe insertion minus the
    path to the tip) places the bar without depending on where the entry was drawn.

    Examples
    --------
    A needle straight down from (0, 0) to a tip 20 mm deep; 10 mm short of the tip lies across
    row 10, cols -2..2:

    >>> tick((0, 0), (20, 0), -10.0, "g").points_mm.tolist()
    [[10.0, 2.0], [10.0, -2.0]]
    """
    u, n = _unit(entry_mm, tip_mm)
    if n == 0 or not np.isfinite(beyond_tip_mm):
        return None
    centre = np.asarray(tip_mm, float) + u * beyond_tip_mm
    normal = np.array([-u[1], u[0]])
    pts = np.array([centre + normal * half_length_mm, centre - normal * half_length_mm]) + 0.0
    return Drawing(pts, "line", color, edge_width_mm=0.5)


def dashed(start_mm: Sequence[float], end_mm: Sequence[float], color: str, n: int = 8) -> list[Drawing]:
    """A dashed segment from ``start_mm`` to ``end_mm``: ``n`` dashes, each 60 % of its period.

    A fixed number of dashes keeps the overlay's shape count constant while the needle is dragged,
    so napari only moves vertices.

    Examples
    --------
    10 mm in 2 dashes: period 10 / (2 - 0.4) = 6.25 mm, dash 3.75 mm.

    >>> [d.points_mm.tolist() for d in dashed((0, 0), (0, 10), "r", 2)]
    [[[0.0, 0.0], [0.0, 3.75]], [[0.0, 6.25], [0.0, 10.0]]]
    """
    u, length = _unit(start_mm, end_mm)
    start = np.asarray(start_mm, float)
    period = length / (n - 0.4)
    out = []
    for k in range(n):
        a = k * period
        out.append(
            Drawing(np.array([start + u * a, start + u * (a + 0.6 * period)]), "line", color, edge_width_mm=0.35)
        )
    return out


def margin_band(points_mm: Iterable[Sequence[float]], closed: bool, margin_mm: float, color: str) -> Drawing:
    """The zone within ``margin_mm`` of a hazard.

    An open hazard (a pleura line) is its path with an edge ``2 * margin`` wide: a napari edge is
    centred on the path, so it covers exactly the points closer than the margin on either side.  A
    closed hazard (a vessel, the neuraxis) is the core's outline of its zone, filled: a wide edge on a
    polygon would spike past the margin at every corner.
    """
    pts = np.asarray(list(points_mm), float)
    if closed and len(pts) >= 3:
        return Drawing(margin_zone_outline_mm(pts, margin_mm), "polygon", color, face_color=color, edge_width_mm=0.1)
    return Drawing(pts, "path", color, edge_width_mm=2.0 * margin_mm)


def angle_rays(tip_mm: Sequence[float], entries_mm: Sequence[Sequence[float]], color: str) -> list[Drawing]:
    """Lines from the target back to the entries that bound the safe angle window."""
    return [Drawing(np.asarray([e, tip_mm], float), "line", color, edge_width_mm=0.25) for e in entries_mm]
