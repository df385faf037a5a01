"""``needleplan detect IMAGE [--frame N | --cine] [--site SITE] [--json] [--into PLAN] [--any-modality]``.

Prints the assisted-marking suggestions (skin, fascia, ribs, pleura, vessels) of one frame or a
cine.  ``--into PLAN`` adds them to an existing plan as suggestions (``suggested: true``), replacing
the suggestions of an earlier run and keeping every accepted mark; the plan is saved atomically.
A DICOM that is not ultrasound (CT, MR ...) is refused unless ``--any-modality`` is given.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import numpy as np

from needleplan.cli._output import print_json
from needleplan.errors import CalibrationError, ImageBindingError, UnknownPresetError

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``detect`` subcommand."""
    p = subparsers.add_parser(
        "detect",
        help="suggest skin, fascia, ribs, pleura and vessels on a frame or a cine",
        description="Suggest structures by classical image analysis (suggestions only: a physician "
        "accepts or corrects them). Millimetres only for a calibrated image.",
    )
    p.add_argument("image", help="ultrasound DICOM file (or PNG/JPEG: pixels only)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--frame",
        type=int,
        default=None,
        metavar="N",
        help="frame to analyse (default: 0, or the plan's frame with --into)",
    )
    group.add_argument(
        "--cine", action="store_true", help="analyse every frame: lung sliding and artery/vein pulsation"
    )
    p.add_argument("--site", default=None, help="site profile id (names a shadow-casting bone rib or bone)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--into", metavar="PLAN", default=None, help="add the suggestions to this plan file (saved atomically)"
    )
    p.add_argument(
        "--any-modality",
        action="store_true",
        help="run on a DICOM whose modality is not ultrasound (CT, MR ...): the results mean little",
    )
    p.set_defaults(func=run)


def _depth_text(det: Any, structure: Any | None) -> str:
    if structure is None:
        rows = np.asarray(det.points_px)[:, 0]
        return f"rows {rows.min():.0f}-{rows.max():.0f} px"
    rows = np.asarray(structure.points_mm)[:, 0]
    return f"{rows.min():.1f}-{rows.max():.1f} mm deep"


def run(args: argparse.Namespace) -> int:
    """Run ``needleplan detect``."""
    from needleplan.clinical import SITE_PROFILES
    from needleplan.detect import detect_image, structure_dicts, to_structures
    from needleplan.io import open_image
    from needleplan.plan import load_plan, save_plan, verify_binding

    if args.site is not None and args.site not in SITE_PROFILES:  # a typo must not drop the rib rules
        raise UnknownPresetError(f"unknown site {args.site!r}; choose one of: {', '.join(SITE_PROFILES)}")
    image = open_image(args.image)
    plan = load_plan(args.into) if args.into else None
    frame = args.frame
    site = args.site
    if plan is not None:
        bound = plan.image.frame_index
        if frame is not None and frame != bound:
            raise ImageBindingError(
                f"the plan is drawn on frame {bound}, not frame {frame}: omit --frame to detect on the plan's frame"
            )
        frame = bound
        verify_binding(plan, image)
        site = site or plan.site
    # with --into, the plan's calibration (it may be a manual one) sets both the filter sizes and mm
    calibration = plan.calibration if plan is not None else image.info.calibration
    result = detect_image(
        image, frame=frame, cine=args.cine, site=site, calibration=calibration, any_modality=args.any_modality
    )
    structures = None
    reason = None
    try:
        structures = to_structures(result, calibration)
    except CalibrationError as exc:
        if plan is not None:
            raise
        reason = str(exc)
    replaced = 0
    if plan is not None:
        assert structures is not None  # with --into, a calibration error was raised above
        kept = tuple(s for s in plan.structures if not s.suggested)
        replaced = len(plan.structures) - len(kept)
        save_plan(replace(plan, structures=kept + tuple(structures)), args.into)
    if args.json:
        out: dict[str, Any] = {
            "image": args.image,
            "frame_index": result.frame_index,
            "cine": bool(args.cine),
            "calibrated": structures is not None,
            "structures": structure_dicts(structures) if structures is not None else [],
            "detections_px": [d.to_dict() for d in result.detections],
            "notes": list(result.notes),
        }
        if reason:
            out["uncalibrated_reason"] = reason
        if plan is not None:
            out["into"] = {"plan": args.into, "added": len(structures or ()), "replaced_suggestions": replaced}
        print_json(out)
        return 0
    print(
        f"{args.image}: frame {result.frame_index}{' (cine)' if args.cine else ''}, "
        f"{len(result.detections)} suggestion(s)"
    )
    if reason:
        print(f"  no millimetres: {reason}")
    for i, det in enumerate(result.detections):
        s = structures[i] if structures is not None else None
        print(f"  {det.kind:<7} {det.confidence:4.2f}  {_depth_text(det, s):<22} {det.evidence}")
    for note in result.notes:
        print(f"  note: {note}")
    if plan is not None:
        print(
            f"added {len(structures or ())} suggestion(s) to {args.into}"
            + (f" (replacing {replaced} earlier suggestion(s))" if replaced else "")
        )
    return 0
