"""What a plan report says, independent of its format: sections of (label, text) rows.

Built from the plan, the current safety check (every finding with its reason), and when the plan
is in a library, its status, author and reviewer.  For thoracic sites the report carries the
post-procedure pneumothorax warning signs (docs/clinical-rules.md R19).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from needleplan.plan import Plan
from needleplan.report.identity import ImageIdentity

__all__ = ["ReportContent", "build_content", "R19_WARNING", "format_mm"]

#: docs/clinical-rules.md R19: pneumothorax can present hours to 2 days later; warn of its symptoms.
R19_WARNING = (
    "After the injection (clinical-rules R19): a collapsed lung (pneumothorax) can appear hours "
    "up to 2 days later. Seek care at once for chest pain that is worse when breathing in "
    "(pleuritic pain), shortness of breath, or a new cough."
)

_METRICS = (  # (metrics key, label, unit)
    ("depth_mm", "Target depth below the skin", "mm"),
    ("path_length_mm", "Path length, entry to tip", "mm"),
    ("angle_deg", "Angle to the skin", "deg"),
    ("max_safe_insertion_mm", "Deepest safe insertion", "mm"),
    ("skin_to_pleura_mm", "Skin to pleura below the tip", "mm"),
    ("pleura_along_path_mm", "Pleura along the path", "mm"),
    ("needle_length_required_mm", "Needle length needed", "mm"),
)


def format_mm(value: Any, unit: str = "mm") -> str:
    """``12.3 mm`` to one decimal; ``-`` for a missing value.

    >>> format_mm(12.345), format_mm(None), format_mm(28.2, "deg")
    ('12.3 mm', '-', '28.2 deg')
    """
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{float(value):.1f} {unit}"
    return str(value)


@dataclass(frozen=True, slots=True)
class ReportContent:
    """Everything a report prints, as plain text rows."""

    title: str
    people: tuple[tuple[str, str], ...]
    metrics: tuple[tuple[str, str], ...]
    findings: tuple[Mapping[str, Any], ...]
    changes_since_saved: str | None
    patient: tuple[tuple[str, str], ...]
    injectate: tuple[str, ...]
    calibration: tuple[tuple[str, str], ...]
    thoracic_warning: str | None
    notes: str | None
    image_note: str | None
    header: tuple[tuple[str, str], ...] = ()
    limits: tuple[tuple[str, str], ...] = ()
    inference: str = ""
    signoff: tuple[tuple[str, str], ...] = ()
    insurer: tuple[tuple[str, str], ...] = ()

    @property
    def urgent_findings(self) -> tuple[Mapping[str, Any], ...]:
        """The block and warn findings: printed beside the drawing on page 1."""
        return tuple(f for f in self.findings if f.get("severity") in ("block", "warn"))


def _clearances(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for kind, value in sorted((metrics.get("clearance_mm") or {}).items()):
        rows.append((f"Closest approach to {kind}", format_mm(value)))
    return rows


def _patient_rows(plan: Plan) -> list[tuple[str, str]]:
    p = plan.patient
    rows = [
        ("Patient / case id", str(p.extra.get("id") or p.extra.get("case_id") or "not recorded")),
        ("BMI", "-" if p.bmi is None else f"{p.bmi:.1f} kg/m2"),
        ("Weight", "-" if p.weight_kg is None else f"{p.weight_kg:g} kg"),
        ("Sex", p.sex or "-"),
    ]
    for label, flag in (("Lung disease", p.lung_disease), ("Anticoagulated", p.anticoagulated)):
        rows.append((label, "not recorded" if flag is None else ("yes" if flag else "no")))
    return rows


def _injectate_rows(plan: Plan) -> list[str]:
    rows = [
        f"{i.drug} {i.concentration_pct:g} % {i.volume_ml:g} mL" + (" with epinephrine" if i.epinephrine else "")
        for i in plan.injectate
    ]
    return rows or ["none recorded"]


def _calibration_rows(plan: Plan) -> list[tuple[str, str]]:
    c = plan.calibration
    rows = [("Source", c.source + (f" (region {c.region_index})" if c.region_index is not None else ""))]
    if c.spacing_mm is not None:
        rows.append(("Pixel size (row, col)", f"{c.spacing_mm[0]:.4f} x {c.spacing_mm[1]:.4f} mm"))
    rows.append(("Why", c.reason or "-"))
    rows.extend(("Note", n) for n in c.notes)
    return rows


def build_content(
    plan: Plan,
    report: Any,
    *,
    record: Mapping[str, Any] | None = None,
    library_findings: Sequence[Mapping[str, Any]] = (),
    image_note: str | None = None,
    identity: ImageIdentity | None = None,
    signoff: Mapping[str, Any] | None = None,
    priors: Sequence[Mapping[str, Any]] = (),
) -> ReportContent:
    """Assemble the report text of ``plan`` with its current safety ``report`` (a SafetyReport).

    ``identity`` holds the image's patient and study fields, ``signoff`` the library's approval
    (:func:`~needleplan.report.clinical.signoff_from_history`; from ``record`` when not given),
    ``priors`` the library rows of earlier plans for the same patient and site.
    """
    from needleplan.clinical import SITE_PROFILES
    from needleplan.report import clinical
    from needleplan.safety.report import compare_with_saved

    profile = SITE_PROFILES.get(plan.site)
    site_name = profile.name if profile is not None else plan.site.replace("_", " ")
    metrics = dict(report.metrics)
    people = [("Plan created", plan.created or "not recorded")]
    rows = [(label, format_mm(metrics[key], unit)) for key, label, unit in _METRICS if metrics.get(key) is not None]
    if plan.needle is not None:
        gauge = f" {plan.needle.gauge} G" if plan.needle.gauge else ""
        rows.append(("Needle", f"{plan.needle.length_mm:g} mm{gauge}"))
    rows.extend(_clearances(metrics))
    if not plan.calibration.is_calibrated:
        rows = [("Millimetres", "none: the image has no length calibration")]
    diff = compare_with_saved(plan.findings, report) if plan.findings else None
    changes = None
    if diff and (diff["added"] or diff["removed"]):
        changes = (
            "The current rules differ from the findings saved with the plan: "
            f"new {', '.join(diff['added']) or 'none'}; "
            f"no longer given {', '.join(diff['removed']) or 'none'}."
        )
    findings = tuple(f.to_dict() for f in report.findings) + tuple(library_findings)
    return ReportContent(
        title=f"Needle plan: {site_name}",
        people=tuple(people),
        metrics=tuple(rows),
        findings=findings,
        changes_since_saved=changes,
        patient=tuple(_patient_rows(plan)),
        injectate=tuple(_injectate_rows(plan)),
        calibration=tuple(_calibration_rows(plan)),
        thoracic_warning=R19_WARNING if profile is not None and profile.region == "thoracic" else None,
        notes=plan.notes,
        image_note=image_note,
        header=clinical.header_rows(plan, identity or ImageIdentity()),
        limits=clinical.limits_rows(plan.site),
        inference=clinical.INFERENCE_STATEMENT,
        signoff=clinical.signoff_rows(plan, signoff if signoff is not None else clinical.signoff_from_history(record)),
        insurer=clinical.insurer_rows(plan, metrics, priors),
    )
