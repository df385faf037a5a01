"""A plan as a DICOM Comprehensive SR (TID 1500 Measurement Report), and back.

``export_sr`` writes the needle (POLYLINE with depth, path length, angle, needle length, deepest
safe insertion), every structure (POLYLINE or POLYGON) and every finding (TEXT), referencing the
source image and frame; ``import_sr`` reads it back into a plan.  Coordinates: SCOORD
``(column, row)`` in image pixels with (0, 0) at the top-left pixel's corner
(docs/ultrasound-calibration.md §7.1), converted through the plan's calibration.

Precision: SCOORD values are 32-bit floats, so a point comes back within about 1e-4 pixel of where
it was (at 0.1 mm pixels, 1e-5 mm); everything else comes back exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

from needleplan.errors import DicomReadError, PlanFormatError
from needleplan.plan import Plan
from needleplan.sr.export import plan_to_sr
from needleplan.sr.importer import sr_to_plan

__all__ = ["export_sr", "import_sr", "plan_to_sr", "sr_to_plan"]


def export_sr(plan: Plan, image_path: str | os.PathLike, output: str | os.PathLike) -> Path:
    """Write the SR of ``plan`` (made on the image at ``image_path``) to ``output``."""
    import pydicom

    try:
        source = pydicom.dcmread(image_path, stop_before_pixels=True)
        for _ in source.iterall():  # convert every element now: a damaged value fails here
            pass
    except Exception as exc:  # noqa: BLE001 - pydicom's parser raises many types on damaged bytes
        raise DicomReadError(
            f"{image_path}: cannot read the plan's image as DICOM "
            f"({' '.join(str(exc).split())[:160]}); an SR can only reference a DICOM image"
        ) from None
    sr = plan_to_sr(plan, source)
    output = Path(output)
    sr.save_as(output, enforce_file_format=True)
    return output


def import_sr(path: str | os.PathLike, *, image_path: str | os.PathLike | None = None) -> Plan:
    """Read an SR file back into a plan (``image_path`` gives the calibration of a foreign SR)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path)
        for _ in ds.iterall():  # convert every element now: a damaged value fails here, in one line
            pass
    except pydicom.errors.InvalidDicomError as exc:  # pydicom's text ends "Use force=True": not for users
        raise PlanFormatError(
            f"{path}: not a DICOM SR file (it has no DICOM header); give a structured report "
            "written by `needleplan sr export`"
        ) from exc
    except OSError:
        raise
    except Exception as exc:  # noqa: BLE001 - pydicom's parser raises many types on damaged bytes
        raise PlanFormatError(
            f"{path}: the SR file is damaged ({' '.join(str(exc).split())[:160]}); export the plan to SR again"
        ) from None
    if getattr(ds, "Modality", None) != "SR":
        raise PlanFormatError(
            f"{path}: modality {getattr(ds, 'Modality', None)!r} is not SR; "
            "give a structured report written by `needleplan sr export`"
        )
    calibration = None
    if image_path is not None:
        from needleplan.io import read_info

        calibration = read_info(image_path).calibration
    try:
        return sr_to_plan(ds, calibration=calibration)
    except PlanFormatError as exc:
        raise PlanFormatError(f"{path}: {exc}") from exc
