"""Calibration values: :class:`UltrasoundRegion`, :class:`Calibration`, region lookup, manual.

See the package docstring (:mod:`needleplan.calibration`) for the policy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan.calibration._plausible import origin_problem, spacing_problem
from needleplan.errors import CalibrationError, PlanFormatError
from needleplan.vocabulary import CalibrationSource

__all__ = ["SOURCES", "UltrasoundRegion", "Calibration", "manual_calibration"]

#: The calibration source words (:class:`needleplan.vocabulary.CalibrationSource`), for messages.
SOURCES: tuple[str, ...] = tuple(s.value for s in CalibrationSource)
UNITS_CM = 3
SPATIAL_2D = 1
LENGTH_DATA_TYPES = (1, 2)  # tissue, colour flow


def points_array(index_px: Any) -> np.ndarray:
    """Return ``index_px`` as a float (N, 2) array (one point may be given as a pair)."""
    pts = np.asarray(index_px, dtype=float)
    if pts.ndim == 1 and pts.shape[0] == 2:
        pts = pts[np.newaxis, :]
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"expected points as (N, 2) (row, col), got shape {pts.shape}")
    return pts


def _pair(value: Any, name: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise PlanFormatError(f"calibration.{name}: expected [row, col] numbers, got {value!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise PlanFormatError(f"calibration.{name}: expected finite numbers, got {value!r}")
    return a, b


@dataclass(frozen=True, slots=True, kw_only=True)
class UltrasoundRegion:
    """One item of the Sequence of Ultrasound Regions (0018,6011), in ``(row, col)`` order.

    ``box_px`` is ``(min_row, min_col, max_row, max_col)``, inclusive, as stored.  ``problem`` is
    set by :func:`regions_from_dataset` when the box does not fit the image; such a region never
    calibrates.

    Examples
    --------
    A 2D tissue region at rows 60-518, cols 120-799, 0.0262 cm/px, reference pixel (36, 340):

    >>> r = UltrasoundRegion(index=0, box_px=(60, 120, 518, 799), spatial_format=1, data_type=1, flags=0,
    ...                      units_row=3, units_col=3, delta_row=0.0262, delta_col=0.0262,
    ...                      reference_px=(36.0, 340.0))
    >>> r.is_length_region, r.spacing_mm, r.origin_px
    (True, (0.262, 0.262), (96.0, 460.0))
    >>> r.contains([[96, 460], [10, 10]]).tolist()
    [True, False]
    """

    index: int
    box_px: tuple[int, int, int, int]
    spatial_format: int
    data_type: int
    flags: int
    units_row: int
    units_col: int
    delta_row: float
    delta_col: float
    reference_px: tuple[float, float] | None
    problem: str | None = None
    #: ReferencePixelPhysicalValueY in the row unit (cm for a length region): the depth the reference
    #: pixel stands for.  Almost always 0 (the reference pixel is on the skin line); when it is not,
    #: the row origin moves so that ``row_mm`` stays the depth below the skin.
    reference_value_row: float = 0.0

    @property
    def is_length_region(self) -> bool:
        """2D, tissue or colour flow, cm on both axes, non-zero deltas, box not degenerate."""
        r0, c0, r1, c1 = self.box_px
        return (
            self.spatial_format == SPATIAL_2D
            and self.data_type in LENGTH_DATA_TYPES
            and self.units_row == UNITS_CM
            and self.units_col == UNITS_CM
            and math.isfinite(self.delta_row)
            and math.isfinite(self.delta_col)
            and self.delta_row != 0.0
            and self.delta_col != 0.0
            and r0 < r1
            and c0 < c1
        )

    @property
    def is_usable(self) -> bool:
        """A length region whose box fits the image (``problem`` is None)."""
        return self.is_length_region and self.problem is None

    @property
    def spacing_mm(self) -> tuple[float, float] | None:
        """``(|dY| * 10, |dX| * 10)`` mm per pixel for a length region, else None."""
        if not self.is_length_region:
            return None
        return (round(abs(self.delta_row) * 10.0, 12), round(abs(self.delta_col) * 10.0, 12))

    @property
    def origin_px(self) -> tuple[float, float]:
        """Image index of world (0, 0) mm: box min + reference pixel (or the box min).

        When the reference pixel stands for a non-zero depth (``reference_value_row``, e.g. an image
        whose top starts 5 mm below the skin), the row origin moves to where the depth is zero:
        ``row0 = ref_row - value / delta_row``.  The column origin stays at the reference pixel (the
        centre of the probe face), docs/contracts.md §3.

        >>> r = UltrasoundRegion(index=0, box_px=(0, 0, 99, 99), spatial_format=1, data_type=1, flags=0,
        ...                      units_row=3, units_col=3, delta_row=0.01, delta_col=0.01,
        ...                      reference_px=(10.0, 50.0), problem=None, reference_value_row=0.5)
        >>> r.origin_px   # 0.5 cm at row 10 with 0.01 cm/px: depth 0 lies 50 rows above
        (-40.0, 50.0)
        """
        r0, c0 = float(self.box_px[0]), float(self.box_px[1])
        if self.reference_px is None:
            return (r0, c0)
        row = r0 + self.reference_px[0]
        if self.reference_value_row and self.delta_row and math.isfinite(self.reference_value_row):
            row -= self.reference_value_row / self.delta_row
        return (row, c0 + self.reference_px[1])

    @property
    def area_px(self) -> int:
        r0, c0, r1, c1 = self.box_px
        return max(r1 - r0 + 1, 0) * max(c1 - c0 + 1, 0)

    def contains(self, index_px: Any) -> np.ndarray:
        """Which points (N, 2) ``(row, col)`` lie in the box (pixel ``i`` spans ``i +/- 0.5``)."""
        pts = points_array(index_px)
        r0, c0, r1, c1 = self.box_px
        return (pts[:, 0] >= r0 - 0.5) & (pts[:, 0] <= r1 + 0.5) & (pts[:, 1] >= c0 - 0.5) & (pts[:, 1] <= c1 + 0.5)

    def describe(self) -> str:
        r0, c0, r1, c1 = self.box_px
        return f"region {self.index} (rows {r0}-{r1}, cols {c0}-{c1})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """How image indices map to world millimetres, and where that came from.

    Examples
    --------
    Region origin at (96, 460), 0.25 mm/px down the rows and 0.2 mm/px across:

    >>> cal = Calibration(source="US_REGION", spacing_mm=(0.25, 0.2), origin_px=(96.0, 460.0), region_index=0,
    ...                   region_box_px=(60, 120, 518, 799), reason="region 0")
    >>> cal.px_to_mm([[136.0, 410.0]]).tolist()   # (136-96)*0.25, (410-460)*0.2
    [[10.0, -10.0]]
    >>> cal.mm_to_px([[10.0, -10.0]]).tolist()
    [[136.0, 410.0]]
    >>> Calibration.from_dict(cal.to_dict()) == cal
    True
    >>> none = Calibration(source="NONE", spacing_mm=None, origin_px=(0.0, 0.0), region_index=None,
    ...                    region_box_px=None, reason="no calibration in the file")
    >>> none.is_calibrated
    False
    """

    source: str
    spacing_mm: tuple[float, float] | None
    origin_px: tuple[float, float]
    region_index: int | None
    region_box_px: tuple[int, int, int, int] | None
    reason: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise CalibrationError(f"unknown calibration source {self.source!r}; expected one of {SOURCES}")
        if self.source == "NONE":
            if self.spacing_mm is not None:
                raise CalibrationError("a NONE calibration cannot have a spacing")
        else:
            sp = self.spacing_mm
            if sp is None or len(sp) != 2 or not all(math.isfinite(v) and v > 0 for v in sp):
                raise CalibrationError(
                    f"{self.source} calibration needs two positive finite mm/px spacings, got {sp!r}"
                )
        if self.source == "US_REGION" and self.region_index is None:
            raise CalibrationError("a US_REGION calibration needs its region_index")

    @property
    def is_calibrated(self) -> bool:
        """True when lengths in millimetres are available."""
        return self.source != "NONE"

    def _require(self) -> np.ndarray:
        if self.spacing_mm is None:
            raise CalibrationError(
                f"no length calibration ({self.reason}); calibrate with two points of known distance"
            )
        return np.asarray(self.spacing_mm, dtype=float)

    def px_to_mm(self, index_px: Any) -> np.ndarray:
        """World mm ``(row, col)`` of image indices, shape as given ((2,) or (N, 2))."""
        spacing = self._require()
        arr = np.asarray(index_px, dtype=float)
        pts = points_array(arr)
        out = (pts - np.asarray(self.origin_px)) * spacing
        return out.reshape(arr.shape)

    def mm_to_px(self, world_mm: Any) -> np.ndarray:
        """Image indices ``(row, col)`` of world mm, shape as given ((2,) or (N, 2))."""
        spacing = self._require()
        arr = np.asarray(world_mm, dtype=float)
        pts = points_array(arr)
        out = pts / spacing + np.asarray(self.origin_px)
        return out.reshape(arr.shape)

    def to_dict(self) -> dict[str, Any]:
        """The plan file's ``calibration`` object (docs/contracts.md §4)."""
        return {
            "source": self.source,
            "spacing_mm": None if self.spacing_mm is None else list(self.spacing_mm),
            "origin_px": list(self.origin_px),
            "region_index": self.region_index,
            "region_box_px": None if self.region_box_px is None else list(self.region_box_px),
            "reason": self.reason,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Calibration:
        """Read a plan's ``calibration`` object; :class:`PlanFormatError` names a bad field."""
        if not isinstance(d, Mapping):
            raise PlanFormatError(f"calibration: expected an object, got {type(d).__name__}")
        source = d.get("source")
        if source not in SOURCES:
            raise PlanFormatError(f"calibration.source: expected one of {list(SOURCES)}, got {source!r}")
        spacing = d.get("spacing_mm")
        spacing_t = None if spacing is None else _pair(spacing, "spacing_mm")
        origin = _pair(d.get("origin_px", (0.0, 0.0)), "origin_px")
        region_index = d.get("region_index")
        if region_index is not None and (isinstance(region_index, bool) or not isinstance(region_index, int)):
            raise PlanFormatError(f"calibration.region_index: expected an integer or null, got {region_index!r}")
        box = d.get("region_box_px")
        box_t: tuple[int, int, int, int] | None = None
        if box is not None:
            if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(isinstance(v, int) for v in box):
                raise PlanFormatError(f"calibration.region_box_px: expected 4 integers, got {box!r}")
            box_t = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        notes = d.get("notes") or ()
        if not isinstance(notes, (list, tuple)) or not all(isinstance(n, str) for n in notes):
            raise PlanFormatError(f"calibration.notes: expected a list of strings, got {notes!r}")
        reason = d.get("reason") or f"{source} calibration from the plan file"
        try:
            return cls(
                source=source,
                spacing_mm=spacing_t,
                origin_px=origin,
                region_index=region_index,
                region_box_px=box_t,
                reason=str(reason),
                notes=tuple(notes),
            )
        except CalibrationError as exc:
            raise PlanFormatError(f"calibration: {exc}") from None


def manual_calibration(
    p0_px: Any, p1_px: Any, distance_mm: float, *, origin_px: tuple[float, float] = (0.0, 0.0)
) -> Calibration:
    """Square-pixel calibration from two points ``(row, col)`` a known distance apart.

    Examples
    --------
    Two 1 cm ticks of the depth ruler, 40 px apart down the rows: 10 mm / 40 px = 0.25 mm/px.

    >>> cal = manual_calibration((100, 20), (140, 20), 10.0)
    >>> cal.source, cal.spacing_mm
    ('MANUAL', (0.25, 0.25))
    """
    p0, p1 = points_array(p0_px)[0], points_array(p1_px)[0]
    d = float(distance_mm)
    if not (math.isfinite(d) and d > 0):
        raise CalibrationError(f"the known distance must be a positive number of mm, got {distance_mm!r}")
    px = float(np.hypot(*(p1 - p0)))
    if not math.isfinite(px) or px < 1.0:
        raise CalibrationError(f"the two calibration points are {px:.2f} px apart; pick points at least 1 px apart")
    mm_per_px = d / px
    implausible = spacing_problem((mm_per_px, mm_per_px)) or origin_problem(origin_px, None, None)
    if implausible:
        raise CalibrationError(
            f"manual calibration {px:.1f} px = {d:g} mm refused: {implausible}; "
            "check the distance in mm and pick two marks of a known scale"
        )
    return Calibration(
        source="MANUAL",
        spacing_mm=(mm_per_px, mm_per_px),
        origin_px=(float(origin_px[0]), float(origin_px[1])),
        region_index=None,
        region_box_px=None,
        reason=f"manual: {px:.1f} px = {d:g} mm ({mm_per_px:.4g} mm/px, square pixels assumed)",
    )
