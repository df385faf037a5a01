"""``needleplan report PLAN -o report.pdf|.png|.html``: a printable report of a plan.

PLAN is a plan file, or the id of a plan in the library (``--library DIR``).  The image is
``--image IMAGE``, else the plan's ``image.path`` (relative to the plan file); it must be the frame
the plan was made on.  Without the image the marks are drawn on a blank field and the report says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needleplan.cli._library_args import add_library_option

if TYPE_CHECKING:  # imported when the command runs
    import numpy as np

    from needleplan.plan import Plan
    from needleplan.report import ImageIdentity

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write a printable report (PDF, PNG or HTML)")
    parser.add_argument("plan", help="plan file, or a library plan id")
    parser.add_argument("-o", "--output", required=True, help="report.pdf, report.png or .html")
    parser.add_argument("--image", help="the image the plan was made on")
    add_library_option(parser)
    parser.set_defaults(func=_report)


def _library_facts(
    args: argparse.Namespace, plan_id: int, plan: Plan
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(sign-off, prior plans for the same patient and site) from the library."""
    from needleplan.cli._library_args import open_library
    from needleplan.library.records import plan_summary
    from needleplan.plan import plan_to_dict
    from needleplan.report.clinical import signoff_from_history

    with open_library(args) as lib:
        record = lib.record(plan_id)
        signoff = signoff_from_history(record, lib.history(plan_id))
        summary = plan_summary(plan_to_dict(plan))
        priors = []
        if summary["patient_id"]:
            priors = [
                row for row in lib.list_plans(patient_id=summary["patient_id"], site=plan.site) if row["id"] != plan_id
            ]
    return signoff, sorted(priors, key=lambda row: str(row.get("created")))


def _load(args: argparse.Namespace) -> tuple[Plan, dict[str, Any] | None, list[Any], Path]:
    """(plan, record, library findings, folder to resolve the image path from)."""
    import json

    from needleplan.plan import load_plan, plan_from_dict

    path = Path(args.plan)
    record: dict[str, Any] | None
    if not path.exists() and args.plan.isdigit():
        from needleplan.cli._library_args import open_library
        from needleplan.library.records import library_block

        with open_library(args) as lib:
            record = lib.record(int(args.plan))
            body = lib.load(int(args.plan))
        block = library_block(body)
        body.pop("library", None)
        return plan_from_dict(body), record, block.get("findings") or [], Path.cwd()
    plan = load_plan(path)
    record = None
    extra: list[Any] = []
    block = json.loads(path.read_text(encoding="utf-8")).get("library")
    if isinstance(block, dict) and block.get("plan_id"):
        try:
            from needleplan.cli._library_args import open_library

            with open_library(args) as lib:
                record = lib.record(int(block["plan_id"]))
        except Exception:  # the library is elsewhere: the report says "not in a plan library"
            record = None
        extra = block.get("findings") or []
    return plan, record, extra, path.parent


def _frame(plan: Plan, image_arg: str | None, folder: Path) -> tuple[np.ndarray | None, str | None, ImageIdentity]:
    """(frame or None, note, identity) for the plan's image; ImageBindingError if another image."""
    from needleplan.cli._plan_image import plan_image_path
    from needleplan.io import find_first_image, open_image
    from needleplan.plan import verify_binding
    from needleplan.report import ImageIdentity, image_identity

    candidate = plan_image_path(plan, folder, image_arg)
    if candidate is None:
        return None, "The plan names no image: the marks are drawn without it.", ImageIdentity()
    if not candidate.exists():
        if image_arg:
            raise FileNotFoundError(f"image {candidate} not found")
        return (
            None,
            (f"Image {candidate} not found: the marks are drawn without it (give --image IMAGE)."),
            ImageIdentity(),
        )
    image = open_image(candidate)
    verify_binding(plan, image)  # a plan for another image or frame is refused, as check --image
    header = find_first_image(candidate) if candidate.is_dir() else candidate
    return image.frame(plan.image.frame_index), None, image_identity(header)


def _report(args: argparse.Namespace) -> int:
    from needleplan.report import write_report

    plan, record, extra, folder = _load(args)
    frame, note, identity = _frame(plan, args.image, folder)
    signoff: dict[str, Any] | None = None
    priors: list[dict[str, Any]] = []
    if record is not None:
        signoff, priors = _library_facts(args, int(record["id"]), plan)
    pages = write_report(
        plan,
        args.output,
        frame=frame,
        record=record,
        library_findings=extra,
        image_note=note,
        identity=identity,
        signoff=signoff,
        priors=priors,
    )
    print(f"report written to {args.output} ({pages} page{'s' if pages != 1 else ''})")
    return 0
