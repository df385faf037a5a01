"""``needleplan suggest PLAN [--json] [-o NEW_PLAN]``: the safe angle window and a suggested trajectory.

The suggestion is the flattest in-plane path (best needle visibility) that keeps every hazard margin,
fits the needle with the hub margin outside the skin, and whose overshoot meets a rib or nothing
before the pleura.  "No safe angle" is an answer (exit 0), and then no plan is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
from typing import Any

from needleplan.cli._output import print_json

__all__ = ["register", "run", "suggest_dict"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "suggest",
        help="safe angle window and suggested needle trajectory",
        description="Compute the range of in-plane angles and entry points from which the plan's target is "
        "reached safely, and the flattest safe path; optionally write it as a new plan.",
    )
    parser.add_argument("plan", metavar="PLAN", help="plan file (needleplan.plan JSON)")
    parser.add_argument("-o", "--output", metavar="NEW_PLAN", help="write the plan with the suggested needle here")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def suggest_dict(plan_path: str, output: str | None = None) -> dict[str, Any]:
    """The ``--json`` object: window intervals, the suggestion, and the new plan's check."""
    from needleplan.plan import load_plan, save_plan
    from needleplan.planner import safe_angle_window, suggest
    from needleplan.safety import check_plan

    if output and os.path.exists(output) and os.path.samefile(output, plan_path):
        # the physician's own needle would be replaced by the suggestion and lost
        raise FileExistsError(
            errno.EEXIST,
            "is the plan being read; write the suggestion to a new file (-o NEW_PLAN) so the drawn needle is kept",
            str(output),
        )
    plan = load_plan(plan_path)
    window = safe_angle_window(plan)
    out: dict[str, Any] = {
        "plan": str(plan_path),
        "target_mm": list(window.target_mm),
        "safe_angle_window": [dataclasses.asdict(i) for i in window.intervals],
        "safe_angle_window_deg": [[i.from_deg, i.to_deg] for i in window.intervals],
        "suggested_trajectory": dataclasses.asdict(window.suggested) if window.suggested else None,
        "reason": window.reason,
        "written": None,
        "suggested_check": None,
    }
    new_plan = suggest(plan)
    if new_plan is not None:
        report = check_plan(new_plan)
        out["suggested_check"] = {
            "worst_severity": report.worst_severity,
            "codes": sorted(report.codes),
            "metrics": dict(report.metrics),
        }
        if output:
            save_plan(new_plan, output, report=report)
            out["written"] = str(output)
    return out


def run(args: argparse.Namespace) -> int:
    out = suggest_dict(args.plan, args.output)
    if args.json:
        print_json(out)
        return 0
    print(f"target at ({out['target_mm'][0]:.1f}, {out['target_mm'][1]:.1f}) mm (row, col)")
    if not out["safe_angle_window"]:
        print(f"NO SAFE ANGLE: {out['reason']}.")
        return 0
    for w in out["safe_angle_window"]:
        print(
            f"safe from the {w['side']}: {w['from_deg']:.0f}-{w['to_deg']:.0f} deg to the skin, entry from "
            f"col {w['entry_from_mm'][1]:.1f} to {w['entry_to_mm'][1]:.1f} mm"
        )
    t = out["suggested_trajectory"]
    seen = "visible in-plane" if t["visible"] else "steep: needle visibility poor"
    print(
        f"suggested: enter at ({t['entry_mm'][0]:.1f}, {t['entry_mm'][1]:.1f}) mm, {t['angle_deg']:.0f} deg, "
        f"path {t['path_length_mm']:.1f} mm ({seen}); {out['reason']}"
    )
    check = out["suggested_check"]
    print(f"check of the suggested plan: worst {check['worst_severity'] or 'none'} ({', '.join(check['codes'])})")
    if out["written"]:
        print(f"written: {out['written']}")
    return 0
