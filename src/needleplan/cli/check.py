"""``needleplan check PLAN [--image IMAGE] [--force] [--json]``: the safety check of a saved plan.

Works from the plan alone when it carries its calibration.  With ``--image`` the plan's binding
(SOP Instance UID, frame, pixel SHA-256) is verified first (refused on a mismatch unless
``--force``) and the image's ultrasound regions are used for CROSS_REGION.  Exit code 0 whenever
the check ran (a block finding is a result, not an error); 2 for bad input.
"""

from __future__ import annotations

import argparse
from typing import Any

from needleplan.cli._output import print_json

__all__ = ["register", "run", "check_dict"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="safety check of a plan: findings and metrics",
        description="Run the safety rules on a plan file: depth, path length, angle, deepest safe insertion, "
        "clearances, safe angle window, and every finding with its severity.",
    )
    parser.add_argument("plan", metavar="PLAN", help="plan file (needleplan.plan JSON)")
    parser.add_argument("--image", metavar="IMAGE", help="verify the plan's image binding and use its regions")
    parser.add_argument("--force", action="store_true", help="check even if the image is not the plan's own")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=run)


def check_dict(plan_path: str, image_path: str | None = None, *, force: bool = False) -> dict[str, Any]:
    """The ``--json`` object: ``check_plan``'s report plus the plan path, binding and saved differences."""
    from needleplan.plan import load_plan, verify_binding
    from needleplan.safety import check_plan, compare_with_saved

    plan = load_plan(plan_path)
    regions, mismatches = None, []
    if image_path is not None:
        from needleplan.io import open_image

        image = open_image(image_path)
        mismatches = list(verify_binding(plan, image, force=force))
        regions = image.info.regions
    report = check_plan(plan, regions=regions)
    out: dict[str, Any] = {"plan": str(plan_path), **report.to_dict()}
    if image_path is not None:
        out["image"] = {"path": str(image_path), "binding_mismatches": mismatches}
    if plan.findings:
        out["changed_since_saved"] = compare_with_saved(plan.findings, report)
    return out


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.1f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def _print_text(out: dict[str, Any]) -> None:
    m = out["metrics"]
    print(
        f"plan      {out['plan']}  (site {m['site']}, {m['approach'].replace('_', '-')}, "
        f"calibration {m['calibration_source']})"
    )
    for mismatch in out.get("image", {}).get("binding_mismatches", []):
        print(f"IMAGE     forced past a binding mismatch: {mismatch}")
    if m["calibrated"]:
        print(
            f"depth {_fmt(m['depth_mm'], ' mm')}   path {_fmt(m['path_length_mm'], ' mm')}   "
            f"angle {_fmt(m['angle_deg'], ' deg')}   entry offset {_fmt(m['entry_offset_mm'], ' mm')}"
        )
        print(
            f"deepest safe insertion {_fmt(m['max_safe_insertion_mm'], ' mm')} "
            f"(limited by {_fmt(m['max_safe_insertion_limited_by'])})"
        )
        for kind, d in (m["clearance_mm"] or {}).items():
            print(f"clearance {kind:<8} shaft {_fmt(d, ' mm')}  tip {_fmt(m['tip_clearance_mm'][kind], ' mm')}")
        window = m["safe_angle_window"]
        if window is not None:
            text = ", ".join(f"{w['side']} {w['from_deg']:.0f}-{w['to_deg']:.0f} deg" for w in window)
            print(f"safe angle window: {text or 'none'}")
    print(f"worst: {out['worst_severity'] or 'no findings'}")
    for f in out["findings"]:
        print(f"{f['severity'].upper():<6} {f['code']}: {f['message']}")
    changed = out.get("changed_since_saved")
    if changed and (changed["added"] or changed["removed"]):
        print(f"since saved: added {changed['added'] or '-'}, removed {changed['removed'] or '-'}")


def run(args: argparse.Namespace) -> int:
    out = check_dict(args.plan, args.image, force=args.force)
    if args.json:
        print_json(out)
    else:
        _print_text(out)
    return 0
