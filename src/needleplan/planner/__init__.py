"""Trajectory metrics, the deepest safe insertion, the overshoot and the safe angle window.

Everything here is in world millimetres ``(row, col)`` (docs/contracts.md §3): row grows with depth,
depth is measured from the marked skin line (vertical, along the beam) or from ``row_mm = 0``.
Suggested (unaccepted) structures are never hazards here.  Plans without a length calibration raise
:class:`~needleplan.errors.CalibrationError`: no millimetre is computed from pixels.

The package's modules: ``_scene`` (a plan's geometry prepared once: hazards, backstops, skin,
target), ``_drawn`` (unit-free crossings and ray hits of the drawn needle, also uncalibrated),
``_metrics`` (:func:`needle_metrics`), ``_insertion`` (:func:`max_safe_insertion` and
:func:`overshoot`) and ``_window`` (:func:`safe_angle_window` and :func:`suggest`).

Examples
--------
A 38 mm needle entering at (0, 0), aimed straight down at a tip 6 mm deep, pleura 14 mm deep.
The tip may go on until it is within the 5 mm margin: 14 - 5 = 9 mm of insertion.

>>> from needleplan.plan import plan_from_dict
>>> plan = plan_from_dict({"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...     "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0, 0]},
...     "site": "upper_trapezius", "structures": [
...         {"kind": "pleura", "points_mm": [[14, -30], [14, 30]], "closed": False}],
...     "needle": {"entry_mm": [0, 0], "target_mm": [6, 0], "length_mm": 38}})
>>> m = needle_metrics(plan)
>>> m.depth_mm, m.path_length_mm, m.angle_deg, m.clearance_mm["pleura"]
(6.0, 6.0, 90.0, 8.0)
>>> s = max_safe_insertion(plan)
>>> s.max_safe_insertion_mm, s.limited_by
(9.0, 'pleura')
>>> o = overshoot(plan)          # 38 - 6 = 32 mm of unused needle meets the pleura 8 mm past the tip
>>> o.first_hit, o.first_hit_mm
('pleura', 8.0)
"""

from __future__ import annotations

from needleplan.planner._drawn import drawn_clearance, first_hits, needle_vectors, shortest_needle
from needleplan.planner._insertion import Overshoot, SafeInsertion, max_safe_insertion, overshoot
from needleplan.planner._metrics import NeedleMetrics, needle_metrics
from needleplan.planner._scene import Hazard, Scene, depth_below_skin, position_changed, prepare, skin_entry
from needleplan.planner._window import AngleInterval, AngleWindow, Trajectory, safe_angle_window, suggest

__all__ = [
    "Hazard",
    "Scene",
    "NeedleMetrics",
    "SafeInsertion",
    "Overshoot",
    "AngleInterval",
    "Trajectory",
    "AngleWindow",
    "prepare",
    "needle_metrics",
    "max_safe_insertion",
    "overshoot",
    "safe_angle_window",
    "suggest",
    "position_changed",
    "needle_vectors",
    "drawn_clearance",
    "first_hits",
    "shortest_needle",
    "depth_below_skin",
    "skin_entry",
]
