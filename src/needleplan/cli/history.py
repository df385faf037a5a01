"""``needleplan history ID``: every revision, status change (with reviewer and comment) and outcome."""

from __future__ import annotations

import argparse

from needleplan.cli._library_args import (
    add_archive_option,
    add_library_option,
    archive_mode,
    format_table,
    local_plan_id,
    open_archive,
    open_library,
)
from needleplan.cli._output import print_json

__all__ = ["register", "describe_event"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("history", help="the history of a library plan")
    parser.add_argument("id", help="plan id (a number; on the archive, the plan's Series Instance UID)")
    parser.add_argument("--json", action="store_true")
    add_library_option(parser)
    add_archive_option(parser)
    parser.set_defaults(func=_history)


def describe_event(event: dict) -> str:
    """One line for an event.

    >>> describe_event({"kind": "status", "from": "submitted", "to": "approved", "comment": "ok"})
    'submitted -> approved: ok'
    """
    kind = event.get("kind")
    if kind == "revision":
        parent = event.get("parent_revision")
        text = "new plan" if parent is None else f"saved over revision {parent}"
        worst = [f for f in event.get("summary", {}).get("findings", []) if f.get("severity") == "block"]
        return text + (f" ({len(worst)} blocking finding(s))" if worst else "")
    if kind == "status":
        text = f"{event.get('from')} -> {event.get('to')}"
        return text + (f": {event['comment']}" if event.get("comment") else "")
    if kind == "outcome":
        from needleplan.library import Outcome

        return "outcome: " + Outcome.from_dict(event.get("outcome") or {}).summary()
    return str(kind)


def _history(args: argparse.Namespace) -> int:
    if archive_mode(args):  # read from the SR chain itself: who, when, what, step by step
        plan_id = args.id
        with open_archive(args) as lib:
            events = lib.history(plan_id)
    else:
        plan_id = local_plan_id(args.id)
        with open_library(args) as lib:
            events = lib.history(plan_id)
    if args.json:
        print_json({"id": plan_id, "events": events})
        return 0
    rows = [
        [str(e["seq"]), str(e.get("at") or ""), f"r{e['revision']}", str(e.get("by") or "-"), describe_event(e)]
        for e in events
    ]
    print(format_table(["#", "time (UTC)", "rev", "by", "what"], rows))
    return 0
