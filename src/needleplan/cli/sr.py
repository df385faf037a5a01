"""``needleplan sr export PLAN -o plan_sr.dcm [--image IMAGE]`` and ``sr import SR.dcm -o PLAN``.

The SR (DICOM Comprehensive SR, TID 1500) references the plan's image and frame; the image is
``--image``, else the plan's ``image.path`` relative to the plan file.
"""

from __future__ import annotations

import argparse
import errno
import os

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sr", help="export a plan as DICOM SR (TID 1500) or import one")
    sub = parser.add_subparsers(dest="sr_command", metavar="ACTION", required=True)
    export = sub.add_parser("export", help="write the plan as a DICOM Comprehensive SR")
    export.add_argument("plan")
    export.add_argument("-o", "--output", required=True)
    export.add_argument("--image", help="the DICOM image the plan was made on")
    export.set_defaults(func=_export)
    imp = sub.add_parser("import", help="read an SR back into a plan file")
    imp.add_argument("sr")
    imp.add_argument("-o", "--output", required=True)
    imp.add_argument("--image", help="the image an SR from another tool refers to (calibration)")
    imp.set_defaults(func=_import)


def _export(args: argparse.Namespace) -> int:
    from needleplan.cli._plan_image import plan_on_its_image
    from needleplan.sr import export_sr

    plan, plan_path, image_path = plan_on_its_image(args.plan, args.image)
    for own, what in ((plan_path, "the plan"), (image_path, "the ultrasound image")):
        if os.path.exists(args.output) and os.path.samefile(args.output, own):  # it would be lost
            raise FileExistsError(
                errno.EEXIST, f"is {what} itself; name the SR a new file, e.g. plan_sr.dcm", str(args.output)
            )
    out = export_sr(plan, image_path, args.output)
    print(f"SR written to {out} (references {image_path.name}, frame {plan.image.frame_index})")
    return 0


def _import(args: argparse.Namespace) -> int:
    from needleplan.plan import save_plan
    from needleplan.sr import import_sr

    plan = import_sr(args.sr, image_path=args.image)
    if os.path.exists(args.output) and os.path.samefile(args.output, args.sr):  # the SR would be lost
        raise FileExistsError(
            errno.EEXIST, "is the SR being read; name the plan a new file, e.g. plan.json", str(args.output)
        )
    save_plan(plan, args.output)
    print(
        f"plan written to {args.output} ({len(plan.structures)} structures, "
        f"{'a needle' if plan.needle else 'no needle'}, {len(plan.findings)} findings)"
    )
    return 0
