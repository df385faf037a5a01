"""``needleplan score ATTEMPT REFERENCE`` and ``needleplan score history RESIDENT``."""

from __future__ import annotations

import argparse
import errno
from pathlib import Path

from needleplan.cli._library_args import add_library_option, format_table
from needleplan.cli._output import print_json

__all__ = ["register"]

_USAGE = (
    "needleplan score ATTEMPT REFERENCE [--resident NAME] [--json]\n       needleplan score history RESIDENT [--json]"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "score",
        usage=_USAGE,
        help="score a resident's plan against an expert's reference plan; list a resident's progress",
        description=(
            "Compare a resident's plan (ATTEMPT) with the expert's (REFERENCE: a plan file or a "
            "teaching case id): tip error along and across the needle, angle, depth and entry "
            "differences, hazards missed or mislocated, findings the expert's plan does not have. "
            "A blocking finding is an automatic fail. With --resident the attempt is kept in the "
            "plan library; `score history RESIDENT` lists them."
        ),
    )
    p.add_argument("words", nargs="+", metavar="ARG", help="ATTEMPT REFERENCE, or: history RESIDENT")
    p.add_argument("--resident", metavar="NAME", help="keep this attempt under the resident's name")
    p.add_argument("--case", metavar="ID", help="the teaching case id to record with the attempt")
    p.add_argument("--cases", metavar="DIR", help="the case library (default: $NEEDLEPLAN_CASES or <library>/cases)")
    add_library_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run, _parser=p)
    p.epilog = "Exit status: 0 pass; 1 needs work or fail; 2 bad input."


def run(args: argparse.Namespace) -> int:
    if len(args.words) == 2 and args.words[0] == "history" and not Path("history").is_file():
        return _history(args, args.words[1])
    if len(args.words) != 2:
        args._parser.error("expected ATTEMPT REFERENCE, or: history RESIDENT")
    return _score(args, *args.words)


def _reference(args: argparse.Namespace, reference: str) -> tuple[Path, str | None]:
    """A plan file, or a teaching case id (its reference plan); returns (plan path, case id)."""
    if Path(reference).is_file():
        return Path(reference), args.case
    if reference.endswith(".json") or "/" in reference:  # meant as a file: say the file is missing
        raise FileNotFoundError(
            errno.ENOENT, "no such plan file; check the path, or give a teaching case id", reference
        )
    from needleplan.training import load_case

    case = load_case(reference, args.cases)
    return case.reference_path, case.case_id


def _score(args: argparse.Namespace, attempt_path: str, reference: str) -> int:
    from needleplan.plan import load_plan
    from needleplan.training import record_attempt, score_plans

    ref_path, case_id = _reference(args, reference)
    attempt, ref = load_plan(attempt_path), load_plan(ref_path)
    score = score_plans(attempt, ref)
    record = None
    if args.resident:
        record = record_attempt(
            attempt, score, resident=args.resident, case_id=case_id, reference=str(ref_path), library_root=args.library
        )
    if args.json:
        out = score.to_dict()
        out["recorded"] = None if record is None else record.to_dict()
        print_json(out)
    else:
        print(f"Result: {score.result.replace('_', ' ').upper()}")
        n = score.needle
        if n is not None:
            depth = "n/a" if n.depth_mm is None else f"{n.depth_mm:+.1f} mm"
            print(
                f"Tip: {n.target_along_mm:+.1f} mm along the needle, {n.target_across_mm:.1f} mm across; "
                f"angle {n.angle_deg:.1f} deg; depth {depth}; entry {n.entry_mm:.1f} mm away"
            )
        for h in score.hazards:
            dist = "" if h.distance_mm is None else f" ({h.distance_mm:.1f} mm)"
            print(f"Hazard {h.kind}{' ' + h.label if h.label else ''}: {h.status}{dist}")
        for reason in score.reasons:
            print(f"- {reason}")
        if record is not None:
            print(f"Kept as attempt {record.plan_id} of {record.resident}.")
    return 0 if score.passed else 1


def _history(args: argparse.Namespace, resident: str) -> int:
    from needleplan.training import attempt_history

    records = attempt_history(resident, library_root=args.library)
    if args.json:
        print_json({"resident": resident, "attempts": [r.to_dict() for r in records]})
        return 0
    if not records:
        print(f"No attempts recorded for {resident}; score with --resident {resident} to keep them.")
        return 0
    rows = []
    for r in records:
        tip = "-" if r.target_error_mm is None else f"{r.target_error_mm:.1f}"
        angle = "-" if r.angle_deg is None else f"{r.angle_deg:.0f}"
        rows.append(
            [
                r.scored_at,
                r.case_id or "-",
                r.result,
                tip,
                angle,
                f"{r.hazards_found}/{r.hazards_total}",
                " ".join(r.blocks) or "-",
            ]
        )
    print(format_table(["when", "case", "result", "tip mm", "angle deg", "hazards", "blocks"], rows))
    passed = sum(1 for r in records if r.result == "pass")
    print(f"{passed} of {len(records)} attempts passed.")
    return 0
