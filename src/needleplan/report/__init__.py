"""Printable reports of a plan: ``needleplan report PLAN -o report.pdf|.html|.png``.

The frame with the marks, the needle, the deepest safe insertion and the hazard margins drawn to
scale with a millimetre scale bar and, beside it on page 1, every block and warn finding; a header
with the patient, study, image (SOP Instance UID, frame, pixel hash) and procedure; the metrics;
every finding with its reason; insurer documentation; patient and injectate; calibration source;
a limits box (published numbers and inference, source rows, rules version); the sign-off from the
plan library or lines for a handwritten signature; for thoracic sites the warning signs of a late
pneumothorax (docs/clinical-rules.md R19).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from needleplan.errors import NeedleplanError
from needleplan.plan import Plan
from needleplan.report.identity import ImageIdentity, image_identity

__all__ = ["write_report", "FORMATS", "image_identity", "ImageIdentity"]

FORMATS = (".pdf", ".png", ".html", ".htm")


def _safe_insertion(plan: Plan) -> Any:
    if plan.needle is None or not plan.calibration.is_calibrated:
        return None
    from needleplan.planner import max_safe_insertion

    safe = max_safe_insertion(plan)
    return safe if math.isfinite(safe.max_safe_insertion_mm) else None


def write_report(
    plan: Plan,
    output: str | Path,
    *,
    frame: Any = None,
    record: Mapping[str, Any] | None = None,
    library_findings: Sequence[Mapping[str, Any]] = (),
    image_note: str | None = None,
    identity: Any = None,
    signoff: Mapping[str, Any] | None = None,
    priors: Sequence[Mapping[str, Any]] = (),
) -> int:
    """Write the report of ``plan`` to ``output`` (format from the suffix); return pages written.

    ``frame`` is the display-ready frame the plan was made on (None: the marks are drawn on a blank
    field and ``image_note`` says why).  ``record`` is the plan's library row (status, reviewer),
    ``signoff`` its approval (:func:`needleplan.report.clinical.signoff_from_history`),
    ``identity`` the image's patient and study fields (:func:`image_identity`), ``priors`` the
    library rows of earlier plans for the same patient and site.
    """
    from needleplan.report.content import build_content
    from needleplan.report.figure import draw_plan
    from needleplan.report.pages import write_html, write_pdf, write_png
    from needleplan.safety import check_plan

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise NeedleplanError(
            f"cannot write a report as {suffix or 'a file without suffix'}: name the output .pdf, .png or .html"
        )
    content = build_content(
        plan,
        check_plan(plan),
        record=record,
        library_findings=library_findings,
        image_note=image_note,
        identity=identity,
        signoff=signoff,
        priors=priors,
    )
    safe = _safe_insertion(plan)

    def draw(ax: Any) -> None:
        draw_plan(ax, plan, frame, safe)

    if suffix == ".pdf":
        return write_pdf(content, draw, output)
    if suffix == ".png":
        return write_png(content, draw, output)
    write_html(content, draw, output)
    return 1
