"""A plan object (dict) -> :class:`Plan`; a :class:`PlanFormatError` names the wrong field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, overload

from needleplan.calibration import Calibration
from needleplan.clinical.plausible_ranges import MAX_INJECTATES, MAX_LIST_ITEMS
from needleplan.errors import PlanFormatError
from needleplan.plan._limits import check_counts, check_nesting, finite_in_range, short_repr
from needleplan.plan._model import (
    APPROACHES,
    PLAN_FORMAT,
    PLAN_VERSION,
    ImageBinding,
    Injectate,
    Needle,
    Patient,
    Plan,
    Point,
    Structure,
)
from needleplan.vocabulary import StructureKind

_KINDS: tuple[str, ...] = tuple(k.value for k in StructureKind)

# ----------------------------------------------------------------------------- validation helpers


def _fail(where: str, expected: str, got: Any) -> PlanFormatError:
    return PlanFormatError(f"{where}: expected {expected}, got {short_repr(got)}")


def _get(d: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """``d[key]``; an optional field given as ``null`` means absent (docs/contracts.md §4)."""
    value = d.get(key)
    return default if value is None else value


def _obj(d: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(d, Mapping):
        raise _fail(where, "an object", d)
    return d


@overload
def _num(v: Any, where: str, range_key: str, *, optional: Literal[False] = False) -> float: ...
@overload
def _num(v: Any, where: str, range_key: str, *, optional: bool) -> float | None: ...
def _num(v: Any, where: str, range_key: str, *, optional: bool = False) -> float | None:
    """A finite number inside its physical range (``PLAN_RANGES[range_key]``)."""
    if v is None and optional:
        return None
    return finite_in_range(v, where, range_key)


@overload
def _int(v: Any, where: str, range_key: str, *, optional: Literal[False] = False) -> int: ...
@overload
def _int(v: Any, where: str, range_key: str, *, optional: bool) -> int | None: ...
def _int(v: Any, where: str, range_key: str, *, optional: bool = False) -> int | None:
    """A whole number inside its range (``PLAN_RANGES[range_key]``)."""
    if v is None and optional:
        return None
    finite_in_range(v, where, range_key, integer=True)
    return int(v)


def _typed(v: Any, where: str, kind: type, expected: str, optional: bool) -> Any:
    if v is None and optional:
        return None
    if not isinstance(v, kind):
        raise _fail(where, expected, v)
    return v


@overload
def _str(v: Any, where: str, *, optional: Literal[False]) -> str: ...
@overload
def _str(v: Any, where: str, *, optional: bool = True) -> str | None: ...
def _str(v: Any, where: str, *, optional: bool = True) -> str | None:
    return _typed(v, where, str, "a string", optional)


def _bool(v: Any, where: str, *, optional: bool = True) -> bool | None:
    return _typed(v, where, bool, "true or false", optional)


def _point(v: Any, where: str) -> Point:
    if (
        not isinstance(v, (list, tuple))
        or len(v) != 2
        or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in v)
    ):
        raise _fail(where, "[row_mm, col_mm] (two finite numbers)", v)
    return (finite_in_range(v[0], where, "coordinate_mm"), finite_in_range(v[1], where, "coordinate_mm"))


def _extra(d: Mapping[str, Any], known: tuple[str, ...]) -> Mapping[str, Any]:
    return {k: v for k, v in d.items() if k not in known}


# ----------------------------------------------------------------------------- from / to dict

_STRUCTURE_KEYS = ("kind", "points_mm", "closed", "frame_index", "label", "suggested", "confidence", "evidence")
_NEEDLE_KEYS = ("entry_mm", "target_mm", "length_mm", "gauge")
_PATIENT_KEYS = ("bmi", "weight_kg", "sex", "lung_disease", "anticoagulated")
_INJECTATE_KEYS = ("drug", "concentration_pct", "volume_ml", "epinephrine")
_IMAGE_KEYS = ("path", "sop_instance_uid", "frame_index", "pixel_sha256")
_TOP_KEYS = (
    "format",
    "version",
    "image",
    "calibration",
    "site",
    "approach",
    "patient",
    "structures",
    "needle",
    "injectate",
    "author",
    "created",
    "notes",
    "findings",
    "metrics",
)


def _structure(d: Any, where: str) -> Structure:
    d = _obj(d, where)
    kind = d.get("kind")
    if kind not in _KINDS:
        raise _fail(f"{where}.kind", f"one of {list(_KINDS)}", kind)
    pts = _get(d, "points_mm")
    if not isinstance(pts, (list, tuple)) or not pts:
        raise _fail(f"{where}.points_mm", "a non-empty list of [row_mm, col_mm] pairs", pts)
    points = tuple(_point(p, f"{where}.points_mm[{i}]") for i, p in enumerate(pts))
    closed = _bool(_get(d, "closed", False), f"{where}.closed", optional=False)
    if closed and len(points) < 3:
        raise _fail(f"{where}.points_mm", "at least 3 points for a closed structure", pts)
    confidence = _num(d.get("confidence"), f"{where}.confidence", "structures.confidence", optional=True)
    return Structure(
        kind,
        points,
        bool(closed),
        _int(d.get("frame_index"), f"{where}.frame_index", "frame_index", optional=True),
        _str(d.get("label"), f"{where}.label"),
        bool(_bool(d.get("suggested", False), f"{where}.suggested")),
        confidence,
        _str(d.get("evidence"), f"{where}.evidence"),
        _extra(d, _STRUCTURE_KEYS),
    )


def _needle(d: Any) -> Needle:
    d = _obj(d, "needle")
    entry, target = _point(d.get("entry_mm"), "needle.entry_mm"), _point(d.get("target_mm"), "needle.target_mm")
    if entry == target:
        raise _fail("needle.target_mm", "a tip point different from needle.entry_mm", d.get("target_mm"))
    return Needle(
        entry,
        target,
        _num(d.get("length_mm"), "needle.length_mm", "needle.length_mm"),
        _int(d.get("gauge"), "needle.gauge", "needle.gauge", optional=True),
        _extra(d, _NEEDLE_KEYS),
    )


def _patient(d: Any) -> Patient:
    d = _obj(d, "patient")
    sex = _str(d.get("sex"), "patient.sex")
    if sex is not None and sex not in ("F", "M", "O"):
        raise _fail("patient.sex", "'F', 'M' or 'O'", sex)
    return Patient(
        _num(d.get("bmi"), "patient.bmi", "patient.bmi", optional=True),
        _num(d.get("weight_kg"), "patient.weight_kg", "patient.weight_kg", optional=True),
        sex,
        _bool(d.get("lung_disease"), "patient.lung_disease"),
        _bool(d.get("anticoagulated"), "patient.anticoagulated"),
        _extra(d, _PATIENT_KEYS),
    )


def _injectate(d: Any, where: str) -> Injectate:
    d = _obj(d, where)
    drug = _str(d.get("drug"), f"{where}.drug", optional=False)
    return Injectate(
        drug.strip().lower(),
        _num(d.get("concentration_pct"), f"{where}.concentration_pct", "injectate.concentration_pct"),
        _num(d.get("volume_ml"), f"{where}.volume_ml", "injectate.volume_ml"),
        bool(_bool(d.get("epinephrine", False), f"{where}.epinephrine")),
        _extra(d, _INJECTATE_KEYS),
    )


def _image(d: Any) -> ImageBinding:
    d = _obj(d, "image")
    if "frame_index" not in d:
        raise PlanFormatError("image.frame_index: expected an integer >= 0 (required), got nothing")
    return ImageBinding(
        _str(d.get("path"), "image.path"),
        _str(d.get("sop_instance_uid"), "image.sop_instance_uid"),
        _int(d.get("frame_index"), "image.frame_index", "frame_index"),
        _str(d.get("pixel_sha256"), "image.pixel_sha256"),
        _extra(d, _IMAGE_KEYS),
    )


def _calibration(d: Any) -> tuple[Calibration, Mapping[str, Any]]:
    """The plan's calibration, its numbers in range; a field given as ``null`` means absent."""
    d = _obj(d, "calibration")
    given = {k: v for k, v in d.items() if v is not None}
    for key in ("spacing_mm", "origin_px"):
        pair = given.get(key)
        if pair is None:
            continue
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _fail(f"calibration.{key}", "[row, col] (two numbers)", pair)
        for value in pair:
            finite_in_range(value, f"calibration.{key}", f"calibration.{key}")
    box = given.get("region_box_px")
    if isinstance(box, (list, tuple)) and len(box) == 4:
        for value in box:
            if isinstance(value, int):
                finite_in_range(value, "calibration.region_box_px", "calibration.region_box_px", integer=True)
    if isinstance(given.get("region_index"), int):
        finite_in_range(given["region_index"], "calibration.region_index", "calibration.region_index", integer=True)
    calibration = Calibration.from_dict(given)
    return calibration, _extra(d, tuple(calibration.to_dict()))


def _list(d: Mapping[str, Any], key: str, *, required: bool, cap: int | None = MAX_LIST_ITEMS) -> list:
    if key not in d:
        if required:
            raise PlanFormatError(f"{key}: expected a list (required, may be empty), got nothing")
        return []
    value = d[key]
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise _fail(key, "a list", value)
    if cap is not None and len(value) > cap:
        raise PlanFormatError(f"{key}: {len(value):,} items, more than a plan holds (at most {cap:,})")
    return value


def plan_from_dict(d: Any) -> Plan:
    """Validate a plan object and build a :class:`Plan`; :class:`PlanFormatError` names the bad field."""
    d = _obj(d, "plan")
    check_nesting(d)
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
    approach = _get(d, "approach", "in_plane")
    if approach not in APPROACHES:
        raise _fail("approach", f"one of {list(APPROACHES)}", approach)
    findings = _list(d, "findings", required=False)
    if not all(isinstance(f, Mapping) for f in findings):
        raise _fail("findings", "a list of finding objects", findings)
    metrics = d.get("metrics") or {}
    _obj(metrics, "metrics")
    probe = d.get("probe")  # optional, read by the probe-depth rule (R15)
    if isinstance(probe, Mapping) and probe.get("frequency_mhz") is not None:
        finite_in_range(probe["frequency_mhz"], "probe.frequency_mhz", "probe.frequency_mhz")
    calibration, calibration_extra = _calibration(d["calibration"])
    structures = _list(d, "structures", required=True, cap=None)
    check_counts(structures)  # structures and points, with their own caps
    return Plan(
        image=_image(d["image"]),
        calibration=calibration,
        site=site,
        approach=approach,
        patient=_patient(d["patient"]) if d.get("patient") is not None else Patient(),
        structures=tuple(_structure(s, f"structures[{i}]") for i, s in enumerate(structures)),
        needle=None if d["needle"] is None else _needle(d["needle"]),
        injectate=tuple(
            _injectate(x, f"injectate[{i}]")
            for i, x in enumerate(_list(d, "injectate", required=False, cap=MAX_INJECTATES))
        ),
        author=_str(d.get("author"), "author"),
        created=_str(d.get("created"), "created"),
        notes=_str(d.get("notes"), "notes"),
        findings=tuple(dict(f) for f in findings),
        metrics=dict(metrics),
        extra=_extra(d, _TOP_KEYS),
        calibration_extra=calibration_extra,
    )
