"""The patient: thin habitus (R6), lung disease and bilateral sessions (R7), position (R8),
anticoagulation at deep non-compressible sites (R17)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from needleplan.planner import position_changed
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding

#: Patient fields (besides ``lung_disease``) that count as lung disease for R7 (Lin 2019 odds ratios).
LUNG_HISTORY_FIELDS = (
    "thoracic_surgery",
    "emphysema",
    "copd",
    "lung_cancer",
    "tuberculosis",
    "chronic_bronchitis",
    "pneumonia",
)

rule_family(__name__, order=50, title="patient")


def kim_spd_mm(bmi: float, th: Mapping[str, float]) -> float:
    """Kim 2002 population skin-to-pleura estimate (mm) at a BMI: 10 * (0.380 BMI - 4.301).

    >>> round(kim_spd_mm(18.5, {"KIM_SPD_SLOPE_CM": 0.380, "KIM_SPD_INTERCEPT_CM": -4.301}), 1)
    27.3
    """
    return 10.0 * (th["KIM_SPD_SLOPE_CM"] * bmi + th["KIM_SPD_INTERCEPT_CM"])


@rule("thin_patient", codes=(FindingCode.THIN_PATIENT,), rows=("R6",))
def thin_patient(ctx: Context) -> Iterator[Finding]:
    p, prof, th = ctx.plan.patient, ctx.profile, ctx.th
    if not prof.pneumothorax_class:
        return
    reasons, severity = [], None
    values: dict = {"bmi": p.bmi, "sex": p.sex}
    if p.bmi is not None and p.bmi < th["BMI_HIGH_RISK"]:
        reasons.append(f"BMI {p.bmi:g} is underweight (<{th['BMI_HIGH_RISK']:g})")
        severity = "warn"
    elif p.bmi is not None and p.bmi < th["BMI_CAUTION"]:
        reasons.append(f"BMI {p.bmi:g} is below {th['BMI_CAUTION']:g}, the group with the shallowest depths")
        severity = severity or "info"
    if p.sex == "F" and prof.female_caution:
        reasons.append(f"women have shallower depths at the {prof.name}")
        severity = severity or "info"
    if not ctx.calibrated:
        ctx.skip(FindingCode.THIN_PATIENT)
    elif ctx.metrics is not None and ctx.metrics.skin_to_pleura_mm is not None:
        spd = ctx.metrics.skin_to_pleura_mm
        values.update(skin_to_pleura_mm=round(spd, 2), thin_threshold_mm=th["THIN_SPD_MM"])
        if spd < th["THIN_SPD_MM"]:
            reasons.insert(0, f"measured skin-to-pleura {mm(spd)} is below {th['THIN_SPD_MM']:g} mm")
            severity = "warn"
    if severity is None:
        return
    text = "Thin patient: " + "; ".join(reasons) + "."
    if p.bmi is not None and prof.kim_spd_applies:
        est = kim_spd_mm(p.bmi, th)
        values["population_spd_estimate_mm"] = round(est, 1)
        text += (
            f" Population estimate from BMI (Kim 2002): about {est:.0f} mm, SD about 7 mm; context only, "
            "the marked pleura is what counts."
        )
    yield Finding(code=FindingCode.THIN_PATIENT, severity=severity, message=text, values=values)


def lung_history(ctx: Context) -> list[str]:
    """The lung-disease history items the plan records (R7)."""
    p = ctx.plan.patient
    items = ["lung disease"] if p.lung_disease else []
    return items + [f.replace("_", " ") for f in LUNG_HISTORY_FIELDS if p.extra.get(f) is True]


@rule("lung_modifiers", codes=(FindingCode.LUNG_DISEASE, FindingCode.BILATERAL_THORACIC), rows=("R7",))
def lung_modifiers(ctx: Context) -> Iterator[Finding]:
    if not ctx.profile.pneumothorax_class:
        return
    history = lung_history(ctx)
    if history:
        yield Finding(
            code=FindingCode.LUNG_DISEASE,
            severity="warn",
            message=f"History of {', '.join(history)}: a pneumothorax is more likely and less well "
            f"tolerated; "
            "pleural warnings are raised to block.",
            values={"history": history},
        )
    p, extra = ctx.plan.patient, ctx.plan.extra
    if p.extra.get("bilateral_session") is True or "bilateral" in (p.extra.get("side"), extra.get("side")):
        yield Finding(
            code=FindingCode.BILATERAL_THORACIC,
            severity="warn",
            message="Both sides in one session at a thoracic site: a bilateral pneumothorax has followed "
            "trigger "
            "point injection; avoid treating both sides the same day.",
            values={"bilateral": True},
        )


@rule("position", codes=(FindingCode.POSITION_CHANGED,), rows=("R8",))
def position(ctx: Context) -> Iterator[Finding]:
    if position_changed(ctx.plan):
        a, b = ctx.plan.extra["planning_position"], ctx.plan.extra["procedure_position"]
        yield Finding(
            code=FindingCode.POSITION_CHANGED,
            severity="warn",
            message=f"Planned {a} but to be done {b}: pleural depth changes with position (about 7 mm with a "
            "shoulder bolster); the pleura margin is raised to "
            f"{ctx.th['PLEURA_MARGIN_OTHER_FRAME_MM']:g} mm. Re-scan in the procedure position.",
            values={"planning_position": a, "procedure_position": b},
        )


@rule("anticoagulation", codes=(FindingCode.ANTICOAGULATED_DEEP_SITE,), rows=("R17",))
def anticoagulation(ctx: Context) -> Iterator[Finding]:
    if ctx.plan.patient.anticoagulated and ctx.profile.non_compressible:
        yield Finding(
            code=FindingCode.ANTICOAGULATED_DEEP_SITE,
            severity="warn",
            message=f"Anticoagulated patient at a deep, non-compressible site ({ctx.profile.name}): "
            f"bleeding here "
            "cannot be stopped by pressure; review anticoagulation as for a higher-risk procedure.",
            values={"site": ctx.plan.site},
        )
