"""``needleplan deid IN OUT``: de-identify an ultrasound file or folder for teaching."""

from __future__ import annotations

import argparse
from pathlib import Path

from needleplan.cli._output import print_json
from needleplan.errors import DeidentificationError

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "deid",
        help="de-identify ultrasound DICOM (PS3.15 basic profile + clean pixel data)",
        description=(
            "Remove patient identity from DICOM headers (PS3.15 Basic Application Level "
            "Confidentiality Profile: consistent pseudonyms, dates shifted, UIDs remapped "
            "consistently across the run) and blank every pixel outside the calibrated "
            "ultrasound regions, where scanners burn in names and dates. The calibration is "
            "kept, so lengths measure as before. Output is uncompressed."
        ),
    )
    p.add_argument("input", metavar="IN", help="a DICOM file or a folder of them")
    p.add_argument(
        "output", metavar="OUT", help="output file (for one input file) or folder (files named by their new UID)"
    )
    p.add_argument(
        "--secret-file",
        metavar="PATH",
        help="file whose first line seeds pseudonyms, UIDs and the date shift "
        "(else $NEEDLEPLAN_DEID_SECRET, else a random secret for this run only)",
    )
    p.add_argument(
        "--allow-burned-in",
        action="store_true",
        help="write images that cannot be cleaned (no calibrated region, "
        "BurnedInAnnotation not NO), marked PatientIdentityRemoved NO",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
    p.epilog = (
        "Exit status: 0 all clean; 1 some file written but not clean (--allow-burned-in); "
        "2 bad input, or some file of a folder not written."
    )


def run(args: argparse.Namespace) -> int:
    from needleplan.deid import Deidentifier, deidentify_path, read_secret  # lazy: fast start-up

    secret, reproducible = read_secret(args.secret_file)
    deidentifier = Deidentifier(secret, allow_burned_in=args.allow_burned_in)
    output_existed = Path(args.output).exists()
    if Path(args.input).is_dir() and output_existed and Path(args.output).samefile(args.input):
        raise DeidentificationError(
            f"{args.output} is the input folder: identified and de-identified files "
            "would be mixed; choose another OUT folder"
        )
    results, skipped, failed = deidentify_path(args.input, args.output, deidentifier)
    if not results and not failed:  # a folder with no DICOM file in it: nothing was de-identified
        if not output_existed and Path(args.output).is_dir() and not any(Path(args.output).iterdir()):
            Path(args.output).rmdir()
        raise DeidentificationError(
            f"{args.input}: no DICOM file found ({len(skipped)} other file(s) skipped); "
            "give a DICOM file or a folder that holds DICOM images"
        )
    not_clean = [r for r in results if not r.clean]
    if args.json:
        print_json(
            {
                "files": [r.to_dict() for r in results],
                "skipped": skipped,
                "failed": [{"file": f, "reason": why} for f, why in failed],
                "reproducible_pseudonyms": reproducible,
                "all_clean": not not_clean and not failed,
            }
        )
    else:
        for r in results:
            print(f"{r.source} -> {r.output}: {r.note}")
        for s in skipped:
            print(f"{s}: skipped, not a DICOM file")
        for f, why in failed:
            print(f"{f}: NOT WRITTEN: {why}")
        if not reproducible:
            print(
                "pseudonyms come from a random secret: a later run will not match them "
                "(use --secret-file to keep them stable)"
            )
        if not_clean:
            print(f"WARNING: {len(not_clean)} file(s) are NOT de-identified in their pixels")
    if failed:
        return 2
    return 1 if not_clean else 0
