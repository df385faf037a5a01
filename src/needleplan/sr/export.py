"""Plan -> DICOM Comprehensive SR (TID 1500 Measurement Report) with highdicom.

Content tree::

    Imaging Measurement Report (TID 1500)
      Imaging Measurements
        Planar ROI group "needleplan needle"       POLYLINE entry -> tip, on the plan's frame
          Depth (mm), Length = path length (mm), Angle (deg), Needle Length (mm),
          Deepest safe insertion (mm, private), Needle gauge (private)
        Planar ROI group per structure              POLYLINE, closed (first point repeated) for a polygon
          finding type: the structure kind (SNOMED CT / DCM, private where none exists)
      Qualitative Evaluations (container)
        Finding (TEXT) per finding: "WARN PLEURA_MARGIN: <message>"
        needleplan plan fields (TEXT, JSON): what SR has no place for (patient, injectate,
          calibration, finding values, structure labels...), so import loses nothing

Points go from world mm to image indices through the plan's calibration, then to SCOORD
``(column + 0.5, row + 0.5)``.
"""

from __future__ import annotations

import json
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from needleplan.errors import CalibrationError, ImageBindingError
from needleplan.plan import Plan, plan_to_dict, with_report
from needleplan.sr import _codes as c

__all__ = ["plan_to_sr", "plan_fields"]

_GEOMETRY_KEYS = ("kind", "points_mm", "closed")


def plan_fields(plan: Plan, findings: list[dict]) -> dict:
    """The plan file minus what the SR carries in its own structure (geometry, finding text)."""
    d = plan_to_dict(plan)
    d["structures"] = [{k: v for k, v in s.items() if k not in _GEOMETRY_KEYS} for s in d["structures"]]
    if d.get("needle") is not None:
        d["needle"] = {k: v for k, v in d["needle"].items() if k not in ("entry_mm", "target_mm", "length_mm", "gauge")}
    d["findings"] = [{"values": f.get("values", {})} for f in findings]
    metrics = dict(d.get("metrics") or {})
    d["metrics"] = metrics
    return d


def _frames(source: Dataset, frame_index: int) -> list[int] | None:
    frames = int(getattr(source, "NumberOfFrames", 1) or 1)
    if frame_index >= frames:
        raise ImageBindingError(
            f"the plan is on frame {frame_index} but the image has {frames} frame(s); export with the plan's own image"
        )
    return [frame_index + 1] if frames > 1 else None


def _region(plan: Plan, points_mm: Any, closed: bool, source: Dataset, frame_index: int) -> hd.sr.ImageRegion:
    px = plan.calibration.mm_to_px(np.asarray(points_mm, dtype=float).reshape(-1, 2))
    data = c.px_to_scoord(px)
    graphic = hd.sr.GraphicTypeValues.POLYLINE
    if len(data) == 1:
        graphic = hd.sr.GraphicTypeValues.POINT
    elif closed and len(data) >= 3:
        # 2D SCOORD has no polygon type: a POLYLINE whose last point repeats its first is a closed
        # polygon (DICOM PS3.3 C.18.6.1.2)
        data = np.vstack([data, data[:1]])
    source_image = hd.sr.SourceImageForRegion.from_source_image(
        source, referenced_frame_numbers=_frames(source, frame_index)
    )
    return hd.sr.ImageRegion(graphic_type=graphic, graphic_data=data, source_image=source_image)


def _measure(name: Any, value: float | None, unit: Any) -> list:
    if value is None or not np.isfinite(value):
        return []
    return [hd.sr.Measurement(name=name, value=float(value), unit=unit)]


def _needle_group(plan: Plan, metrics: dict, source: Dataset) -> Any:
    n = plan.needle
    assert n is not None  # exported only for a plan with a needle
    mm, deg = codes.UCUM.Millimeter, codes.UCUM.Degree
    measurements = (
        _measure(codes.SCT.Depth, metrics.get("depth_mm"), mm)
        + _measure(codes.SCT.Length, metrics.get("path_length_mm"), mm)
        + _measure(codes.SCT.Angle, metrics.get("angle_deg"), deg)
        + _measure(codes.DCM.NeedleLength, n.length_mm, mm)
        + _measure(c.MAX_SAFE_INSERTION, metrics.get("max_safe_insertion_mm"), mm)
        + _measure(c.NEEDLE_GAUGE, None if n.gauge is None else float(n.gauge), codes.UCUM.NoUnits)
    )
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=hd.UID(), identifier=f"{c.NEEDLE_TRACKING_PREFIX}: entry to planned tip"
        ),
        referenced_region=_region(plan, [n.entry_mm, n.target_mm], False, source, plan.image.frame_index),
        finding_type=c.NEEDLE_FINDING,
        measurements=measurements,
    )


def _structure_group(plan: Plan, index: int, source: Dataset) -> Any:
    s = plan.structures[index]
    frame = s.frame_index if s.frame_index is not None else plan.image.frame_index
    label = f" ({s.label})" if s.label else ""
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=hd.UID(), identifier=f"{c.STRUCTURE_TRACKING_PREFIX} {index}: {s.kind}{label}"
        ),
        referenced_region=_region(plan, s.points_mm, s.closed, source, frame),
        finding_type=c.KIND_CODES.get(s.kind, c.KIND_CODES["other"]),
    )


def _text_container(findings: list[dict], fields: dict) -> Any:
    container = hd.sr.ContainerContentItem(name=c.QUALITATIVE_EVALUATIONS, relationship_type="CONTAINS")
    items = [
        hd.sr.TextContentItem(
            name=codes.DCM.Finding,
            relationship_type="CONTAINS",
            value=f"{str(f.get('severity')).upper()} {f.get('code')}: {f.get('message', '')}",
        )
        for f in findings
    ]
    items.append(
        hd.sr.TextContentItem(
            name=c.PLAN_FIELDS, relationship_type="CONTAINS", value=json.dumps(fields, sort_keys=True, default=str)
        )
    )
    container.ContentSequence = hd.sr.ContentSequence(items)
    return container


def plan_to_sr(
    plan: Plan, source: Dataset, *, series_number: int = 901, instance_number: int = 1
) -> hd.sr.ComprehensiveSR:
    """Build the SR of ``plan`` made on ``source`` (the image dataset, pixel data not needed).

    Raises
    ------
    CalibrationError
        The plan has no length calibration: mm points cannot be placed on the image.
    ImageBindingError
        ``source`` is not the image the plan was made on (SOP Instance UID or frame).
    """
    from needleplan.safety import check_plan

    if not plan.calibration.is_calibrated:
        raise CalibrationError(
            "a plan without length calibration cannot be exported as SR: its "
            "points cannot be placed on the image; calibrate it first"
        )
    uid = str(getattr(source, "SOPInstanceUID", "") or "")
    if plan.image.sop_instance_uid and uid and uid != plan.image.sop_instance_uid:
        raise ImageBindingError(
            f"this image (SOP Instance UID {uid}) is not the one the plan was "
            f"made on ({plan.image.sop_instance_uid}); give the plan's image"
        )
    report = check_plan(plan)
    if not plan.findings:  # a plan saved without its check is exported as checked now
        plan = with_report(plan, report)
    findings = [dict(f) for f in plan.findings]
    metrics = {**dict(plan.metrics), **dict(report.metrics)}
    groups = [_structure_group(plan, i, source) for i in range(len(plan.structures))]
    if plan.needle is not None:
        groups.insert(0, _needle_group(plan, metrics, source))
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(uid=hd.UID(), name="needleplan"),
    )
    content = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=c.PROCEDURE,
        imaging_measurements=groups,
    )
    root = content[0]
    root.ContentSequence.append(_text_container(findings, plan_fields(plan, findings)))
    sr = hd.sr.ComprehensiveSR(
        evidence=[source],
        content=root,
        series_instance_uid=hd.UID(),
        series_number=series_number,
        sop_instance_uid=hd.UID(),
        instance_number=instance_number,
        manufacturer="needleplan",
        series_description="needleplan plan",
    )
    sr.CodingSchemeIdentificationSequence = [c.scheme_identification()]  # declares 99NEEDLEPLAN
    return sr
