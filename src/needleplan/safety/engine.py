"""``check_plan``: run every registered rule on a plan and collect a :class:`SafetyReport`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from needleplan import planner
from needleplan.calibration import UltrasoundRegion
from needleplan.clinical import resolve_thresholds, site_profile
from needleplan.plan import Plan
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context
from needleplan.safety.registry import load_rule_families, rules_in_order
from needleplan.safety.report import AppliedMargin, Finding, SafetyReport
from needleplan.safety.rules_patient import kim_spd_mm, lung_history
from needleplan.safety.rules_pleura import PNEUMOTHORAX_CODES
from needleplan.vocabulary import severity_rank

__all__ = ["check_plan"]

_DIGITS = 3

#: Every ``rules_*`` module of this package, imported once: each registers its family and rules.
RULE_FAMILY_MODULES = load_rule_families()


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
    out: dict[str, Any] = {
        "calibrated": ctx.calibrated,
        "calibration_source": plan.calibration.source,
        "site": plan.site,
        "approach": plan.approach,
    }
    m, s, o, w = ctx.metrics, ctx.insertion, ctx.over, ctx.window
    names = (
        "depth_mm",
        "path_length_mm",
        "angle_deg",
        "entry_offset_mm",
        "clearance_mm",
        "tip_clearance_mm",
        "skin_to_pleura_mm",
        "pleura_along_path_mm",
        "needle_length_required_mm",
    )
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
            f = Finding(
                code=f.code,
                severity="block",
                message=f"{f.message} Raised to block: history of {', '.join(history)}.",
                values={**f.values, "raised_by": history},
            )
        out.append(f)
    return out


def _applied_margins(scene: planner.Scene | None) -> tuple[AppliedMargin, ...]:
    """The margin each confirmed hazard structure was checked against (the planner's, as the rules used it)."""
    if scene is None:
        return ()
    return tuple(
        AppliedMargin(
            structure_index=h.index,
            kind=h.kind,
            family=h.family,
            margin_mm=h.margin_mm,
            threshold=h.margin_key or "",
            other_frame=h.other_frame,
        )
        for h in scene.hazards
    )


def check_plan(
    plan: Plan,
    *,
    regions: Sequence[UltrasoundRegion] | None = None,
    thresholds: Mapping[str, float] | None = None,
    window: bool = True,
) -> SafetyReport:
    """Run every safety rule on a plan.  Pure: the same plan always gives the same report.

    Parameters
    ----------
    plan : Plan
    regions : sequence of UltrasoundRegion, optional
        The image's regions (``LoadedImage.info.regions``); without them the plan's own
        ``calibration.region_box_px`` is used for CROSS_REGION.
    thresholds : mapping, optional
        Overrides of :data:`needleplan.clinical.thresholds.THRESHOLDS` (after the site profile's).
    window : bool
        Compute the safe angle window (metric ``safe_angle_window_deg``).
    """
    profile = site_profile(plan.site)
    th = resolve_thresholds(plan.site, thresholds, strict_formulary=plan.extra.get("formulary") == "strict")
    calibrated = plan.calibration.is_calibrated
    scene = metrics = insertion = over = angle_window = None
    if calibrated:
        scene = planner.prepare(plan, th)
        if plan.needle is not None:
            metrics = planner.needle_metrics(scene)
            insertion = planner.max_safe_insertion(scene)
            over = planner.overshoot(scene)
        if window and scene.target_point is not None:
            angle_window = planner.safe_angle_window(scene)
    ctx = Context(
        plan=plan,
        profile=profile,
        th=th,
        calibrated=calibrated,
        scene=scene,
        metrics=metrics,
        insertion=insertion,
        over=over,
        window=angle_window,
        regions=regions,
    )
    findings: list[Finding] = []
    for r in rules_in_order():
        if r.needs_needle and not ctx.has_needle:
            continue
        if r.needs_mm and not ctx.calibrated:
            for code in r.codes:
                ctx.skip(code)
            continue
        findings.extend(r.func(ctx))
    if not ctx.calibrated:
        severity = "warn" if profile.region == "superficial" else "block"
        findings.insert(
            0,
            Finding(
                code=FindingCode.UNCALIBRATED,
                severity=severity,
                message=f"No length calibration ({plan.calibration.reason}): nothing is reported in mm, so depth, "
                f"margins and "
                f"needle length are not checked ({', '.join(ctx.skipped)}). Calibrate by two points of known distance, "
                "for example the depth ruler's 1 cm ticks.",
                values={"skipped": [str(c) for c in ctx.skipped]},
            ),
        )
    findings = _escalate(ctx, findings)
    findings.sort(key=lambda f: severity_rank(f.severity))
    return SafetyReport(
        tuple(
            Finding(code=f.code, severity=f.severity, message=f.message, values=_clean(dict(f.values)))
            for f in findings
        ),
        _metrics(ctx),
        applied_margins=_applied_margins(scene),
    )
