"""The plan file (docs/contracts.md §4, ``needleplan.plan`` version 1): model, validation, atomic save.

A plan is a frozen value.  :func:`plan_from_dict` validates every field and names the one that is
wrong and the form expected ("structures[2].points_mm: expected ...").  Unknown fields are kept, at
the top level and inside every object, and written back on save.  :func:`save_plan` writes the
safety report's findings and metrics too, atomically (temp file in the same folder, fsync, rename,
fsync of the folder), so a crash never leaves half a plan.

The package's modules: ``_model`` (the frozen dataclasses and format constants), ``_validate``
(dict -> :class:`Plan`, naming the wrong field), ``_serialize`` (:class:`Plan` -> dict, with a safety
report), ``_io`` (load and atomic save of plan files) and ``_binding`` (:func:`verify_binding`).

Examples
--------
>>> d = {"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...      "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]},
...      "site": "rhomboid", "structures": [],
...      "needle": {"entry_mm": [0, -18], "target_mm": [9.5, 2], "length_mm": 38, "gauge": 25},
...      "lab_id": "kept"}
>>> plan = plan_from_dict(d)
>>> plan.needle.length_mm, plan.extra["lab_id"], plan_to_dict(plan)["lab_id"]
(38.0, 'kept', 'kept')
>>> plan_from_dict({**d, "site": 3})
Traceback (most recent call last):
needleplan.errors.PlanFormatError: site: expected a site id string such as 'upper_trapezius', got 3
"""

from __future__ import annotations

from needleplan.plan._binding import verify_binding
from needleplan.plan._io import load_plan, save_plan
from needleplan.plan._json import jsonable
from needleplan.plan._model import (
    APPROACHES,
    PLAN_FORMAT,
    PLAN_VERSION,
    ImageBinding,
    Injectate,
    Needle,
    Patient,
    Plan,
    Point,  # noqa: F401  (the (row_mm, col_mm) alias, importable as before)
    Structure,
)
from needleplan.plan._serialize import plan_to_dict, with_report
from needleplan.plan._validate import plan_from_dict

__all__ = [
    "jsonable",
    "PLAN_FORMAT",
    "PLAN_VERSION",
    "APPROACHES",
    "Structure",
    "Needle",
    "Patient",
    "Injectate",
    "ImageBinding",
    "Plan",
    "plan_from_dict",
    "plan_to_dict",
    "load_plan",
    "save_plan",
    "verify_binding",
    "with_report",
]
