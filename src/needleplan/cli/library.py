"""``needleplan library``: add plans to the library, export a revision, record an outcome, verify.

``library add PLAN`` adds a new plan.  A plan file exported from the library (``library export``)
carries its plan id and revision, so adding it again saves a new revision of that plan, checked
against the revision it started from: if someone saved in between, nothing is overwritten and the
command says so.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from needleplan.cli._library_args import (
    add_archive_option,
    add_library_option,
    archive_mode,
    open_archive,
    open_library,
    refuse_by_in_archive,
    user_name,
)
from needleplan.cli._output import print_json
from needleplan.errors import PlanFormatError

if TYPE_CHECKING:  # imported when used: the command must start fast
    from needleplan.plan import Plan

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("library", help="the plan library: add, export, outcome, verify")
    sub = parser.add_subparsers(dest="library_command", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add a plan file (or a new revision of a library plan)")
    add.add_argument("plan", help="plan file (.plan.json)")
    add.add_argument("--image", help="verify the plan is bound to this image before adding")
    add.add_argument("--by", help="who saves it (default $NEEDLEPLAN_USER or the login name)")
    add.add_argument("--as-new", action="store_true", help="add as a new plan even if the file came from the library")
    add.add_argument(
        "--new-draft",
        type=int,
        metavar="ID",
        help="save as a new draft revision of plan ID (allowed for approved plans)",
    )
    add.add_argument("--json", action="store_true")
    add_library_option(add)
    add_archive_option(add)
    add.set_defaults(func=_add)

    export = sub.add_parser("export", help="write one revision of a library plan to a file")
    export.add_argument("id", type=int)
    export.add_argument("-o", "--output", required=True)
    export.add_argument("-r", "--revision", type=int)
    add_library_option(export)
    export.set_defaults(func=_export)

    outcome = sub.add_parser("outcome", help="record the outcome of a procedure")
    outcome.add_argument("id", type=int)
    outcome.add_argument("--pain-before", type=float, help="0-10 before the injection")
    outcome.add_argument("--pain-after", type=float, help="0-10 after the injection")
    outcome.add_argument("--relief-days", type=float, help="how long relief lasted, in days")
    outcome.add_argument("--complication", action="append", default=[], help="a complication (repeat for several)")
    outcome.add_argument("--by")
    outcome.add_argument("--json", action="store_true")
    add_library_option(outcome)
    outcome.set_defaults(func=_outcome)

    for name, helptext in (
        ("push", "store a local plan on the archive (a new revision if pushed before)"),
        ("pull", "copy an archive plan into the local library (a new revision if pulled before)"),
    ):
        action = sub.add_parser(name, help=helptext)
        action.add_argument("id", help="local plan id (push) or archive plan id (pull)")
        action.add_argument("--json", action="store_true")
        add_library_option(action)
        add_archive_option(action)
        action.set_defaults(func=_sync, sync=name)

    verify = sub.add_parser("verify", help="check the index against the files; --repair re-indexes")
    verify.add_argument("--repair", action="store_true")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    add_library_option(verify)
    verify.set_defaults(func=_verify)


def _read_library_block(path: Path) -> dict:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise PlanFormatError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    block = raw.get("library") if isinstance(raw, dict) else None
    return block if isinstance(block, dict) else {}


def _add(args: argparse.Namespace) -> int:
    from needleplan.plan import load_plan

    path = Path(args.plan)
    plan = load_plan(path)  # validates first: its message names the line or the field
    block = _read_library_block(path)
    if args.image:
        from needleplan.io import open_image
        from needleplan.plan import verify_binding

        verify_binding(plan, open_image(args.image))
    if archive_mode(args):
        return _add_to_archive(args, plan, block)
    by = user_name(args.by)
    with open_library(args, create=True) as lib:
        if args.new_draft is not None:
            ours = block.get("plan_id") == args.new_draft and block.get("library_uid") == lib.uid
            base = block.get("revision") if ours else None
            current = lib.record(args.new_draft)["revision"]
            row = lib.new_draft(args.new_draft, plan, expected_revision=base or current, saved_by=by)
        elif block.get("plan_id") and not args.as_new and block.get("library_uid") == lib.uid:
            row = lib.save(int(block["plan_id"]), plan, expected_revision=int(block["revision"]), saved_by=by)
        else:
            row = lib.add(plan, saved_by=by)
    _print_saved(args, row)
    return 0


def _add_to_archive(args: argparse.Namespace, plan: Plan, block: dict) -> int:
    """Store on the archive as the authenticated user: a new plan, or a new revision of the archive
    plan the file came from (checked against the step it was read at)."""
    from needleplan.errors import LibraryError

    refuse_by_in_archive(args, "by")
    if args.new_draft is not None:
        raise LibraryError(
            "--new-draft ID is for the local library; on the archive, add the file exported "
            "from the archive plan (it names the plan) or use --as-new"
        )
    with open_archive(args) as archive:
        if block.get("archive") and block.get("plan_id") and not args.as_new:
            row = archive.save(str(block["plan_id"]), plan, expected_seq=block.get("seq"))
        else:
            row = archive.add(plan)
    _print_saved(args, row)
    return 0


def _sync(args: argparse.Namespace) -> int:
    """push / pull: a conflict is reported (RevisionConflictError, exit 2), never merged."""
    from needleplan.archive.sync import pull, push
    from needleplan.errors import LibraryError

    if not archive_mode(args):
        raise LibraryError(f"library {args.sync} needs --archive URL (or bare --archive with NEEDLEPLAN_PACS_URL)")
    with open_library(args, create=True) as lib, open_archive(args) as archive:
        if args.sync == "push":
            from needleplan.cli._library_args import local_plan_id

            row = push(lib, archive, local_plan_id(args.id))
        else:
            row = pull(archive, lib, args.id, by=archive.user)
    if args.json:
        print_json(row)
    else:
        where = "archive" if args.sync == "push" else "local library"
        print(f"plan {row['id']} on the {where}: {row['outcome']} (revision {row['revision']}, {row['status']})")
    return 0


def _print_saved(args: argparse.Namespace, row: dict) -> None:
    if args.json:
        print_json(row)
    else:
        worst = f"{row['worst_severity']} {row['worst_code']}" if row["worst_code"] else "none"
        print(f"plan {row['id']} revision {row['revision']} saved ({row['status']}); worst finding: {worst}")


def _export(args: argparse.Namespace) -> int:
    from needleplan.library._files import publish_json

    out = Path(args.output)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file path such as plan.json", str(out))
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"folder {folder} does not exist; create it first", str(out))
    with open_library(args) as lib:
        body = lib.load(args.id, args.revision)
    # Publish beside the target, then rename over it: a file the user had there is replaced only
    # by a complete export, never deleted first and lost if the write fails.
    staged = out.with_name(f".{out.name}.{uuid.uuid4().hex}.export")
    publish_json(staged, body)
    try:
        os.replace(staged, out)
    except OSError:
        staged.unlink(missing_ok=True)
        raise
    print(f"plan {args.id} revision {body['library']['revision']} written to {out}")
    return 0


def _outcome(args: argparse.Namespace) -> int:
    from needleplan.errors import LibraryError
    from needleplan.library import Outcome

    if (
        args.pain_before is None and args.pain_after is None and args.relief_days is None and not args.complication
    ):  # an empty outcome replaced the one recorded before
        raise LibraryError("no outcome given: pass --pain-before, --pain-after, --relief-days or --complication")
    outcome = Outcome(
        pain_before=args.pain_before,
        pain_after=args.pain_after,
        relief_days=args.relief_days,
        complications=tuple(args.complication),
    )
    with open_library(args) as lib:
        row = lib.set_outcome(args.id, outcome, by=user_name(args.by))
    if args.json:
        print_json(row)
    else:
        poor = " (poor: later plans for this patient and site will say so)" if row["outcome_poor"] else ""
        print(f"plan {args.id}: outcome recorded: {row['outcome_summary']}{poor}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from needleplan.library import rebuild, verify
    from needleplan.library.layout import INDEX_NAME, default_library_dir

    root = Path(args.library) if args.library else default_library_dir()
    # opening for writing moves a damaged index aside and rebuilds it from the files; only --repair
    # may do that, and only where a library already is (a mistyped --library must not create one)
    create = bool(args.repair) and (root / INDEX_NAME).is_file()
    with open_library(args, create=create) as lib:
        kept = lib.rebuilt_from
        if kept is not None and not args.json:
            print(f"the damaged index was kept as {kept} and rebuilt from the plan files")
        problems = verify(lib)
        if problems and args.repair:
            rebuild(lib)
            problems = verify(lib)
    if args.json:
        print_json(
            {
                "library": str(root),
                "consistent": not problems,
                "problems": problems,
                "damaged_index_kept_as": None if kept is None else str(kept),
            }
        )
        return 0 if not problems else 1
    for line in problems:
        print(line)
    print("library consistent" if not problems else f"{len(problems)} problem(s)")
    return 0 if not problems else 1
