"""Printable reports of a plan: ``needleplan report PLAN -o report.pdf|.html|.png``.

The frame with the marks, the needle, the deepest safe insertion and the hazard margins drawn to
scale with a millimetre scale bar; the metrics; every finding with its reason; patient and
injectate; calibration source; author, reviewer and status; for thoracic sites the warning signs
of a late pneumothorax (docs/clinical-rules.md R19).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from needleplan.errors import NeedleplanError
from needleplan.plan import Plan

__all__ = ["write_report", "FORMATS"]

FORMATS = (".pdf", ".png", ".html", ".htm")


def _safe_insertion(plan: Plan) -> Any:
    if plan.needle is None or not plan.calibration.is_calibrated:
        return None
    from needleplan.planner import max_safe_insertion

    safe = max_safe_insertion(plan)
    return safe if math.isfinite(safe.max_safe_insertion_mm) else None


def write_report(plan: Plan, output: str | Path, *, frame: Any = None,
                 record: Mapping[str, Any] | None = None,
                 library_findings: Sequence[Mapping[str, Any]] = (),
                 image_note: str | None = None) -> int:
    """Write the report of ``plan`` to ``output`` (format from the suffix); return pages written.

    ``frame`` is the display-ready frame the plan was made on (None: the marks are drawn on a blank
    field and ``image_note`` says why).  ``record`` is the plan's library row (status, reviewer).
    """
    from needleplan.report.content import build_content
    from needleplan.report.figure import draw_plan
    from needleplan.report.pages import write_html, write_pdf, write_png
    from needleplan.safety import check_plan

    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise NeedleplanError(f"cannot write a report as {suffix or 'a file without suffix'}: "
                              "name the output .pdf, .png or .html")
    content = build_content(plan, check_plan(plan), record=record,
                            library_findings=library_findings, image_note=image_note)
    safe = _safe_insertion(plan)

    def draw(ax: Any) -> None:
        draw_plan(ax, plan, frame, safe)

    if suffix == ".pdf":
        return write_pdf(content, draw, output)
    if suffix == ".png":
        return write_png(content, draw, output)
    write_html(content, draw, output)
    return 1
