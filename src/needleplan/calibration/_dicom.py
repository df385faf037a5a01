"""Reading calibration from a pydicom dataset: ultrasound regions, PixelSpacing, ImagerPixelSpacing."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from needleplan.calibration._plausible import origin_problem, spacing_problem
from needleplan.calibration._values import Calibration, UltrasoundRegion

__all__ = ["regions_from_dataset", "calibration_from_dataset", "SPACING_AGREEMENT_REL"]

#: relative tolerance when comparing PixelSpacing with a region's spacing (1 %)
SPACING_AGREEMENT_REL = 0.01
_IMAGER_SPACING_MODALITIES = frozenset({"CR", "DX", "MG", "RF", "XA", "IO", "PX", "RG"})


def _int(item: Any, keyword: str, default: int = 0) -> int:
    value = item.get(keyword)
    return default if value is None or value == "" else int(value)


def _float(item: Any, keyword: str) -> float:
    value = item.get(keyword)
    return math.nan if value is None or value == "" else float(value)


def _image_problem(
    box: tuple[int, int, int, int], rows: int | None, cols: int | None
) -> tuple[tuple[int, int, int, int], str | None]:
    """Clamp an off-by-one box to the image; say why when the box does not fit it."""
    if not rows or not cols:
        return box, None
    r0, c0, r1, c1 = box
    if r0 >= rows or c0 >= cols or r1 > rows or c1 > cols:
        return box, (
            f"its box (rows {r0}-{r1}, cols {c0}-{c1}) lies outside the {rows}x{cols} image: "
            "the image was resized or cropped after calibration"
        )
    return (r0, c0, min(r1, rows - 1), min(c1, cols - 1)), None


def _region(i: int, item: Any, rows: int | None, cols: int | None) -> UltrasoundRegion:
    box = (
        _int(item, "RegionLocationMinY0"),
        _int(item, "RegionLocationMinX0"),
        _int(item, "RegionLocationMaxY1"),
        _int(item, "RegionLocationMaxX1"),
    )
    ref = None
    if item.get("ReferencePixelY0") is not None and item.get("ReferencePixelX0") is not None:
        ref = (float(item.ReferencePixelY0), float(item.ReferencePixelX0))
    _, problem = _image_problem(box, rows, cols)
    region = UltrasoundRegion(
        index=i,
        box_px=box,
        spatial_format=_int(item, "RegionSpatialFormat"),
        data_type=_int(item, "RegionDataType"),
        flags=_int(item, "RegionFlags"),
        units_row=_int(item, "PhysicalUnitsYDirection"),
        units_col=_int(item, "PhysicalUnitsXDirection"),
        delta_row=_float(item, "PhysicalDeltaY"),
        delta_col=_float(item, "PhysicalDeltaX"),
        reference_px=ref,
        problem=problem,
        reference_value_row=_reference_value(item, "ReferencePixelPhysicalValueY"),
    )
    if region.is_length_region and problem is None:
        implausible = spacing_problem((abs(region.delta_row) * 10.0, abs(region.delta_col) * 10.0)) or origin_problem(
            region.origin_px, rows, cols
        )
        if implausible:
            region = replace(region, problem=f"{implausible}: the calibration in the header is damaged")
    return region


def _reference_value(item: Any, keyword: str) -> float:
    value = item.get(keyword)
    try:
        value = float(value) if value not in (None, "") else 0.0
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def regions_from_dataset(ds: Any) -> tuple[UltrasoundRegion, ...]:
    """Read the Sequence of Ultrasound Regions of a pydicom dataset (empty tuple if absent).

    Boxes are kept as stored; a box that does not fit the image (beyond the usual off-by-one at
    the far edge) gets ``problem`` set.
    """
    seq = ds.get("SequenceOfUltrasoundRegions") if hasattr(ds, "get") else None
    if not seq:
        return ()
    rows, cols = ds.get("Rows"), ds.get("Columns")
    out = []
    for i, item in enumerate(seq):
        try:
            out.append(_region(i, item, rows, cols))
        except (TypeError, ValueError, AttributeError) as exc:  # a malformed item never calibrates
            out.append(
                UltrasoundRegion(
                    index=i,
                    box_px=(0, 0, 0, 0),
                    spatial_format=0,
                    data_type=0,
                    flags=0,
                    units_row=0,
                    units_col=0,
                    delta_row=math.nan,
                    delta_col=math.nan,
                    reference_px=None,
                    problem=f"malformed region item ({' '.join(str(exc).split())[:80]})",
                )
            )
    return tuple(out)


def _dataset_pixel_spacing(ds: Any) -> tuple[tuple[float, float] | None, str]:
    """PixelSpacing (top level or Enhanced shared functional groups), else ImagerPixelSpacing."""
    spacing = ds.get("PixelSpacing")
    where = "PixelSpacing"
    if spacing is None:
        try:
            spacing = ds.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing
            where = "PixelSpacing (shared functional groups)"
        except (AttributeError, IndexError, KeyError):
            spacing = None
    if spacing is None and str(ds.get("Modality", "")).upper() in _IMAGER_SPACING_MODALITIES:
        spacing = ds.get("ImagerPixelSpacing")
        where = "ImagerPixelSpacing (detector plane, magnification not corrected)"
    if spacing is None:
        return None, ""
    try:
        row, col = (float(v) for v in spacing)
    except (TypeError, ValueError):
        return None, f"{where} {spacing!r} is not two numbers"
    if not (math.isfinite(row) and math.isfinite(col) and row > 0 and col > 0):
        return None, f"{where} {spacing!r} is not two positive numbers"
    magnification = ds.get("EstimatedRadiographicMagnificationFactor")
    if where.startswith("ImagerPixelSpacing") and magnification and float(magnification) > 0:
        factor = float(magnification)
        row, col = row / factor, col / factor
        where = f"ImagerPixelSpacing / magnification {factor:g} (patient plane)"
    implausible = spacing_problem((row, col))
    if implausible:
        return None, f"{where} not used: {implausible}, so the header is damaged"
    return (row, col), where


def calibration_from_dataset(ds: Any) -> Calibration:
    """Choose the calibration of a pydicom dataset; never raises for a missing one (NONE + reason).

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset(); ds.Rows, ds.Columns, ds.PixelSpacing = 128, 128, [0.5, 0.4]
    >>> cal = calibration_from_dataset(ds)
    >>> cal.source, cal.spacing_mm, cal.origin_px
    ('PIXEL_SPACING', (0.5, 0.4), (0.0, 0.0))
    >>> calibration_from_dataset(Dataset()).reason
    'no Sequence of Ultrasound Regions and no PixelSpacing'
    """
    regions = regions_from_dataset(ds)
    usable = [r for r in regions if r.is_usable]
    refused = [r for r in regions if r.is_length_region and r.problem is not None]
    pixel_spacing, where = _dataset_pixel_spacing(ds)
    if usable:
        best = min(usable, key=lambda r: (-r.area_px, r.index))
        box, _ = _image_problem(best.box_px, ds.get("Rows"), ds.get("Columns"))
        notes: list[str] = []
        if box != best.box_px:
            notes.append(
                f"{best.describe()} reaches past the image edge (off by one); clamped to "
                f"rows {box[0]}-{box[2]}, cols {box[1]}-{box[3]}"
            )
        for other in usable:
            if other is not best:
                other_mm = other.spacing_mm
                assert other_mm is not None  # a usable region has a spacing
                notes.append(
                    f"{other.describe()} is another calibrated region ({other_mm[0]:.4g} x "
                    f"{other_mm[1]:.4g} mm/px, origin {other.origin_px}); measurements there use it"
                )
        for bad in refused:
            notes.append(f"{bad.describe()} not used: {bad.problem}")
        if best.reference_value_row and best.reference_px is not None:
            notes.append(
                f"the reference pixel of {best.describe()} stands for a depth of "
                f"{best.reference_value_row * 10:.4g} mm; depths are measured from the skin line "
                f"above it (row {best.origin_px[0]:.1f})"
            )
        spacing = best.spacing_mm
        assert spacing is not None
        reason = f"ultrasound {best.describe()}: {spacing[0]:.4g} x {spacing[1]:.4g} mm/px"
        if pixel_spacing is not None and not np.allclose(pixel_spacing, spacing, rtol=SPACING_AGREEMENT_REL):
            notes.append(
                f"{where} {pixel_spacing[0]:.4g} x {pixel_spacing[1]:.4g} mm disagrees with "
                f"{best.describe()} ({spacing[0]:.4g} x {spacing[1]:.4g} mm); the region is used"
            )
        elif pixel_spacing is not None:
            reason += f"; {where} agrees"
        return Calibration(
            source="US_REGION",
            spacing_mm=spacing,
            origin_px=best.origin_px,
            region_index=best.index,
            region_box_px=box,
            reason=reason,
            notes=tuple(notes),
        )
    if refused:
        why = "; ".join(f"{r.describe()}: {r.problem}" for r in refused)
        distrust = f" ({where} not trusted either: it comes from the same header)" if pixel_spacing else ""
        return Calibration(
            source="NONE",
            spacing_mm=None,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason=f"refused to calibrate from {why}{distrust}; calibrate manually with two points of known distance",
        )
    if pixel_spacing is not None:
        spacing_notes: tuple[str, ...] = ()
        if where.startswith("ImagerPixelSpacing (detector"):
            spacing_notes = (
                "ImagerPixelSpacing is at the detector; sizes in the patient are smaller by the magnification",
            )
        if regions:
            spacing_notes += (
                f"the {len(regions)} ultrasound region(s) give no lengths in cm; {where} is used instead",
            )
        return Calibration(
            source="PIXEL_SPACING",
            spacing_mm=pixel_spacing,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            notes=spacing_notes,
            reason=f"{where}: {pixel_spacing[0]:.4g} x {pixel_spacing[1]:.4g} mm/px",
        )
    if where:  # a PixelSpacing that is not usable
        return Calibration(
            source="NONE",
            spacing_mm=None,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason=f"{where}; calibrate manually",
        )
    if regions:
        kinds = ", ".join(
            f"{r.index} (format {r.spatial_format}, type {r.data_type}, units {r.units_row}/{r.units_col})"
            for r in regions
        )
        return Calibration(
            source="NONE",
            spacing_mm=None,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason=f"no ultrasound region gives lengths in cm (regions {kinds}) and no PixelSpacing",
        )
    return Calibration(
        source="NONE",
        spacing_mm=None,
        origin_px=(0.0, 0.0),
        region_index=None,
        region_box_px=None,
        reason="no Sequence of Ultrasound Regions and no PixelSpacing",
    )
