"""The plan's values: format constants and the frozen dataclasses of a plan (docs/contracts.md §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from needleplan.calibration import Calibration

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
    """A needle plan (docs/contracts.md §4).  ``findings``/``metrics`` are as last saved."""

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
