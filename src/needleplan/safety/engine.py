"""``check_plan``: run every registered rule on a plan and collect a :class:`SafetyReport`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

from needleplan import planner
from needleplan.anatomy import site_profile
from needleplan.plan import Plan
from needleplan.safety import rules_dose, rules_needle, rules_patient, rules_pleura, rules_regions  # noqa: F401
from needleplan.safety import rules_plausibility, rules_structures  # noqa: F401  (registers their rules)
from needleplan.safety.context import RULES, Context
from needleplan.safety.report import SEVERITIES, Finding, SafetyReport
from needleplan.safety.rules_patient import kim_spd_mm, lung_history
from needleplan.safety.rules_pleura import PNEUMOTHORAX_CODES
from needleplan.safety.thresholds import resolve_thresholds

__all__ = ["check_plan"]

_DIGITS = 3
#: Report order of the rule families (within one severity).
_FAMILY_ORDER = ("rules_plausibility", "rules_regions", "rules_pleura", "rules_structures", "rules_needle", "rules_patient", "rules_dose")


def _family_rank(r) -> int:
    name = r.func.__module__.rsplit(".", 1)[-1]
    return _FAMILY_ORDER.index(name) if name in _FAMILY_ORDER else len(_FAMILY_ORDER)


def _clean(value: Any) -> Any:
    """Round floats to 0.001 (mm, deg), inf/nan to None, tuples to lists, recursively."""
    if isinstance(value, float):
        return round(value, _DIGITS) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _metrics(ctx: Context) -> dict[str, Any]:
    plan = ctx.plan
    out: dict[str, Any] = {"calibrated": ctx.calibrated, "calibration_source": plan.calibration.source,
                           "site": plan.site, "approach": plan.approach}
    m, s, o, w = ctx.metrics, ctx.insertion, ctx.over, ctx.window
    names = ("depth_mm", "path_length_mm", "angle_deg", "entry_offset_mm", "clearance_mm", "tip_clearance_mm",
             "skin_to_pleura_mm", "pleura_along_path_mm", "needle_length_required_mm")
    for name in names:
        out[name] = getattr(m, name) if m is not None else None
    out["max_safe_insertion_mm"] = s.max_safe_insertion_mm if s else None
    out["max_safe_insertion_limited_by"] = s.limited_by if s else None
    out["remaining_insertion_mm"] = s.remaining_mm if s else None
    out["overshoot_reach_mm"] = o.reach_mm if o else None
    out["overshoot_first_hit"] = o.first_hit if o else None
    out["overshoot_first_hit_mm"] = o.first_hit_mm if o else None
    out["safe_angle_window_deg"] = [[i.from_deg, i.to_deg] for i in w.intervals] if w else None
    out["safe_angle_window"] = [dataclasses.asdict(i) for i in w.intervals] if w else None
    out["suggested_trajectory"] = dataclasses.asdict(w.suggested) if w and w.suggested else None
    bmi = plan.patient.bmi
    # R6: the Kim 2002 population estimate, context only (never a limit).
    out["population_spd_estimate_mm"] = kim_spd_mm(bmi, ctx.th) if bmi and ctx.profile.kim_spd_applies else None
    return _clean(out)


def _escalate(ctx: Context, findings: Iterable[Finding]) -> list[Finding]:
    """R7: a lung-disease history raises pleural warnings to block at thoracic sites."""
    history = lung_history(ctx) if ctx.profile.pneumothorax_class else []
    out = []
    for f in findings:
        if history and f.code in PNEUMOTHORAX_CODES and f.severity == "warn":
            f = Finding(f.code, "block", f"{f.message} Raised to block: history of {', '.join(history)}.",
                        {**f.values, "raised_by": history})
        out.append(f)
    return out


def check_plan(plan: Plan, *, regions: Any = None, thresholds: Mapping[str, float] | None = None,
               window: bool = True) -> SafetyReport:
    """Run every safety rule on a plan.  Pure: the same plan always gives the same report.

    Parameters
    ----------
    plan : Plan
    regions : sequence of UltrasoundRegion, optional
        The image's regions (``LoadedImage.info.regions``); without them the plan's own
        ``calibration.region_box_px`` is used for CROSS_REGION.
    thresholds : mapping, optional
        Overrides of :data:`needleplan.safety.thresholds.THRESHOLDS` (after the site profile's).
    window : bool
        Compute the safe angle window (metric ``safe_angle_window_deg``).
    """
    profile = site_profile(plan.site)
    th = resolve_thresholds(plan.site, thresholds, strict_formulary=plan.extra.get("formulary") == "strict")
    ctx = Context(plan, profile, th, plan.calibration.is_calibrated, regions=regions)
    if ctx.calibrated:
        ctx.scene = planner.prepare(plan, th)
        if plan.needle is not None:
            ctx.metrics = planner.needle_metrics(ctx.scene)
            ctx.insertion = planner.max_safe_insertion(ctx.scene)
            ctx.over = planner.overshoot(ctx.scene)
        if window and ctx.scene.target_point is not None:
            ctx.window = planner.safe_angle_window(ctx.scene)
    findings: list[Finding] = []
    for r in sorted(RULES, key=_family_rank):
        if r.needs_needle and not ctx.has_needle:
            continue
        if r.needs_mm and not ctx.calibrated:
            for code in r.codes:
                ctx.skip(code)
            continue
        findings.extend(r.func(ctx))
    if not ctx.calibrated:
        severity = "warn" if profile.region == "superficial" else "block"
        findings.insert(0, Finding(
            "UNCALIBRATED", severity,
            f"No length calibration ({plan.calibration.reason}): nothing is reported in mm, so depth, margins and "
            f"needle length are not checked ({', '.join(ctx.skipped)}). Calibrate by two points of known distance, "
            "for example the depth ruler's 1 cm ticks.", {"skipped": list(ctx.skipped)}))
    findings = _escalate(ctx, findings)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order[f.severity])
    return SafetyReport(tuple(Finding(f.code, f.severity, f.message, _clean(dict(f.values))) for f in findings),
                        _metrics(ctx))
