"""``needleplan review``: list saved plans, show one re-checked, submit, approve, request changes.

``needleplan review`` reads only the index (one SQLite query), so it stays fast on a large library.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from needleplan.cli._library_args import (
    add_archive_option,
    add_library_option,
    archive_mode,
    format_table,
    local_plan_id,
    open_archive,
    open_library,
    refuse_by_in_archive,
    user_name,
)
from needleplan.cli._output import print_json

if TYPE_CHECKING:  # imported when opened: listing must start fast
    from needleplan.archive import ArchiveLibrary
    from needleplan.library import Library

__all__ = ["register"]

_STATUSES = ("draft", "submitted", "approved", "changes_requested")
_TABLE_COLUMNS = ("id", "created", "site", "author", "status", "worst_severity", "worst_code")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("review", help="list saved plans; show, submit, approve them")
    parser.add_argument("--status", choices=_STATUSES)
    parser.add_argument("--site", help="a site profile id, e.g. rhomboid")
    parser.add_argument("--patient", help="patient or case id")
    parser.add_argument("--code", help="only plans with this finding code")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--json", action="store_true")
    add_library_option(parser)
    add_archive_option(parser)
    parser.set_defaults(func=_list)
    sub = parser.add_subparsers(dest="review_command", metavar="ACTION")

    show = sub.add_parser("show", help="one plan: findings saved and with the current rules")
    show.add_argument("id", help="plan id (a number; on the archive, the plan's Series Instance UID)")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    add_library_option(show, nested=True)
    add_archive_option(show, nested=True)
    show.set_defaults(func=_show)

    for name, helptext in (
        ("submit", "submit a draft for review"),
        ("approve", "approve a submitted plan (it becomes read-only)"),
        ("request-changes", "send a submitted plan back with a comment"),
    ):
        action = sub.add_parser(name, help=helptext)
        action.add_argument("id", help="plan id (a number; on the archive, the plan's Series Instance UID)")
        action.add_argument("--comment", required=name == "request-changes")
        action.add_argument(
            "--reviewer",
            "--by",
            dest="reviewer",
            help="reviewer name (default $NEEDLEPLAN_USER or the login name); "
            "refused with --archive, where the credentials say who you are",
        )
        action.add_argument("--revision", type=int, help="the revision you reviewed; refused if the plan changed since")
        action.add_argument(
            "--step",
            type=int,
            metavar="N",
            help="with --archive: the step you read (review show); refused if the plan changed since",
        )
        action.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        add_library_option(action, nested=True)
        add_archive_option(action, nested=True)
        action.set_defaults(func=_act, action=name.replace("-", "_"))


def _list(args: argparse.Namespace) -> int:
    filters = {
        "status": args.status,
        "site": args.site,
        "patient_id": args.patient,
        "code": args.code,
        "limit": args.limit,
    }
    if not args.json:  # the table needs seven columns of the index, nothing else
        filters["columns"] = _TABLE_COLUMNS
    with _open(args) as lib:
        rows = lib.list_plans(**filters)
    if args.json:
        print_json({"plans": rows, "count": len(rows)})
        return 0
    table = [
        [str(r["id"]), (r["created"] or "")[:10], str(r["site"] or ""), str(r["author"] or ""), r["status"], _worst(r)]
        for r in rows
    ]
    print(format_table(["id", "date", "site", "author", "status", "worst finding"], table))
    print(f"{len(rows)} plan(s)")
    return 0


def _worst(row: dict) -> str:
    if not row["worst_code"]:
        return "none"
    return f"{str(row['worst_severity']).upper()} {row['worst_code']}"


def _show(args: argparse.Namespace) -> int:
    from needleplan.errors import NeedleplanError
    from needleplan.library import format_side_by_side, recheck_plan
    from needleplan.library.records import library_block

    row, plan, history = _read_plan(args)
    try:
        result = recheck_plan(plan)
        recheck_error = None
    except NeedleplanError as exc:  # the current plan model refuses the saved file
        result, recheck_error = None, str(exc)
    extra = library_block(plan).get("findings") or []
    if args.json:
        print_json(
            {
                "plan": row,
                "findings_saved": plan.get("findings") or [],
                "library_findings": extra,
                "recheck": None
                if result is None
                else {
                    "changed": result.changed,
                    "findings": [
                        {"code": c.code, "change": c.change, "saved": c.saved, "current": c.current}
                        for c in result.findings
                    ],
                    "metrics": [
                        {"name": m.name, "change": m.change, "saved": m.saved, "current": m.current}
                        for m in result.metrics
                    ],
                },
                "recheck_error": recheck_error,
                "history": history,
            }
        )
        return 0
    step = f" (archive step {row['seq']})" if "seq" in row else ""
    print(
        f"plan {row['id']} revision {row['revision']}{step}: {row['site']} "
        f"({row['side'] or 'side not given'}), patient {row['patient_id'] or '-'}"
    )
    print(
        f"author {row['author'] or '-'}, created {row['created'] or '-'}, status {row['status']}"
        + (f", reviewer {row['reviewer']}" if row["reviewer"] else "")
    )
    if row["outcome_summary"]:
        print(f"outcome: {row['outcome_summary']}")
    for f in extra:
        print(f"{str(f['severity']).upper()} {f['code']}: {f['message']}")
    print()
    if result is None:
        print(f"could not re-check with the current rules: {recheck_error}")
        for f in plan.get("findings") or []:
            print(f"{str(f.get('severity')).upper()} {f.get('code')}: {f.get('message')}")
    else:
        print(format_side_by_side(result))
    comments = [e for e in history if e.get("comment")]
    if comments:
        print("\ncomments:")
        for e in comments:
            print(f"  {e['at']} {e['by']} ({e['action']}, revision {e['revision']}): {e['comment']}")
    return 0


def _open(args: argparse.Namespace) -> ArchiveLibrary | Library:
    return open_archive(args) if archive_mode(args) else open_library(args)


def _read_plan(args: argparse.Namespace) -> tuple[dict, dict, list[dict]]:
    """The index row, the saved plan and the history of plan ``args.id``: an archive plan id (a
    string), or a local library id (a number, refused before the library is opened)."""
    if archive_mode(args):
        with open_archive(args) as archive:
            return archive.record(args.id), archive.load(args.id), archive.history(args.id)
    plan_id = local_plan_id(args.id)
    with open_library(args) as lib:
        return lib.record(plan_id), lib.load(plan_id), lib.history(plan_id)


def _act(args: argparse.Namespace) -> int:
    if archive_mode(args):
        refuse_by_in_archive(args, "reviewer")
        with open_archive(args) as lib:
            name = lib.user
            kwargs = {"comment": args.comment, "expected_revision": args.revision, "expected_seq": args.step}
            row = getattr(lib, args.action)(args.id, **kwargs)
    else:
        name = user_name(args.reviewer)
        plan_id = local_plan_id(args.id)
        with open_library(args) as lib:
            if args.action == "submit":
                row = lib.submit(plan_id, by=name, comment=args.comment, expected_revision=args.revision)
            elif args.action == "approve":
                row = lib.approve(plan_id, reviewer=name, comment=args.comment, expected_revision=args.revision)
            else:
                row = lib.request_changes(plan_id, reviewer=name, comment=args.comment, expected_revision=args.revision)
    if args.json:
        print_json(row)
    else:
        print(f"plan {row['id']} revision {row['revision']} is now {row['status']} ({name})")
    return 0
