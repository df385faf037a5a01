"""Cumulative local anaesthetic dose by drug and weight, with and without epinephrine (R16)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping

from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, pct
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding
from needleplan.vocabulary import drug_of

#: Fractions of the maximum that differ by less than this are the same fraction.  Not a clinical
#: number: mL x % x 10 is inexact in binary (11.2 mL x 0.75% x 10 = 83.99999999999999 mg), and without
#: it a dose at exactly 80% lost its warning and one at exactly 100% was blocked.
_TIE_FRACTION = 1e-9

rule_family(__name__, order=60, title="dose")


def drug_limit_mg(drug: str, epinephrine: bool, weight_kg: float | None, th: Mapping[str, float]) -> float:
    """Maximum dose (mg): mg/kg x weight, capped at the absolute maximum (the cap alone if weight unknown).

    >>> from needleplan.clinical import resolve_thresholds
    >>> drug_limit_mg("LIDOCAINE", False, 52.0, resolve_thresholds("other"))   # 4.5 x 52 = 234 < 300
    234.0
    """
    key = f"DOSE_{drug}_{'EPI' if epinephrine else 'PLAIN'}"
    cap = th[f"{key}_MAX_MG"]
    return cap if weight_kg is None else min(cap, th[f"{key}_MG_PER_KG"] * weight_kg)


@rule(
    "dose",
    codes=(FindingCode.DOSE_LIMIT, FindingCode.DOSE_UNKNOWN_DRUG, FindingCode.DOSE_WEIGHT_UNKNOWN),
    rows=("R16",),
)
def dose(ctx: Context) -> Iterator[Finding]:
    if not ctx.plan.injectate:
        return
    th, weight = ctx.th, ctx.plan.patient.weight_kg
    mg: defaultdict[tuple[str, bool], float] = defaultdict(float)  # (drug, with epinephrine) -> mg
    for inj in ctx.plan.injectate:
        known = drug_of(inj.drug)
        drug = known.name if known is not None else None
        if drug is None:
            yield Finding(
                code=FindingCode.DOSE_UNKNOWN_DRUG,
                severity="warn",
                message=f"No maximum dose is known for '{inj.drug}'; its dose is not checked.",
                values={"drug": inj.drug},
            )
            continue
        mg[(drug, inj.epinephrine)] += inj.volume_ml * inj.concentration_pct * th["MG_PER_ML_PER_PCT"]
    if not mg:
        return
    parts, total, detail = [], 0.0, []
    for (drug, epi), amount in sorted(mg.items()):
        limit = drug_limit_mg(drug, epi, weight, th)
        fraction = amount / limit
        total += fraction
        name = drug.lower() + (" with epinephrine" if epi else "")
        parts.append(f"{name} {amount:.0f} mg of {limit:.0f} mg ({pct(fraction)})")
        detail.append(
            {
                "drug": drug.lower(),
                "epinephrine": epi,
                "mg": round(amount, 2),
                "limit_mg": round(limit, 2),
                "fraction": round(fraction, 4),
            }
        )
    basis = f"for {weight:g} kg" if weight is not None else "weight unknown, absolute maxima used"
    mixed = "; mixtures counted as additive" if len(detail) > 1 else ""
    values = {"fraction_of_max": round(total, 4), "weight_kg": weight, "drugs": detail}
    if total > th["DOSE_BLOCK_FRACTION"] + _TIE_FRACTION:
        severity, head = "block", "Local anaesthetic dose over the maximum"
    elif total >= th["DOSE_WARN_FRACTION"] - _TIE_FRACTION:
        severity, head = "warn", "Local anaesthetic dose near the maximum"
    else:
        if weight is None:
            yield Finding(
                code=FindingCode.DOSE_WEIGHT_UNKNOWN,
                severity="info",
                message=f"Dose checked against absolute maxima only (no weight "
                f"recorded): {'; '.join(parts)}; total {pct(total)}.",
                values=values,
            )
        return
    yield Finding(
        code=FindingCode.DOSE_LIMIT,
        severity=severity,
        message=f"{head}: {'; '.join(parts)} ({basis}{mixed}); total {pct(total)}.",
        values=values,
    )
