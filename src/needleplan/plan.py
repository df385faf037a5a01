"""The plan file (design.md section 4, ``needleplan.plan`` version 1): model, validation, atomic save.

A plan is a frozen value.  :func:`plan_from_dict` validates every field and names the one that is
wrong and the form expected ("structures[2].points_mm: expected ...").  Unknown fields are kept, at
the top level and inside every object, and written back on save.  :func:`save_plan` writes the
safety report's findings and metrics too, atomically (temp file in the same folder, fsync, rename,
fsync of the folder), so a crash never leaves half a plan.

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

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from needleplan.anatomy import STRUCTURE_KINDS
from needleplan.calibration import Calibration
from needleplan.errors import ImageBindingError, PlanFormatError

__all__ = [
    "PLAN_FORMAT", "PLAN_VERSION", "APPROACHES",
    "Structure", "Needle", "Patient", "Injectate", "ImageBinding", "Plan",
    "plan_from_dict", "plan_to_dict", "load_plan", "save_plan", "verify_binding", "with_report",
]

PLAN_FORMAT = "needleplan.plan"
PLAN_VERSION = 1
APPROACHES = ("in_plane", "out_of_plane")
_EMPTY: Mapping[str, Any] = MappingProxyType({})

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Structure:
    """One marked structure: ``points_mm`` are world mm ``(row, col)``; closed = polygon.

    ``suggested`` marks an automatic detector's proposal the physician has not accepted: the safety
    check never treats it as a confirmed hazard.
    """

    kind: str
    points_mm: tuple[Point, ...]
    closed: bool
    frame_index: int | None = None
    label: str | None = None
    suggested: bool = False
    confidence: float | None = None
    evidence: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Needle:
    """The drawn needle: skin entry and planned tip in world mm, length in mm."""

    entry_mm: Point
    target_mm: Point
    length_mm: float
    gauge: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Patient:
    """Patient facts the rules use; all optional (unknown fields such as ``bilateral_session`` in extra)."""

    bmi: float | None = None
    weight_kg: float | None = None
    sex: str | None = None
    lung_disease: bool | None = None
    anticoagulated: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Injectate:
    """One local anaesthetic given: drug name, concentration (%), volume (mL), with epinephrine."""

    drug: str
    concentration_pct: float
    volume_ml: float
    epinephrine: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageBinding:
    """The exact frame a plan was made on."""

    path: str | None = None
    sop_instance_uid: str | None = None
    frame_index: int = 0
    pixel_sha256: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Plan:
    """A needle plan (design.md section 4).  ``findings``/``metrics`` are as last saved."""

    image: ImageBinding
    calibration: Calibration
    site: str
    approach: str = "in_plane"
    patient: Patient = field(default_factory=Patient)
    structures: tuple[Structure, ...] = ()
    needle: Needle | None = None
    injectate: tuple[Injectate, ...] = ()
    author: str | None = None
    created: str | None = None
    notes: str | None = None
    findings: tuple[Mapping[str, Any], ...] = ()
    metrics: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    calibration_extra: Mapping[str, Any] = field(default_factory=dict)  # unknown calibration fields, kept


# ----------------------------------------------------------------------------- validation helpers

def _fail(where: str, expected: str, got: Any) -> PlanFormatError:
    text = repr(got)
    if len(text) > 60:
        text = text[:57] + "..."
    return PlanFormatError(f"{where}: expected {expected}, got {text}")


def _obj(d: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise _fail(where, "an object", d)
    return d


def _num(v: Any, where: str, *, positive: bool = False, optional: bool = False) -> float | None:
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _fail(where, "a finite number" + (" > 0" if positive else ""), v)
    if positive and v <= 0:
        raise _fail(where, "a number > 0", v)
    return float(v)


def _int(v: Any, where: str, *, optional: bool = False, minimum: int = 0) -> int | None:
    if v is None and optional:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise _fail(where, f"an integer >= {minimum}", v)
    return int(v)


def _typed(v: Any, where: str, kind: type, expected: str, optional: bool) -> Any:
    if v is None and optional:
        return None
    if not isinstance(v, kind):
        raise _fail(where, expected, v)
    return v


def _str(v: Any, where: str, *, optional: bool = True) -> str | None:
    return _typed(v, where, str, "a string", optional)


def _bool(v: Any, where: str, *, optional: bool = True) -> bool | None:
    return _typed(v, where, bool, "true or false", optional)


def _point(v: Any, where: str) -> Point:
    if (not isinstance(v, (list, tuple)) or len(v) != 2
            or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in v)):
        raise _fail(where, "[row_mm, col_mm] (two finite numbers)", v)
    return (float(v[0]), float(v[1]))


def _extra(d: Mapping[str, Any], known: tuple[str, ...]) -> Mapping[str, Any]:
    return {k: v for k, v in d.items() if k not in known}


# ----------------------------------------------------------------------------- from / to dict

_STRUCTURE_KEYS = ("kind", "points_mm", "closed", "frame_index", "label", "suggested", "confidence", "evidence")
_NEEDLE_KEYS = ("entry_mm", "target_mm", "length_mm", "gauge")
_PATIENT_KEYS = ("bmi", "weight_kg", "sex", "lung_disease", "anticoagulated")
_INJECTATE_KEYS = ("drug", "concentration_pct", "volume_ml", "epinephrine")
_IMAGE_KEYS = ("path", "sop_instance_uid", "frame_index", "pixel_sha256")
_TOP_KEYS = ("format", "version", "image", "calibration", "site", "approach", "patient", "structures",
             "needle", "injectate", "author", "created", "notes", "findings", "metrics")


def _structure(d: Any, where: str) -> Structure:
    d = _obj(d, where)
    kind = d.get("kind")
    if kind not in STRUCTURE_KINDS:
        raise _fail(f"{where}.kind", f"one of {list(STRUCTURE_KINDS)}", kind)
    pts = d.get("points_mm")
    if not isinstance(pts, (list, tuple)) or not pts:
        raise _fail(f"{where}.points_mm", "a non-empty list of [row_mm, col_mm] pairs", pts)
    points = tuple(_point(p, f"{where}.points_mm[{i}]") for i, p in enumerate(pts))
    closed = _bool(d.get("closed", False), f"{where}.closed", optional=False)
    if closed and len(points) < 3:
        raise _fail(f"{where}.points_mm", "at least 3 points for a closed structure", pts)
    confidence = _num(d.get("confidence"), f"{where}.confidence", optional=True)
    if confidence is not None and not 0.0 <= confidence <= 1.0:
        raise _fail(f"{where}.confidence", "a number from 0 to 1", confidence)
    return Structure(
        kind, points, bool(closed), _int(d.get("frame_index"), f"{where}.frame_index", optional=True),
        _str(d.get("label"), f"{where}.label"), bool(_bool(d.get("suggested", False), f"{where}.suggested")),
        confidence, _str(d.get("evidence"), f"{where}.evidence"), _extra(d, _STRUCTURE_KEYS))


def _needle(d: Any) -> Needle:
    d = _obj(d, "needle")
    entry, target = _point(d.get("entry_mm"), "needle.entry_mm"), _point(d.get("target_mm"), "needle.target_mm")
    if entry == target:
        raise _fail("needle.target_mm", "a tip point different from needle.entry_mm", d.get("target_mm"))
    return Needle(entry, target,
                  _num(d.get("length_mm"), "needle.length_mm", positive=True),
                  _int(d.get("gauge"), "needle.gauge", optional=True, minimum=1), _extra(d, _NEEDLE_KEYS))


def _patient(d: Any) -> Patient:
    d = _obj(d, "patient")
    sex = _str(d.get("sex"), "patient.sex")
    if sex is not None and sex not in ("F", "M", "O"):
        raise _fail("patient.sex", "'F', 'M' or 'O'", sex)
    return Patient(_num(d.get("bmi"), "patient.bmi", positive=True, optional=True),
                   _num(d.get("weight_kg"), "patient.weight_kg", positive=True, optional=True), sex,
                   _bool(d.get("lung_disease"), "patient.lung_disease"),
                   _bool(d.get("anticoagulated"), "patient.anticoagulated"), _extra(d, _PATIENT_KEYS))


def _injectate(d: Any, where: str) -> Injectate:
    d = _obj(d, where)
    drug = _str(d.get("drug"), f"{where}.drug", optional=False)
    return Injectate(drug.strip().lower(), _num(d.get("concentration_pct"), f"{where}.concentration_pct", positive=True),
                     _num(d.get("volume_ml"), f"{where}.volume_ml", positive=True),
                     bool(_bool(d.get("epinephrine", False), f"{where}.epinephrine")), _extra(d, _INJECTATE_KEYS))


def _image(d: Any) -> ImageBinding:
    d = _obj(d, "image")
    if "frame_index" not in d:
        raise PlanFormatError("image.frame_index: expected an integer >= 0 (required), got nothing")
    return ImageBinding(_str(d.get("path"), "image.path"), _str(d.get("sop_instance_uid"), "image.sop_instance_uid"),
                        _int(d.get("frame_index"), "image.frame_index"),
                        _str(d.get("pixel_sha256"), "image.pixel_sha256"), _extra(d, _IMAGE_KEYS))


def _list(d: Mapping[str, Any], key: str, *, required: bool) -> list:
    if key not in d:
        if required:
            raise PlanFormatError(f"{key}: expected a list (required, may be empty), got nothing")
        return []
    value = d[key]
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _fail(key, "a list", value)
    return value


def plan_from_dict(d: Any) -> Plan:
    """Validate a plan object and build a :class:`Plan`; :class:`PlanFormatError` names the bad field."""
    d = _obj(d, "plan")
    if d.get("format") != PLAN_FORMAT:
        raise _fail("format", repr(PLAN_FORMAT), d.get("format"))
    if d.get("version") != PLAN_VERSION or isinstance(d.get("version"), bool):
        raise _fail("version", f"{PLAN_VERSION} (this needleplan reads plan version {PLAN_VERSION})", d.get("version"))
    for key in ("image", "calibration", "site", "needle"):
        if key not in d:
            raise PlanFormatError(f"{key}: required field is missing")
    site = d.get("site")
    if not isinstance(site, str) or not site:
        raise _fail("site", "a site id string such as 'upper_trapezius'", site)
    approach = d.get("approach", "in_plane")
    if approach not in APPROACHES:
        raise _fail("approach", f"one of {list(APPROACHES)}", approach)
    findings = _list(d, "findings", required=False)
    if not all(isinstance(f, Mapping) for f in findings):
        raise _fail("findings", "a list of finding objects", findings)
    metrics = d.get("metrics") or {}
    _obj(metrics, "metrics")
    calibration = Calibration.from_dict(d["calibration"])
    return Plan(
        image=_image(d["image"]),
        calibration=calibration,
        site=site,
        approach=approach,
        patient=_patient(d["patient"]) if d.get("patient") is not None else Patient(),
        structures=tuple(_structure(s, f"structures[{i}]") for i, s in enumerate(_list(d, "structures", required=True))),
        needle=None if d["needle"] is None else _needle(d["needle"]),
        injectate=tuple(_injectate(x, f"injectate[{i}]") for i, x in enumerate(_list(d, "injectate", required=False))),
        author=_str(d.get("author"), "author"),
        created=_str(d.get("created"), "created"),
        notes=_str(d.get("notes"), "notes"),
        findings=tuple(dict(f) for f in findings),
        metrics=dict(metrics),
        extra=_extra(d, _TOP_KEYS),
        calibration_extra=_extra(d["calibration"], tuple(calibration.to_dict())),
    )


def _drop_none(d: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None or k in keep}


def _structure_dict(s: Structure) -> dict[str, Any]:
    out = {"kind": s.kind, "points_mm": [list(p) for p in s.points_mm], "closed": s.closed,
           "frame_index": s.frame_index, "label": s.label, "suggested": s.suggested or None,
           "confidence": s.confidence, "evidence": s.evidence}
    return {**_drop_none(out), **s.extra}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON object of a plan (design.md section 4), unknown fields included."""
    p, n = plan.patient, plan.needle
    out: dict[str, Any] = {
        "format": PLAN_FORMAT, "version": PLAN_VERSION,
        "image": {**_drop_none({"path": plan.image.path, "sop_instance_uid": plan.image.sop_instance_uid,
                                "frame_index": plan.image.frame_index, "pixel_sha256": plan.image.pixel_sha256}),
                  **plan.image.extra},
        "calibration": {**plan.calibration.to_dict(), **plan.calibration_extra},
        "site": plan.site,
        "approach": plan.approach,
        "patient": {**_drop_none({"bmi": p.bmi, "weight_kg": p.weight_kg, "sex": p.sex,
                                  "lung_disease": p.lung_disease, "anticoagulated": p.anticoagulated}), **p.extra},
        "structures": [_structure_dict(s) for s in plan.structures],
        "needle": None if n is None else {"entry_mm": list(n.entry_mm), "target_mm": list(n.target_mm),
                                          "length_mm": n.length_mm, "gauge": n.gauge, **n.extra},
        "injectate": [{"drug": i.drug, "concentration_pct": i.concentration_pct, "volume_ml": i.volume_ml,
                       "epinephrine": i.epinephrine, **i.extra} for i in plan.injectate],
    }
    out.update(_drop_none({"author": plan.author, "created": plan.created, "notes": plan.notes}))
    if plan.findings:
        out["findings"] = [dict(f) for f in plan.findings]
    if plan.metrics:
        out["metrics"] = dict(plan.metrics)
    out.update(plan.extra)
    return out


def with_report(plan: Plan, report: Any) -> Plan:
    """The plan carrying a safety report's findings and metrics (what :func:`save_plan` writes)."""
    d = report.to_dict()
    return replace(plan, findings=tuple(d["findings"]), metrics=d["metrics"])


# ----------------------------------------------------------------------------- files

def load_plan(path: str | os.PathLike[str]) -> Plan:
    """Read and validate a plan file.  Bad JSON or fields raise :class:`PlanFormatError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PlanFormatError(f"{path}: not a UTF-8 text file; a plan is a JSON file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    try:
        return plan_from_dict(data)
    except PlanFormatError as exc:
        raise PlanFormatError(f"{path}: {exc}") from None


def save_plan(plan: Plan, path: str | os.PathLike[str], *, report: Any = None) -> None:
    """Write a plan atomically; with ``report`` its findings and metrics are written too.

    A temporary file in the same folder is written, flushed and fsynced, then renamed over ``path``,
    and the folder is fsynced, so readers see either the old plan or the new one, never half.
    """
    from needleplan.cli._output import jsonable  # plain JSON values (numpy scalars, non-finite -> null)

    if report is not None:
        plan = with_report(plan, report)
    path = Path(path)
    text = json.dumps(jsonable(plan_to_dict(plan)), indent=2, ensure_ascii=False) + "\n"
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def verify_binding(plan: Plan, image: Any, *, force: bool = False) -> tuple[str, ...]:
    """Check that ``image`` (a ``LoadedImage``) is the exact frame the plan was made on.

    Compares the SOP Instance UID, that the frame exists, and the frame's pixel SHA-256.  Raises
    :class:`ImageBindingError` on a mismatch unless ``force``; returns the mismatches (empty if none).
    """
    problems: list[str] = []
    info = image.info
    b = plan.image
    if b.sop_instance_uid and info.sop_instance_uid and b.sop_instance_uid != info.sop_instance_uid:
        problems.append(f"SOP Instance UID {info.sop_instance_uid} is not the plan's {b.sop_instance_uid}")
    if b.frame_index >= info.frames:
        problems.append(f"the plan is on frame {b.frame_index} but the image has {info.frames} frame(s)")
    elif b.pixel_sha256:
        actual = image.frame_sha256(b.frame_index)
        if actual != b.pixel_sha256:
            problems.append(f"frame {b.frame_index} pixel SHA-256 {actual[:12]}... differs from the plan's "
                            f"{b.pixel_sha256[:12]}...")
    if problems and not force:
        raise ImageBindingError("this image is not the one the plan was made on: " + "; ".join(problems)
                                + " (open the plan's own image, or force to override)")
    return tuple(problems)
