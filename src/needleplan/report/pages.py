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

from needleplan.report.content import ReportContent

__all__ = ["text_lines", "write_pdf", "write_png", "write_html", "A4_IN"]

A4_IN = (8.27, 11.69)
_WRAP = 110
_SEVERITY_COLOURS = {"block": "#b00000", "warn": "#a05a00", "info": "#1f4e99"}


def _rows(rows: Any) -> Iterator[tuple[str, str]]:
    for label, value in rows:
        yield f"{label}: {value}", "t"


def text_lines(c: ReportContent, *, first_page: bool) -> list[tuple[str, str]]:
    """The report as (line, style) pairs; styles: h heading, t text, block/warn/info, alert."""
    lines: list[tuple[str, str]] = []
    if first_page:
        lines += [("Measurements (current rules)", "h"), *_rows(c.metrics)]
        return lines
    lines.append((f"Findings ({len(c.findings)}), each with its reason", "h"))
    for f in c.findings:
        head = f"{str(f.get('severity', '?')).upper()} {f.get('code')}: "
        wrapped = textwrap.wrap(head + str(f.get("message", "")), _WRAP)
        lines += [(w if i == 0 else "    " + w, str(f.get("severity"))) for i, w in
                  enumerate(wrapped)]
    if not c.findings:
        lines.append(("none", "t"))
    if c.changes_since_saved:
        lines += [(w, "warn") for w in textwrap.wrap(c.changes_since_saved, _WRAP)]
    if c.thoracic_warning:
        lines += [("Warning signs after the procedure (thoracic site)", "h")]
        lines += [(w, "alert") for w in textwrap.wrap(c.thoracic_warning, _WRAP)]
    lines += [("Patient", "h"), *_rows(c.patient)]
    lines += [("Injectate", "h"), *((i, "t") for i in c.injectate)]
    lines += [("Calibration", "h")]
    for label, value in c.calibration:
        lines += [(w, "t") for w in textwrap.wrap(f"{label}: {value}", _WRAP)]
    if c.notes:
        lines += [("Notes", "h"), *((w, "t") for w in textwrap.wrap(c.notes, _WRAP))]
    return lines


def _put_lines(fig: Any, lines: list[tuple[str, str]], y: float, bottom: float = 0.04) -> int:
    """Write lines from height ``y`` down; return how many fitted."""
    step = 0.0135
    for n, (text, style) in enumerate(lines):
        if y < bottom:
            return n
        kw: dict[str, Any] = {"fontsize": 8, "family": "DejaVu Sans"}
        if style == "h":
            y -= step * 0.5
            kw.update(fontsize=10, weight="bold")
        elif style in _SEVERITY_COLOURS:
            kw.update(color=_SEVERITY_COLOURS[style], weight="bold" if style == "block" else None)
        elif style == "alert":
            kw.update(color="#b00000", weight="bold")
        fig.text(0.06, y, text, va="top", **{k: v for k, v in kw.items() if v is not None})
        y -= step * (1.3 if style == "h" else 1.0)
    return len(lines)


def _header(fig: Any, c: ReportContent) -> float:
    fig.text(0.06, 0.965, c.title, fontsize=15, weight="bold", va="top")
    y = 0.935
    people = list(c.people)
    half = (len(people) + 1) // 2
    for i, (label, value) in enumerate(people):
        x = 0.06 if i < half else 0.52
        fig.text(x, y - (i % half) * 0.014, f"{label}: {value}", fontsize=8, va="top")
    return y - half * 0.014 - 0.005


def _pages(c: ReportContent, draw: Any) -> list[Any]:
    from matplotlib.figure import Figure

    first = Figure(figsize=A4_IN, facecolor="white")
    y = _header(first, c)
    ax = first.add_axes((0.1, 0.36, 0.82, y - 0.38))
    draw(ax)
    if c.image_note:
        first.text(0.06, 0.265, c.image_note, fontsize=7, color="#a05a00", va="top")
    _put_lines(first, text_lines(c, first_page=True), 0.245)
    pages = [first]
    rest = text_lines(c, first_page=False)
    while rest:
        page = Figure(figsize=A4_IN, facecolor="white")
        page.text(0.06, 0.975, f"{c.title} (continued)", fontsize=9, color="#555555", va="top")
        used = _put_lines(page, rest, 0.95)
        rest = rest[used:]
        pages.append(page)
    for i, page in enumerate(pages, 1):
        page.text(0.94, 0.015, f"page {i} of {len(pages)}", fontsize=7, ha="right")
        page.text(0.06, 0.015, "needleplan planning report: check every finding against the "
                  "live image before inserting the needle", fontsize=7)
    return pages


def write_pdf(c: ReportContent, draw: Any, path: Path) -> int:
    """A4 PDF; returns the page count."""
    from matplotlib.backends.backend_pdf import PdfPages

    pages = _pages(c, draw)
    with PdfPages(path, metadata={"Title": c.title, "Creator": "needleplan"}) as pdf:
        for page in pages:
            pdf.savefig(page)
    return len(pages)


def write_png(c: ReportContent, draw: Any, path: Path, dpi: int = 110) -> int:
    """Every A4 page stacked in one PNG; returns the page count."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    arrays = []
    for page in _pages(c, draw):
        canvas = FigureCanvasAgg(page)
        page.set_dpi(dpi)
        canvas.draw()
        arrays.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    Image.fromarray(np.vstack(arrays)).save(path)
    return len(arrays)


def _table(rows: Any) -> str:
    body = "".join(f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>"
                   for a, b in rows)
    return f"<table>{body}</table>"


def write_html(c: ReportContent, draw: Any, path: Path) -> None:
    """One self-contained, printable HTML page (the drawing embedded as PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 6.5), facecolor="white")
    draw(fig.add_axes((0.1, 0.2, 0.85, 0.78)))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130)
    png = base64.b64encode(buf.getvalue()).decode("ascii")
    findings = "".join(
        f'<li class="{html.escape(str(f.get("severity")))}"><b>'
        f'{html.escape(str(f.get("severity", "")).upper())} {html.escape(str(f.get("code")))}'
        f"</b>: {html.escape(str(f.get('message', '')))}</li>" for f in c.findings) or "<li>none</li>"
    parts = [
        f"<h1>{html.escape(c.title)}</h1>", _table(c.people),
        f'<img alt="plan drawn to scale" src="data:image/png;base64,{png}">',
        f"<p class='note'>{html.escape(c.image_note)}</p>" if c.image_note else "",
        "<h2>Measurements (current rules)</h2>", _table(c.metrics),
        f"<h2>Findings ({len(c.findings)}), each with its reason</h2><ul>{findings}</ul>",
        f"<p class='warn'>{html.escape(c.changes_since_saved)}</p>" if c.changes_since_saved
        else "",
        (f"<h2>Warning signs after the procedure (thoracic site)</h2>"
         f"<p class='alert'>{html.escape(c.thoracic_warning)}</p>") if c.thoracic_warning else "",
        "<h2>Patient</h2>", _table(c.patient),
        "<h2>Injectate</h2><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in c.injectate)
        + "</ul>",
        "<h2>Calibration</h2>", _table(c.calibration),
        f"<h2>Notes</h2><p>{html.escape(c.notes)}</p>" if c.notes else "",
    ]
    style = ("body{font-family:sans-serif;max-width:48em;margin:1em auto;color:#111}"
             "table{border-collapse:collapse}th{text-align:left;padding-right:1em;"
             "font-weight:normal;color:#555}img{max-width:100%}.block{color:#b00000}"
             ".warn{color:#a05a00}.info{color:#1f4e99}.alert{color:#b00000;font-weight:bold;"
             "border:2px solid #b00000;padding:.5em}@media print{body{margin:0}"
             "h2{page-break-after:avoid}}")
    doc = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>{html.escape(c.title)}</title><style>{style}</style></head><body>"
           + "".join(parts) + "</body></html>\n")
    path.write_text(doc, encoding="utf-8")
