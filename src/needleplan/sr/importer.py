"""DICOM SR (TID 1500, as written by :mod:`needleplan.sr.export`) -> plan.

Geometry comes from the SCOORDs (image pixels, converted back to world mm through the plan's
calibration), the needle length and gauge from the needle group's measurements, the finding text
from the TEXT items; the plan-fields TEXT item supplies what SR has no place for.  An SR written
by another tool (no plan fields) can be imported when the image is given for its calibration.
"""

from __future__ import annotations

import json
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from needleplan.errors import PlanFormatError
from needleplan.plan import Plan, plan_from_dict
from needleplan.sr import _codes as c

__all__ = ["sr_to_plan"]

_NUM_METRICS = {  # (scheme, value) -> plan metrics key, for an SR without plan fields
    ("SCT", codes.SCT.Depth.value): "depth_mm",
    ("SCT", codes.SCT.Length.value): "path_length_mm",
    ("SCT", codes.SCT.Angle.value): "angle_deg",
    (c.SCHEME, c.MAX_SAFE_INSERTION.value): "max_safe_insertion_mm",
}


def _is(code: Any, known: Any) -> bool:
    return code is not None and code.value == known.value and code.scheme_designator == known.scheme_designator


def _text_items(ds: Dataset) -> tuple[list[str], dict | None]:
    """Finding texts and the plan fields from the Qualitative Evaluations container."""
    findings, fields = [], None
    for item in getattr(ds, "ContentSequence", []):
        name = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
        if item.ValueType != "CONTAINER" or not _is(name, c.QUALITATIVE_EVALUATIONS):
            continue
        for child in getattr(item, "ContentSequence", []):
            if child.ValueType != "TEXT":
                continue
            code = child.ConceptNameCodeSequence[0]
            if _is(code, c.PLAN_FIELDS):
                try:
                    fields = json.loads(child.TextValue)
                except json.JSONDecodeError as exc:
                    raise PlanFormatError(f"the SR's needleplan plan fields are damaged: {exc}") from exc
            elif _is(code, codes.DCM.Finding):
                findings.append(str(child.TextValue))
    return findings, fields


def _parse_finding(text: str, values: dict) -> dict:
    """``"WARN PLEURA_MARGIN: message"`` -> finding dict.

    >>> _parse_finding("WARN PLEURA_MARGIN: tip 3.2 mm above the pleura", {})["code"]
    'PLEURA_MARGIN'
    """
    head, _, message = text.partition(": ")
    severity, _, code = head.partition(" ")
    return {"code": code, "severity": severity.lower(), "message": message, "values": values}


def _region_px(group: Any) -> tuple[np.ndarray, bool, int | None]:
    """(row, col) image indices, closed?, 0-based frame (None when not given) of a group's ROI."""
    roi = group.roi
    if roi is None:
        raise PlanFormatError("an SR measurement group has no image region; needleplan reads 2D SCOORD regions only")
    data = np.asarray(roi.value, dtype=float).reshape(-1, 2)
    closed = len(data) > 3 and bool(np.all(data[0] == data[-1]))  # closed POLYLINE = polygon
    if closed:
        data = data[:-1]
    ref = _selected_from(roi)
    frames = None if ref is None else ref.get("ReferencedFrameNumber")
    if frames is not None and not isinstance(frames, (int, float)):
        frames = list(frames)[0]
    frame = None if frames is None else int(frames) - 1
    return c.scoord_to_px(data), closed, frame


def _selected_from(roi: Any) -> Any:
    """The Referenced SOP item of the SCOORD's SELECTED FROM image (None if absent)."""
    for child in getattr(roi, "ContentSequence", []):
        if child.get("RelationshipType") == "SELECTED FROM" and "ReferencedSOPSequence" in child:
            return child.ReferencedSOPSequence[0]
    return None


def _numbers(group: Any) -> dict[tuple[str, str], float]:
    out = {}
    for m in group.get_measurements():
        out[(m.name.scheme_designator, m.name.value)] = float(m.value)
    return out


def _source_ref(sr: Any) -> tuple[str | None, int]:
    for group in sr.content.get_planar_roi_measurement_groups():
        ref = None if group.roi is None else _selected_from(group.roi)
        if ref is not None:
            _, _, frame = _region_px(group)
            return str(ref.ReferencedSOPInstanceUID), frame or 0
    return None, 0


def _default_fields(calibration: Any, site: str) -> dict:
    if calibration is None:
        raise PlanFormatError(
            "this SR was not written by needleplan (no plan fields), so it "
            "carries no calibration: give the image it refers to (--image)"
        )
    return {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": calibration.to_dict(),
        "site": site,
        "structures": [],
        "needle": None,
        "findings": [],
        "metrics": {},
    }


def sr_to_plan(ds: Dataset, *, calibration: Any = None, site: str = "other") -> Plan:
    """Read a needleplan SR back into a plan (``calibration`` only for a foreign SR)."""
    try:
        sr = hd.sr.ComprehensiveSR.from_dataset(ds, copy=False)
        content = sr.content  # a MeasurementReport when the document is TID 1500, else a plain ContentSequence
        if not isinstance(content, hd.sr.MeasurementReport):
            raise AttributeError("its content is not a TID 1500 measurement report")
        groups = content.get_planar_roi_measurement_groups()
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise PlanFormatError(
            f"not a TID 1500 measurement report highdicom can read ({exc}); the file may be "
            "cut off: copy it again or export it again with `needleplan sr export`"
        ) from exc
    texts, fields = _text_items(ds)  # the SR dataset is the root container
    plan = dict(fields) if fields is not None else _default_fields(calibration, site)
    cal = calibration
    if cal is None:
        from needleplan.calibration import Calibration

        cal = Calibration.from_dict(plan["calibration"])
    uid, frame = _source_ref(sr)
    plan["image"] = {**plan.get("image", {}), "sop_instance_uid": uid, "frame_index": frame}
    saved_structures = list(plan.get("structures") or [])
    structures: list[dict[str, Any]] = []
    needle, metrics = plan.get("needle"), {}
    for group in groups:
        ident = str(group.tracking_identifier or "")
        px, closed, g_frame = _region_px(group)
        points = [[float(v) for v in p] for p in cal.px_to_mm(px)]
        if ident.startswith(c.NEEDLE_TRACKING_PREFIX):
            nums = _numbers(group)
            length = nums.get(("DCM", codes.DCM.NeedleLength.value))
            gauge = nums.get((c.SCHEME, c.NEEDLE_GAUGE.value))
            needle = {
                **(needle or {}),
                "entry_mm": points[0],
                "target_mm": points[-1],
                "length_mm": length,
                "gauge": None if gauge is None else int(gauge),
            }
            metrics = {key: nums[k] for k, key in _NUM_METRICS.items() if k in nums}
            continue
        kind = c.kind_from_code(group.finding_type) or ident.split(": ")[-1].split(" (")[0]
        extra = (
            saved_structures[len(structures)]
            if len(structures) < len(saved_structures)
            else {"frame_index": g_frame}
            if g_frame not in (None, frame)
            else {}
        )
        structures.append({**extra, "kind": kind, "points_mm": points, "closed": closed})
    plan["structures"] = structures
    plan["needle"] = needle
    values = [f.get("values", {}) for f in plan.get("findings") or []]
    plan["findings"] = [_parse_finding(t, values[i] if i < len(values) else {}) for i, t in enumerate(texts)]
    if fields is None:
        plan["metrics"] = metrics
    return plan_from_dict(plan)
