"""The clinical-document parts of a report: header, dose, limits box, sign-off, insurer notes.

Every value comes from the plan, the image header or the plan library; a field none of them holds
says "not recorded" (:data:`NOT_RECORDED`), never a guess.  Rows are ``(label, text)`` pairs in a
physician's words (no programme identifiers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from needleplan.plan import Plan
from needleplan.report.identity import NOT_RECORDED, ImageIdentity

__all__ = [
    "INFERENCE_STATEMENT",
    "header_rows",
    "dose_summary",
    "limits_rows",
    "rules_version",
    "signoff_rows",
    "signoff_from_history",
    "insurer_rows",
    "SIGNATURE_LINE",
]

#: printed in the limits box of every report (README: every report marks the margins as inference)
INFERENCE_STATEMENT = (
    "Inference, not a published number: no study gives a millimetre margin for trigger point "
    "injection; the margins to the pleura, vessels, nerves and organs are defaults worked out "
    "from tip creep, breathing movement and measurement error."
)

SIGNATURE_LINE = "_" * 34

#: (threshold key, words) shown in the limits box, in this order
_LIMITS = (
    ("PLEURA_MARGIN_MM", "Margin to the pleura"),
    ("PLEURA_MARGIN_OTHER_FRAME_MM", "Margin to a pleura marked on another frame"),
    ("VESSEL_MARGIN_MM", "Margin to vessels"),
    ("NERVE_MARGIN_MM", "Margin to nerves"),
    ("HUB_MARGIN_MM", "Shaft left outside the skin"),
    ("ANGLE_WARN_DEG", "Needle angle beyond which it is hard to see"),
    ("BMI_HIGH_RISK", "Underweight (high pneumothorax risk) below BMI"),
    ("DOSE_WARN_FRACTION", "Dose warning at this fraction of the maximum"),
)


def _value(value: Any) -> str:
    return NOT_RECORDED if value in (None, "") else str(value)


def _words(identifier: str | None) -> str:
    """``upper_trapezius`` -> ``upper trapezius``: no programme identifiers in physician text."""
    return _value(identifier).replace("_", " ")


def _extra(plan: Plan, key: str) -> Any:
    return plan.extra.get(key) if plan.extra.get(key) not in (None, "") else plan.patient.extra.get(key)


def dose_summary(plan: Plan) -> str:
    """Cumulative local anaesthetic dose against its weight-based maximum, in words.

    Lidocaine 1 % 2 mL is 20 mg; for 50 kg the plain lidocaine maximum is 4.5 mg/kg x 50 = 225 mg,
    so 20 mg is 9 % of it (R16).
    """
    from needleplan.clinical import resolve_thresholds
    from needleplan.safety.rules_dose import drug_limit_mg
    from needleplan.vocabulary import drug_of

    if not plan.injectate:
        return "no injectate recorded"
    th = resolve_thresholds(plan.site)
    weight = plan.patient.weight_kg
    parts, total, known = [], 0.0, True
    for inj in plan.injectate:
        mg = inj.volume_ml * inj.concentration_pct * th["MG_PER_ML_PER_PCT"]
        known_drug = drug_of(inj.drug)
        drug = known_drug.name if known_drug is not None else None
        if drug is None:
            known = False
            parts.append(f"{inj.drug} {inj.volume_ml:g} mL (no known maximum)")
            continue
        limit = drug_limit_mg(drug, inj.epinephrine, weight, th)
        total += mg / limit
        parts.append(f"{inj.drug} {mg:.0f} mg of {limit:.0f} mg maximum")
    basis = f"for {weight:g} kg" if weight is not None else "weight not recorded: absolute maxima"
    share = f"{total * 100:.0f} % of the maximum" + ("" if known else " (known drugs only)")
    return f"{'; '.join(parts)}; together {share} ({basis})"


def header_rows(plan: Plan, identity: ImageIdentity) -> tuple[tuple[str, str], ...]:
    """Patient, study, image and procedure rows of the report header."""
    from needleplan.clinical import SITE_PROFILES

    case_id = plan.patient.extra.get("id") or plan.patient.extra.get("case_id")
    name = identity.patient_name
    if identity.deidentified:
        name = f"{name or case_id or 'anonymous'} (pseudonym, de-identified)"
    patient_id = identity.patient_id or case_id
    profile = SITE_PROFILES.get(plan.site)
    site = profile.name if profile is not None else _words(plan.site)
    b = plan.image
    needle = "no needle drawn"
    if plan.needle is not None:
        gauge = f" {plan.needle.gauge} G" if plan.needle.gauge else ""
        needle = f"{plan.needle.length_mm:g} mm{gauge}"
    injectate = "; ".join(
        f"{i.drug} {i.concentration_pct:g} % {i.volume_ml:g} mL" + (" with epinephrine" if i.epinephrine else "")
        for i in plan.injectate
    )
    return (
        ("Patient", _value(name)),
        ("Patient ID", _value(patient_id)),
        ("Date of birth", _value(identity.birth_date)),
        ("Accession", _value(identity.accession)),
        ("Study date", _value(identity.study_date)),
        ("Study", _value(identity.study_description)),
        ("Image (SOP Instance UID)", _value(b.sop_instance_uid or identity.sop_instance_uid)),
        ("Frame", str(b.frame_index + 1) + " (first frame is 1)"),
        ("Pixel check", (b.pixel_sha256[:12] + " (start of the frame's SHA-256)") if b.pixel_sha256 else NOT_RECORDED),
        (
            "Site and side",
            f"{site}, {_words(_extra(plan, 'side'))} side" if _extra(plan, "side") else f"{site}, side {NOT_RECORDED}",
        ),
        ("Approach", _words(plan.approach)),
        (
            "Planned procedure",
            _value(_extra(plan, "procedure")) if _extra(plan, "procedure") else f"ultrasound-guided injection, {site}",
        ),
        ("Needle", needle),
        ("Injectate", injectate or "none recorded"),
        ("Dose", dose_summary(plan)),
    )


def rules_version() -> str:
    """``needleplan 0.1.0, rules table 1a2b3c4d``: the version and a digest of every threshold."""
    from needleplan import __version__
    from needleplan.clinical import THRESHOLDS

    table = json.dumps({k: [t.value, t.unit, t.source] for k, t in sorted(THRESHOLDS.items())})
    return f"needleplan {__version__}, rules table {hashlib.sha256(table.encode()).hexdigest()[:8]}"


def limits_rows(site: str) -> tuple[tuple[str, str], ...]:
    """The limits box: each number, published or inference, and its source row."""
    from needleplan.clinical import THRESHOLDS, resolve_thresholds

    values = resolve_thresholds(site)
    rows = []
    for key, words in _LIMITS:
        t = THRESHOLDS[key]
        kind = "inference" if "[inference]" in t.source else "published"
        source = t.source.replace("[inference]", "").replace(" :", ":").strip()
        rows.append((words, f"{values[key]:g} {t.unit} ({kind}; {source})"))
    rows.append(("Rules version", rules_version()))
    return tuple(rows)


def signoff_from_history(
    record: Mapping[str, Any] | None, events: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any] | None:
    """The approval fields of a library plan: its last review event, or None outside a library."""
    if not record:
        return None
    review = [e for e in events if e.get("kind") == "status" and e.get("action") in ("approve", "request_changes")]
    last = review[-1] if review else {}
    return {
        "status": record.get("status"),
        "reviewer": record.get("reviewer") or last.get("by"),
        "time": last.get("at"),
        "comment": last.get("comment"),
        "plan_id": record.get("id"),
        "revision": record.get("revision"),
    }


def signoff_rows(plan: Plan, signoff: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """The sign-off block: the library's approval, else lines for a handwritten signature."""
    if not signoff:
        return (
            ("Planned by", f"{_value(plan.author)}   signature {SIGNATURE_LINE}"),
            ("Date", SIGNATURE_LINE),
            ("Reviewed by", f"{SIGNATURE_LINE}   signature {SIGNATURE_LINE}"),
            ("Status", "not in a plan library: sign by hand"),
        )
    return (
        ("Author", _value(plan.author)),
        ("Status", _words(signoff.get("status"))),
        ("Reviewer", _value(signoff.get("reviewer"))),
        ("Time", _value(signoff.get("time"))),
        ("Comment", _value(signoff.get("comment"))),
        ("Library plan", f"{signoff.get('plan_id')} revision {signoff.get('revision')}"),
    )


def _why_ultrasound(plan: Plan, metrics: Mapping[str, Any]) -> str:
    from needleplan.clinical import SITE_PROFILES

    reasons = []
    bmi = plan.patient.bmi
    if bmi is not None and bmi < 23.0:
        reasons.append(f"thin patient (BMI {bmi:.1f})")
    profile = SITE_PROFILES.get(plan.site)
    if profile is not None and profile.region == "thoracic":
        reasons.append("target over the rib cage or lung apex (pneumothorax risk)")
    depth = metrics.get("depth_mm")
    if isinstance(depth, (int, float)) and depth >= 30.0:
        reasons.append(f"deep target ({depth:.0f} mm below the skin)")
    if any(s.kind in ("artery", "vein", "vessel", "nerve") for s in plan.structures):
        reasons.append("vessels or nerves near the path")
    stated = _extra(plan, "ultrasound_reason")
    if stated:
        reasons.insert(0, str(stated))
    return "; ".join(reasons) if reasons else NOT_RECORDED


def insurer_rows(
    plan: Plan, metrics: Mapping[str, Any], priors: Sequence[Mapping[str, Any]] = ()
) -> tuple[tuple[str, str], ...]:
    """Indication, why ultrasound guidance, prior injections here and a reassessment note."""
    from needleplan.clinical import SITE_PROFILES

    profile = SITE_PROFILES.get(plan.site)
    site = profile.name if profile is not None else _words(plan.site)
    has_target = any(s.kind == "target" for s in plan.structures)
    side = _extra(plan, "side")
    indication = _extra(plan, "indication")
    if indication is None and has_target:
        indication = f"taut band (trigger point) marked in the {site}" + (
            f", {_words(side)} side" if side else f", side {NOT_RECORDED}"
        )
    rows = [("Indication", _value(indication)), ("Why ultrasound guidance", _why_ultrasound(plan, metrics))]
    if not priors:
        rows.append(("Prior injections at this site", f"{NOT_RECORDED} in the plan library"))
    for p in priors:
        outcome = p.get("outcome_summary") or "outcome not recorded"
        rows.append(("Prior injection", f"{_value(p.get('created'))} (library plan {p.get('id')}): {outcome}"))
    if any(p.get("outcome_poor") for p in priors):
        rows.append(
            (
                "Reassessment",
                "An earlier injection at this site gave poor relief or a "
                "complication: the diagnosis and the indication were to be reassessed before "
                "repeating. Reassessment: " + _value(_extra(plan, "reassessment")),
            )
        )
    return tuple(rows)
