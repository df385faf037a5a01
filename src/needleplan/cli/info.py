"""``needleplan info IMAGE [--json]``: header, regions and calibration; decodes no pixels."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run", "info_dict"]

SPATIAL_FORMATS = {0: "none", 1: "2D", 2: "M-mode", 3: "spectral", 4: "waveform", 5: "graphics"}
DATA_TYPES = {
    0: "none",
    1: "tissue",
    2: "color flow",
    3: "PW Doppler",
    4: "CW Doppler",
    10: "ECG",
    11: "pulse",
    13: "gray bar",
    14: "color bar",
}
UNITS = {
    0: "none",
    1: "percent",
    2: "dB",
    3: "cm",
    4: "s",
    5: "Hz",
    6: "dB/s",
    7: "cm/s",
    8: "cm2",
    9: "cm2/s",
    10: "cm3",
    11: "cm3/s",
    12: "deg",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "info",
        help="show an image's size, frames, ultrasound regions and calibration",
        description="Show modality, size, frames, frame time, every ultrasound region and the "
        "calibration of an image (DICOM, PNG/JPEG, or a folder's first image). "
        "Reads the header only.",
    )
    parser.add_argument("image", metavar="IMAGE", help="DICOM file, PNG/JPEG image, or folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def info_dict(info: Any) -> dict[str, Any]:
    """The ``--json`` object (docs/contracts.md §6)."""
    cal = info.calibration
    return {
        "path": info.path,
        "modality": info.modality,
        "rows": info.rows,
        "columns": info.columns,
        "frames": info.frames,
        "frame_time_ms": info.frame_time_ms,
        "samples_per_pixel": info.samples_per_pixel,
        "photometric": info.photometric,
        "transfer_syntax_uid": info.transfer_syntax_uid,
        "sop_instance_uid": info.sop_instance_uid,
        "regions": [
            {
                "index": r.index,
                "box_px": list(r.box_px),
                "spatial_format": r.spatial_format,
                "data_type": r.data_type,
                "units": [r.units_row, r.units_col],
                "spacing_mm": None if r.spacing_mm is None else list(r.spacing_mm),
                "origin_px": list(r.origin_px),
                "flags": r.flags,
                "problem": r.problem,
            }
            for r in info.regions
        ],
        "calibration": {
            "source": cal.source,
            "spacing_mm": None if cal.spacing_mm is None else list(cal.spacing_mm),
            "origin_px": None if cal.spacing_mm is None else list(cal.origin_px),
            "region_index": cal.region_index,
            "region_box_px": None if cal.region_box_px is None else list(cal.region_box_px),
            "reason": cal.reason,
            "notes": list(cal.notes),
        },
        "notes": list(info.notes),
    }


def _region_line(r: Any) -> str:
    r0, c0, r1, c1 = r.box_px
    kind = f"{SPATIAL_FORMATS.get(r.spatial_format, r.spatial_format)} {DATA_TYPES.get(r.data_type, r.data_type)}"
    units = f"{UNITS.get(r.units_row, r.units_row)}/{UNITS.get(r.units_col, r.units_col)}"
    scale = (
        f"{r.spacing_mm[0]:.4f} x {r.spacing_mm[1]:.4f} mm/px, origin ({r.origin_px[0]:g}, {r.origin_px[1]:g})"
        if r.spacing_mm
        else "no lengths"
    )
    line = f"  {r.index}: rows {r0}-{r1}, cols {c0}-{c1}  {kind}  units (row/col) {units}  {scale}"
    return line + (f"  NOT USED: {r.problem}" if r.problem else "")


def run(args: argparse.Namespace) -> int:
    from needleplan.io import read_info

    info = read_info(args.image)
    if args.json:
        from needleplan.cli._output import print_json

        print_json(info_dict(info))
        return 0
    cal = info.calibration
    timing = f", frame time {info.frame_time_ms:g} ms" if info.frame_time_ms else ""
    lines = [
        f"image        {info.path}",
        f"modality     {info.modality or '-'}",
        f"size         {info.rows} rows x {info.columns} columns, {info.frames} frame(s){timing}",
        f"pixels       {info.photometric or '-'}, transfer syntax {info.transfer_syntax_uid or '-'}",
        f"regions      {len(info.regions) or 'none'}",
        *(_region_line(r) for r in info.regions),
    ]
    if cal.spacing_mm is not None:  # calibrated
        where = f" region {cal.region_index}" if cal.region_index is not None else ""
        lines.append(
            f"calibration  {cal.source}{where}: {cal.spacing_mm[0]:.4f} x {cal.spacing_mm[1]:.4f} "
            f"mm/px (row x col), origin ({cal.origin_px[0]:g}, {cal.origin_px[1]:g}) px"
        )
    else:
        lines.append("calibration  NONE: lengths in pixels only")
    lines.append(f"             {cal.reason}")
    lines.extend(f"  note: {n}" for n in (*cal.notes, *info.notes))
    print("\n".join(lines))
    return 0
