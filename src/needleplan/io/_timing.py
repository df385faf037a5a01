"""Cine timing from the Frame Increment Pointer (docs/ultrasound-calibration.md §3).

Order of preference: Frame Time Vector (0018,1065) when the pointer names it, Frame Time (0018,1063),
a Frame Time Vector the pointer does not name, then 1000 / Cine Rate (0018,0040), then 1000 /
Recommended Display Frame Rate (0008,2144).  The pointer is read as a list: real files put a private
tag in it next to the standard one (deid-data RGB_CINE: ``[(0018,1065), (FB84,3290)]``).
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["frame_increment_tags", "cine_timing"]

FRAME_TIME = 0x00181063
FRAME_TIME_VECTOR = 0x00181065


def frame_increment_tags(ds: Any) -> tuple[int, ...]:
    """The Frame Increment Pointer (0028,0009) as a tuple of integer tags (empty when absent)."""
    value = ds.get("FrameIncrementPointer")
    if value is None or value == "":
        return ()
    return tuple(int(v) for v in _as_list(value))


def _as_list(value: Any) -> list[Any]:
    """A DICOM value as a list: a MultiValue or sequence as is, a single value wrapped."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


def _positive(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def cine_timing(ds: Any, frames: int) -> tuple[float | None, tuple[float, ...] | None, tuple[str, ...]]:
    """Return ``(frame_time_ms, frame_times_ms, notes)`` for a dataset of ``frames`` frames.

    ``frame_times_ms`` are cumulative, the first is 0.  Single-frame images have no timing.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.FrameIncrementPointer = [0x00181065, 0xFB843290]
    >>> ds.FrameTimeVector = [0, 40, 60]
    >>> cine_timing(ds, 3)
    (50.0, (0.0, 40.0, 100.0), ())
    >>> ds = Dataset(); ds.CineRate = 25
    >>> cine_timing(ds, 3)[:2]
    (40.0, (0.0, 40.0, 80.0))
    """
    if frames <= 1:
        return None, None, ()
    pointer = frame_increment_tags(ds)
    notes: list[str] = []
    vector = ds.get("FrameTimeVector")
    ftv = None
    if vector is not None and vector != "":
        values = [float(v) for v in _as_list(vector)]
        if len(values) == frames and all(math.isfinite(v) and v >= 0 for v in values):
            increments = [0.0, *values[1:]]
            cumulative = [0.0]
            for inc in increments[1:]:
                cumulative.append(cumulative[-1] + inc)
            ftv = (cumulative[-1] / (frames - 1), tuple(round(t, 6) for t in cumulative))
        else:
            notes.append(f"Frame Time Vector has {len(values)} values for {frames} frames; not used")
    frame_time = _positive(ds.get("FrameTime"))
    if FRAME_TIME_VECTOR in pointer and ftv is not None:
        return round(ftv[0], 6), ftv[1], tuple(notes)
    if frame_time is not None:
        return frame_time, tuple(round(i * frame_time, 6) for i in range(frames)), tuple(notes)
    if ftv is not None:
        return round(ftv[0], 6), ftv[1], tuple(notes)
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = _positive(ds.get(keyword))
        if rate is not None:
            step = 1000.0 / rate
            notes.append(f"frame time from {keyword} {rate:g} frames/s")
            return round(step, 6), tuple(round(i * step, 6) for i in range(frames)), tuple(notes)
    return None, None, tuple(notes)
