"""A :class:`Plan` -> its JSON object, unknown fields included; a plan carrying a safety report."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from needleplan.plan._model import PLAN_FORMAT, PLAN_VERSION, Plan, Structure


def _drop_none(d: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None or k in keep}


def _structure_dict(s: Structure) -> dict[str, Any]:
    out = {
        "kind": s.kind,
        "points_mm": [list(p) for p in s.points_mm],
        "closed": s.closed,
        "frame_index": s.frame_index,
        "label": s.label,
        "suggested": s.suggested or None,
        "confidence": s.confidence,
        "evidence": s.evidence,
    }
    return {**_drop_none(out), **s.extra}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The JSON object of a plan (docs/contracts.md §4), unknown fields included."""
    p, n = plan.patient, plan.needle
    out: dict[str, Any] = {
        "format": PLAN_FORMAT,
        "version": PLAN_VERSION,
        "image": {
            **_drop_none(
                {
                    "path": plan.image.path,
                    "sop_instance_uid": plan.image.sop_instance_uid,
                    "frame_index": plan.image.frame_index,
                    "pixel_sha256": plan.image.pixel_sha256,
                }
            ),
            **plan.image.extra,
        },
        "calibration": {**plan.calibration.to_dict(), **plan.calibration_extra},
        "site": plan.site,
        "approach": plan.approach,
        "patient": {
            **_drop_none(
                {
                    "bmi": p.bmi,
                    "weight_kg": p.weight_kg,
                    "sex": p.sex,
                    "lung_disease": p.lung_disease,
                    "anticoagulated": p.anticoagulated,
                }
            ),
            **p.extra,
        },
        "structures": [_structure_dict(s) for s in plan.structures],
        "needle": None
        if n is None
        else {
            "entry_mm": list(n.entry_mm),
            "target_mm": list(n.target_mm),
            "length_mm": n.length_mm,
            "gauge": n.gauge,
            **n.extra,
        },
        "injectate": [
            {
                "drug": i.drug,
                "concentration_pct": i.concentration_pct,
                "volume_ml": i.volume_ml,
                "epinephrine": i.epinephrine,
                **i.extra,
            }
            for i in plan.injectate
        ],
    }
    out.update(_drop_none({"author": plan.author, "created": plan.created, "notes": plan.notes}))
    if plan.findings:
        out["findings"] = [dict(f) for f in plan.findings]
    if plan.metrics:
        out["metrics"] = dict(plan.metrics)
    out.update(plan.extra)
    return out


def with_report(plan: Plan, report: Any) -> Plan:
    """The plan carrying a safety report's findings and metrics (what :func:`save_plan` writes)."""
    d = report.to_dict()
    return replace(plan, findings=tuple(d["findings"]), metrics=d["metrics"])
