"""``needleplan case create|list|starter``: the teaching case library."""

from __future__ import annotations

import argparse

from needleplan.cli._library_args import format_table
from needleplan.cli._output import print_json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("case", help="teaching cases: de-identified image + expert reference plan")
    actions = p.add_subparsers(dest="case_action", metavar="ACTION", required=True)

    c = actions.add_parser(
        "create",
        help="make a case from an image and the expert's plan on it",
        description="De-identify IMAGE (headers and burned-in pixels), re-bind the "
        "reference plan to the de-identified file and store both as a case.",
    )
    c.add_argument("image", metavar="IMAGE")
    c.add_argument("--reference", metavar="PLAN", required=True, help="the expert's plan on IMAGE")
    c.add_argument("--title", required=True)
    c.add_argument("--difficulty", required=True, choices=("beginner", "intermediate", "advanced"))
    c.add_argument(
        "--points", nargs="+", action="extend", default=[], metavar="TEXT", help="teaching points, one per argument"
    )
    c.add_argument("--secret-file", metavar="PATH", help="seeds the de-identification pseudonyms")
    _common(c)
    c.set_defaults(func=_create)

    ls = actions.add_parser("list", help="list the cases")
    _common(ls)
    ls.set_defaults(func=_list)

    s = actions.add_parser("starter", help="add the phantom starter set (site presets with ground truth)")
    _common(s)
    s.set_defaults(func=_starter)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cases", metavar="DIR", help="the case library (default: $NEEDLEPLAN_CASES or <plan library>/cases)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _create(args: argparse.Namespace) -> int:
    from needleplan.deid import read_secret
    from needleplan.training import create_case

    secret = read_secret(args.secret_file)[0]
    case = create_case(
        args.image,
        args.reference,
        title=args.title,
        difficulty=args.difficulty,
        points=args.points,
        cases_dir=args.cases,
        secret=secret,
    )
    if args.json:
        print_json(case.to_dict())
    else:
        print(f"Case {case.case_id} created in {case.folder}")
    return 0


def _print_cases(cases: list, as_json: bool) -> None:
    if as_json:
        print_json({"cases": [c.to_dict() for c in cases]})
        return
    rows = [[c.case_id, c.difficulty, c.site, c.title] for c in cases]
    print(format_table(["case", "difficulty", "site", "title"], rows) if rows else "No cases.")


def _list(args: argparse.Namespace) -> int:
    from needleplan.training import list_cases

    _print_cases(list_cases(args.cases), args.json)
    return 0


def _starter(args: argparse.Namespace) -> int:
    from needleplan.training.starter import build_starter_set

    result = build_starter_set(args.cases)
    if args.json:
        print_json(
            {
                "cases": [c.to_dict() for c in result.made],
                "skipped": [{"source": s, "reason": r} for s, r in result.skipped],
            }
        )
        return 0
    _print_cases(list(result.made), False)
    for source, reason in result.skipped:
        print(f"skipped {source}: its reference plan has a blocking finding: {reason}")
    return 0
