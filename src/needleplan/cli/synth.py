"""``needleplan synth``: write a synthetic ultrasound case with its ground truth and reference plan.

    needleplan synth --site upper_trapezius --habitus thin --frames 30 --seed 1 -o case.dcm

writes ``case.dcm``, ``case.truth.json`` (a plan file whose structures are the ground truth) and
``case.plan.json`` (a reference plan drawn the way a physician would).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from needleplan.cli._output import print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` subcommand."""
    from needleplan.synth import HABITUS, MODELS, SITE_PRESETS

    p = subparsers.add_parser(
        "synth",
        help="write a synthetic ultrasound case (DICOM + ground truth + reference plan)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--site", required=True, choices=list(SITE_PRESETS), help="site preset")
    p.add_argument("--habitus", default="average", choices=list(HABITUS), help="body habitus (default average)")
    p.add_argument("--frames", type=int, default=1, help="number of frames; more than 1 writes a cine (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same bytes (default 0)")
    p.add_argument("--probe", choices=("linear", "curvilinear"), default=None, help="override the site's probe")
    p.add_argument(
        "--model",
        choices=MODELS,
        default="smooth",
        help="image model: smooth (default, bit-for-bit reproducible) or physical "
        "(scatterers imaged through simulated point spread functions; needs pymust)",
    )
    p.add_argument(
        "--pressure",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="probe pressure: the fraction of the subcutaneous fat squeezed out, 0-0.6 (default 0)",
    )
    p.add_argument(
        "--fascia-bow",
        type=float,
        default=0.0,
        metavar="MM",
        help="how far the deep fasciae arch instead of running parallel to the skin, 0-6 mm (default 0)",
    )
    p.add_argument("--b-lines", type=int, default=0, metavar="N", help="B-lines under the pleura, 0-8 (default 0)")
    p.add_argument("--compression", choices=("none", "jpeg"), default="none", help="pixel encoding (default none)")
    p.add_argument("-o", "--output", required=True, type=Path, help="DICOM file to write (e.g. case.dcm)")
    p.add_argument("--json", action="store_true", help="print what was written as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate and write the case; print the paths."""
    from needleplan.synth import Variation, generate_case, write_case

    if args.frames < 1:
        raise ValueError(f"--frames must be at least 1, got {args.frames}")
    if args.seed < 0:
        raise ValueError(f"--seed must be 0 or more, got {args.seed}")
    if args.output.parent and not args.output.parent.exists():
        raise FileNotFoundError(f"folder {args.output.parent} does not exist; create it first")
    if args.output.is_dir():
        raise IsADirectoryError(f"{args.output} is a folder; give a file name such as {args.output / 'case.dcm'}")
    variation = Variation(pressure=args.pressure, fascia_bow_mm=args.fascia_bow, b_lines=args.b_lines)
    case = generate_case(
        args.site,
        args.habitus,
        frames=args.frames,
        seed=args.seed,
        probe=args.probe,
        model=args.model,
        variation=variation,
    )
    written = write_case(case, args.output, compression=args.compression)
    summary = {
        "dicom": str(written.dicom_path),
        "truth": str(written.truth_path),
        "plan": str(written.plan_path),
        "site": case.site,
        "preset": case.preset,
        "habitus": case.habitus,
        "model": case.model,
        "variation": case.variation.as_dict(),
        "frames": case.n_frames,
        "rows": int(case.frames.shape[1]),
        "columns": int(case.frames.shape[2]),
        "spacing_mm": list(case.spacing_mm),
        "origin_px": list(case.origin_px),
        "frame_time_ms": case.motion.frame_time_ms if case.n_frames > 1 else None,
        "sop_instance_uid": written.sop_instance_uid,
        "pixel_sha256": written.frame_sha256[0],
        "needle": case.needle,
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"wrote {written.dicom_path} ({case.n_frames} frame(s), {summary['rows']}x{summary['columns']}, "
            f"{case.spacing_mm[0]:.3f} mm/px, {args.compression})"
        )
        print(f"wrote {written.truth_path} (ground truth, {len(case.structures)} structures)")
        print(f"wrote {written.plan_path} (reference plan: {case.needle['length_mm']:.0f} mm needle)")
    return 0
