"""Lay a report out on A4 pages (PDF, PNG) or as one printable HTML page."""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from needleplan.colours import SEVERITY_COLOURS
from needleplan.report.content import ReportContent

__all__ = ["text_lines", "urgent_lines", "write_pdf", "write_png", "write_html", "A4_IN"]

A4_IN = (8.27, 11.69)
_WRAP = 110
_SIDE_WRAP = 47


def _rows(rows: Any) -> Iterator[tuple[str, str]]:
    for label, value in rows:
        for i, w in enumerate(textwrap.wrap(f"{label}: {value}", _WRAP)):
            yield (w if i == 0 else "    " + w), "t"


def _finding_lines(findings: Any, width: int) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    for f in findings:
        head = f"{str(f.get('severity', '?')).upper()} {f.get('code')}: "
        wrapped = textwrap.wrap(head + str(f.get("message", "")), width)
        lines += [(w if i == 0 else "    " + w, str(f.get("severity"))) for i, w in enumerate(wrapped)]
    return lines


def text_lines(c: ReportContent, *, first_page: bool) -> list[tuple[str, str]]:
    """The report as (line, style) pairs; styles: h heading, t text, block/warn/info, alert.

    ``first_page``: the measurements under the drawing (the block and warn findings beside it are
    :func:`urgent_lines`); else the pages after it, ending with the limits box and the sign-off.
    """
    lines: list[tuple[str, str]] = []
    if first_page:
        lines += [("Measurements (current rules)", "h"), *_rows(c.metrics)]
        lines += [(w, "t") for w in textwrap.wrap(c.inference, _WRAP)]
        return lines
    lines.append((f"All findings ({len(c.findings)}), each with its reason", "h"))
    lines += _finding_lines(c.findings, _WRAP)
    if not c.findings:
        lines.append(("none", "t"))
    if c.changes_since_saved:
        lines += [(w, "warn") for w in textwrap.wrap(c.changes_since_saved, _WRAP)]
    if c.thoracic_warning:
        lines += [("Warning signs after the procedure (thoracic site)", "h")]
        lines += [(w, "alert") for w in textwrap.wrap(c.thoracic_warning, _WRAP)]
    lines += [("Documentation of the indication", "h"), *_rows(c.insurer)]
    lines += [("Patient", "h"), *_rows(c.patient)]
    lines += [("Injectate", "h"), *((i, "t") for i in c.injectate)]
    lines += [("Calibration", "h"), *_rows(c.calibration)]
    if c.notes:
        lines += [("Notes", "h"), *((w, "t") for w in textwrap.wrap(c.notes, _WRAP))]
    lines += [("Limits used by the safety check", "h")]
    lines += [(w, "t") for w in textwrap.wrap(c.inference, _WRAP)]
    lines += list(_rows(c.limits))
    return lines + signoff_lines(c)


def signoff_lines(c: ReportContent) -> list[tuple[str, str]]:
    """The sign-off block, kept together on one page."""
    return [("Sign-off", "h"), *_rows(c.people), *_rows(c.signoff)]


def urgent_lines(c: ReportContent, width: int = _SIDE_WRAP) -> list[tuple[str, str]]:
    """The block and warn findings printed beside the drawing on page 1."""
    urgent = c.urgent_findings
    head = [(f"Warnings ({len(urgent)} block/warn)", "h")]
    return head + (_finding_lines(urgent, width) or [("none: no block or warn finding", "t")])


def _put_lines(
    fig: Any, lines: list[tuple[str, str]], y: float, bottom: float = 0.05, *, x: float = 0.06, size: float = 8.0
) -> int:
    """Write lines from height ``y`` down; return how many fitted."""
    step = 0.0135 * size / 8.0
    for n, (text, style) in enumerate(lines):
        if y < bottom:
            return n
        kw: dict[str, Any] = {"fontsize": size, "family": "DejaVu Sans"}
        if style == "h":
            y -= step * 0.5
            kw.update(fontsize=size + 2, weight="bold")
        elif style in SEVERITY_COLOURS:
            kw.update(color=SEVERITY_COLOURS[style], weight="bold" if style == "block" else None)
        elif style == "alert":
            kw.update(color=SEVERITY_COLOURS["block"], weight="bold")
        fig.text(x, y, text, va="top", **{k: v for k, v in kw.items() if v is not None})
        y -= step * (1.3 if style == "h" else 1.0)
    return len(lines)


def _header(fig: Any, c: ReportContent) -> float:
    fig.text(0.06, 0.972, c.title, fontsize=15, weight="bold", va="top")
    y = 0.945
    rows = list(c.header)
    half = (len(rows) + 1) // 2
    for i, (label, value) in enumerate(rows):
        x = 0.06 if i < half else 0.5
        text = textwrap.shorten(f"{label}: {value}", 80, placeholder="...")
        if label == "Dose":  # the longest row: wrapped across the page under both columns
            continue
        fig.text(x, y - (i % half) * 0.0125, text, fontsize=7.5, va="top")
    y -= half * 0.0125
    dose = dict(rows).get("Dose")
    if dose:
        for w in textwrap.wrap(f"Dose: {dose}", 130):
            fig.text(0.06, y, w, fontsize=7.5, va="top")
            y -= 0.0125
    return y - 0.005


def _fit_side(c: ReportContent, top: float, bottom: float) -> tuple[list[tuple[str, str]], float]:
    """Block/warn lines and a font size small enough that every one fits beside the drawing."""
    for size in (7.5, 7.0, 6.5, 6.0, 5.5, 5.0):
        width = int(_SIDE_WRAP * 7.5 / size)
        lines = urgent_lines(c, width)
        if len(lines) * 0.0135 * size / 8.0 * 1.05 <= top - bottom:
            return lines, size
    return lines, 5.0


def _below_drawing(fig: Any, ax: Any, *, lowest: float = 0.355) -> float:
    """Figure height under the drawing and its legend, where page 1's text may start.

    The legend grows with the kinds marked (a lumbar plan adds the neuraxis and its long name), so
    the text starts under the legend's measured box, never on top of it.
    """
    legend = ax.get_legend()
    if legend is None:
        return lowest
    fig.draw_without_rendering()
    box = legend.get_window_extent().transformed(fig.transFigure.inverted())
    return float(min(lowest, box.y0 - 0.01))


def _pages(c: ReportContent, draw: Any) -> list[Any]:
    from matplotlib.figure import Figure

    first = Figure(figsize=A4_IN, facecolor="white")
    y = _header(first, c)
    bottom = 0.4
    ax = first.add_axes((0.08, bottom, 0.5, y - bottom - 0.01))
    draw(ax)
    side, size = _fit_side(c, y, 0.36)
    _put_lines(first, side, y, 0.3, x=0.62, size=size)
    below = _below_drawing(first, ax)
    if c.image_note:
        first.text(0.06, below, c.image_note, fontsize=7, color=SEVERITY_COLOURS["warn"], va="top")
        below -= 0.015
    _put_lines(first, text_lines(c, first_page=True), below, 0.045, size=7.5)
    pages = [first]
    rest = text_lines(c, first_page=False)
    keep = len(signoff_lines(c))
    while rest:
        page = Figure(figsize=A4_IN, facecolor="white")
        page.text(0.06, 0.975, f"{c.title} (continued)", fontsize=9, color="#555555", va="top")
        used = _put_lines(page, rest, 0.95)
        if 0 < len(rest) - used < keep and used > len(rest) - keep:
            # the sign-off would be split across pages: move all of it to the next page
            page = Figure(figsize=A4_IN, facecolor="white")
            page.text(0.06, 0.975, f"{c.title} (continued)", fontsize=9, color="#555555", va="top")
            used = _put_lines(page, rest[: len(rest) - keep], 0.95)
        rest = rest[used:]
        pages.append(page)
    ident = dict(c.header)
    who = (
        f"Patient ID {ident.get('Patient ID', 'not recorded')}, image "
        f"{ident.get('Image (SOP Instance UID)', 'not recorded')}"
    )
    for i, page in enumerate(pages, 1):
        page.text(0.94, 0.015, f"page {i} of {len(pages)}", fontsize=7, ha="right")
        page.text(0.06, 0.028, who, fontsize=6.5, color="#333333")
        page.text(
            0.06,
            0.015,
            "needleplan planning report: check every finding against the live image before inserting the needle",
            fontsize=7,
        )
    return pages


def write_pdf(c: ReportContent, draw: Any, path: Path) -> int:
    """A4 PDF; returns the page count."""
    from matplotlib.backends.backend_pdf import PdfPages

    pages = _pages(c, draw)
    with PdfPages(path, metadata={"Title": c.title, "Creator": "needleplan"}) as pdf:
        for page in pages:
            pdf.savefig(page)
    return len(pages)


def write_png(c: ReportContent, draw: Any, path: Path, dpi: int = 300) -> int:
    """Every A4 page stacked in one PNG at ``dpi`` (print quality, 300); returns the page count."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    arrays = []
    for page in _pages(c, draw):
        canvas = FigureCanvasAgg(page)
        page.set_dpi(dpi)
        canvas.draw()
        arrays.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    Image.fromarray(np.vstack(arrays)).save(path, dpi=(dpi, dpi))
    return len(arrays)


def _table(rows: Any) -> str:
    body = "".join(f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>" for a, b in rows)
    return f"<table>{body}</table>"


def write_html(c: ReportContent, draw: Any, path: Path) -> None:
    """One self-contained, printable HTML page (the drawing embedded as PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 6.5), facecolor="white")
    draw(fig.add_axes((0.1, 0.2, 0.85, 0.78)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    png = base64.b64encode(buf.getvalue()).decode("ascii")

    def items(findings: Any) -> str:
        return (
            "".join(
                f'<li class="{html.escape(str(f.get("severity")))}"><b>'
                f"{html.escape(str(f.get('severity', '')).upper())} {html.escape(str(f.get('code')))}"
                f"</b>: {html.escape(str(f.get('message', '')))}</li>"
                for f in findings
            )
            or "<li>none</li>"
        )

    urgent = c.urgent_findings
    parts = [
        f"<h1>{html.escape(c.title)}</h1>",
        _table(c.header),
        "<div class='page1'><figure>"
        f'<img alt="plan drawn to scale" src="data:image/png;base64,{png}"></figure>'
        f"<section class='urgent'><h2>Warnings ({len(urgent)} block/warn)</h2>"
        f"<ul>{items(urgent)}</ul></section></div>",
        f"<p class='note'>{html.escape(c.image_note)}</p>" if c.image_note else "",
        "<h2>Measurements (current rules)</h2>",
        _table(c.metrics),
        f"<h2>All findings ({len(c.findings)}), each with its reason</h2><ul>{items(c.findings)}</ul>",
        f"<p class='warn'>{html.escape(c.changes_since_saved)}</p>" if c.changes_since_saved else "",
        (
            f"<h2>Warning signs after the procedure (thoracic site)</h2>"
            f"<p class='alert'>{html.escape(c.thoracic_warning)}</p>"
        )
        if c.thoracic_warning
        else "",
        "<h2>Documentation of the indication</h2>",
        _table(c.insurer),
        "<h2>Patient</h2>",
        _table(c.patient),
        "<h2>Injectate</h2><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in c.injectate) + "</ul>",
        "<h2>Calibration</h2>",
        _table(c.calibration),
        f"<h2>Notes</h2><p>{html.escape(c.notes)}</p>" if c.notes else "",
        "<section class='limits'><h2>Limits used by the safety check</h2>"
        f"<p>{html.escape(c.inference)}</p>{_table(c.limits)}</section>",
        "<section class='signoff'><h2>Sign-off</h2>",
        _table(c.people),
        _table(c.signoff),
        "</section>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:48em;margin:1em auto;color:#111}"
        "table{border-collapse:collapse}th{text-align:left;padding-right:1em;"
        "font-weight:normal;color:#555}img{max-width:100%}.block{color:#b00000}"
        ".warn{color:#8a4b00}.info{color:#1f4e99}.alert{color:#b00000;font-weight:bold;"
        "border:2px solid #b00000;padding:.5em}.page1{display:flex;gap:1em;align-items:flex-start}"
        ".page1 figure{flex:3;margin:0}.urgent{flex:2;font-size:90%}"
        ".limits,.signoff{border:1px solid #555;padding:.5em;margin-top:1em}"
        "@media print{body{margin:0}.page1,.limits,.signoff{page-break-inside:avoid}"
        "h2{page-break-after:avoid}}"
    )
    doc = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(c.title)}</title><style>{style}</style></head><body>"
        + "".join(parts)
        + "</body></html>\n"
    )
    path.write_text(doc, encoding="utf-8")
