"""Words of the findings panel: formatting of the core's report, nothing decided here.

Findings are listed most severe first (block, warn, info) with the core's own message, which names
the numbers ("tip 3.2 mm above the pleura; margin 5 mm").  No finding is ever hidden.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from needleplan.vocabulary import Severity, severity_rank
from needleplan_napari._layers import calibration_label

if TYPE_CHECKING:
    from needleplan_napari._state import SessionState

__all__ = ["finding_lines", "metrics_text", "calibration_text", "overlay_text"]

_LABEL = {Severity.BLOCK: "STOP", Severity.WARN: "WARNING", Severity.INFO: "note"}


def finding_lines(state: SessionState) -> list[tuple[str, str]]:
    """``(severity, text)`` for every finding, most severe first (stable within a severity)."""
    error = getattr(state, "error", None)
    if error:
        return [(Severity.BLOCK, f"{_LABEL[Severity.BLOCK]}: this drawing cannot be checked: {error}")]
    report = getattr(state, "report", None)
    if report is None:
        return []
    ordered = sorted(report.findings, key=lambda f: severity_rank(f.severity))
    return [(f.severity, f"{_LABEL.get(f.severity, f.severity)}: {f.message} [{f.code}]") for f in ordered]


def _mm(v: Any) -> str:
    return "-" if v is None else f"{float(v):.1f} mm"


def metrics_text(state: SessionState) -> str:
    """Depth, path length, angle and the deepest safe insertion, one line each (mm only if calibrated)."""
    report = getattr(state, "report", None)
    plan = getattr(state, "plan", None)
    if getattr(state, "error", None):
        return "No numbers until the drawing can be checked (see below)."
    if report is None or plan is None:
        return ""
    if not plan.calibration.is_calibrated:
        return "No millimetres: this image has no length calibration."
    if plan.needle is None:
        return "Draw the needle (Alt+L) from the skin entry to the target."
    m = report.metrics
    angle = m.get("angle_deg")
    return (
        f"Depth {_mm(m.get('depth_mm'))}   Path {_mm(m.get('path_length_mm'))}   "
        f"Angle {'-' if angle is None else f'{float(angle):.0f} deg'}\n"
        f"Deepest safe insertion {_mm(m.get('max_safe_insertion_mm'))} "
        f"(needle {plan.needle.length_mm:g} mm, {plan.needle.gauge or '?'} G)"
    )


def calibration_text(state: SessionState) -> tuple[str, bool]:
    """The calibration line of the panel and whether lengths are available."""
    cal = getattr(state, "calibration", None)
    if cal is None:
        return "No image: open an ultrasound DICOM (File > Open), or a sample (File > Open Sample).", False
    if not cal.is_calibrated:
        return (
            "<b style='color:#ff5555'>UNCALIBRATED: pixels only.</b> "
            + cal.reason
            + ". Calibrate on the depth ruler: draw a line between two ticks and enter their distance."
        ), False
    notes = "".join(f"<br><i>{n}</i>" for n in cal.notes)
    return f"Calibration: {calibration_label(cal)}{notes}", True


def overlay_text(state: SessionState) -> str:
    """The always-visible text on the canvas: the calibration source and a count of warnings."""
    cal = getattr(state, "calibration", None)
    if cal is None:
        return ""
    text = calibration_label(cal)
    counts = {sev: sum(1 for s, _ in finding_lines(state) if s == sev) for sev in (Severity.BLOCK, Severity.WARN)}
    words = {Severity.BLOCK: "STOP finding", Severity.WARN: "warning"}
    parts = [f"{n} {words[sev]}{'s' if n > 1 else ''}" for sev, n in counts.items() if n]
    return text + ("\n" + ", ".join(parts) + " (see the Needle Plan panel)" if parts else "")
