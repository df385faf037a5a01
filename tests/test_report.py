"""Plan reports: drawn to scale, every finding with its reason, R19 for thoracic sites, formats."""

from __future__ import annotations

import json
import math
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from needleplan.cli import main
from needleplan.io import open_image
from needleplan.library import Library
from needleplan.plan import load_plan, plan_from_dict, plan_to_dict
from needleplan.planner import max_safe_insertion
from needleplan.report import write_report
from needleplan.report.figure import draw_plan, image_extent_mm
from needleplan.safety import check_plan
from needleplan.synth import generate_case, write_case

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PLANS = sorted((ROOT / "sample_dicom").glob("*.plan.json"))


def pdf_text(path: Path) -> str:
    """The text of a matplotlib PDF: the strings of every TJ operator, page by page."""
    raw = path.read_bytes()
    lines = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", raw, re.S):
        try:
            stream = zlib.decompress(m.group(1))
        except zlib.error:
            continue
        for arr in re.findall(rb"\[(.*?)\] TJ", stream, re.S):
            parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", arr)
            lines.append(b"".join(parts).decode("latin-1").replace("\\(", "(").replace("\\)", ")"))
    return "\n".join(lines)


@pytest.fixture(scope="module")
def trapezius(tmp_path_factory):
    """The thin-patient upper trapezius phantom: entry (0, 15) mm, tip (8.05, 0) mm, 0.1 mm px."""
    folder = tmp_path_factory.mktemp("trap")
    written = write_case(generate_case("upper_trapezius", "thin", seed=0), folder / "case.dcm")
    return written


@pytest.fixture(scope="module")
def gluteal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("glut")
    return write_case(generate_case("gluteus_medius", "average", seed=2), folder / "glut.dcm")


def test_frame_extent_puts_pixel_centres_at_their_world_mm(trapezius):
    plan = load_plan(trapezius.plan_path)
    frame = open_image(trapezius.dicom_path).frame(0)
    fig = Figure()
    ax = fig.add_subplot()
    draw_plan(ax, plan, frame, None)
    # pixel edges: column c spans (c - 0.5 .. c + 0.5 - origin) * spacing, likewise rows
    rows, cols = frame.shape[:2]
    (sr, sc), (orow, ocol) = plan.calibration.spacing_mm, plan.calibration.origin_px
    expected = [(-0.5 - ocol) * sc, (cols - 0.5 - ocol) * sc, (rows - 0.5 - orow) * sr, (-0.5 - orow) * sr]
    np.testing.assert_allclose(ax.images[0].get_extent(), expected)
    # worked example: 391 x 565 frame, 0.1 mm pixels, origin (20, 274) px:
    # left (-0.5 - 274) * 0.1 = -27.45, right (564 + 0.5 - 274) * 0.1 = 29.05,
    # bottom (390 + 0.5 - 20) * 0.1 = 37.05, top (-0.5 - 20) * 0.1 = -2.05
    np.testing.assert_allclose(image_extent_mm((391, 565), (0.1, 0.1), (20, 274)), [-27.45, 29.05, 37.05, -2.05])
    assert ax.get_aspect() == 1.0  # equal mm on both axes: to scale


def test_needle_scale_bar_and_deepest_safe_insertion_are_drawn_to_scale(trapezius):
    plan = load_plan(trapezius.plan_path)
    safe = max_safe_insertion(plan)
    fig = Figure()
    ax = fig.add_subplot()
    draw_plan(ax, plan, open_image(trapezius.dicom_path).frame(0), safe)
    lines = {ln.get_label(): ln for ln in ax.lines}
    needle = lines["needle (38 mm)"]
    # needle from entry (row 0, col 15) to tip (row 8.05, col 0): x = col, y = row
    np.testing.assert_allclose(needle.get_xdata(), [15.0, 0.0])
    np.testing.assert_allclose(needle.get_ydata(), [0.0, 8.05])
    tick = next(ln for label, ln in lines.items() if label.startswith("deepest safe insertion"))
    # the tick is centred on entry + u * deepest, u the unit vector entry -> tip
    entry, tip = np.array([0.0, 15.0]), np.array([8.05, 0.0])
    u = (tip - entry) / np.linalg.norm(tip - entry)
    centre = entry + u * safe.max_safe_insertion_mm
    np.testing.assert_allclose([np.mean(tick.get_ydata()), np.mean(tick.get_xdata())], centre, atol=1e-9)
    assert f"{safe.max_safe_insertion_mm:.1f} mm" in tick.get_label()
    # the scale bar: the view is about 56 mm wide, a fifth is 11 mm -> a 10 mm bar
    bars = [ln for ln in ax.lines if ln.get_linewidth() == 2.5]
    assert len(bars) == 1
    assert np.ptp(bars[0].get_xdata()) == pytest.approx(10.0)
    assert any(t.get_text() == "10 mm" for t in ax.texts)


def test_pdf_every_finding_with_its_reason_and_warnings_beside_the_drawing(trapezius, tmp_path):
    plan = load_plan(trapezius.plan_path)
    frame = open_image(trapezius.dicom_path).frame(0)
    out = tmp_path / "r.pdf"
    record = {"id": 4, "revision": 2, "status": "approved", "reviewer": "Dr Bo"}
    pages = write_report(plan, out, frame=frame, record=record)
    raw = out.read_bytes()
    assert raw.startswith(b"%PDF") and f"/Count {pages}".encode() in raw
    text = pdf_text(out)
    compact = text.replace(" ", "")
    assert "Needle plan: upper trapezius" in text
    # depth 8.05 mm; path sqrt(8.05^2 + 15^2) = 17.02 mm; angle atan(8.05 / 15) = 28.2 deg
    assert "Target depth below the skin: 8.1 mm" in text
    assert "Path length, entry to tip: 17.0 mm" in text
    assert "Angle to the skin: 28.2 deg" in text
    assert math.degrees(math.atan2(8.05, 15)) == pytest.approx(28.22, abs=0.01)
    for finding in check_plan(plan).findings:
        assert f"{finding.severity.upper()}{finding.code}:" in compact
        assert finding.message.split()[0] in text
    assert "Status: approved" in text and "Reviewer: Dr Bo" in text
    assert "Source: US_REGION (region 0)" in text
    assert "lidocaine 1 % 2 mL" in text
    assert "pleuritic" in text and "shortness of breath" in text and "2 days" in text


def test_png_pages_are_a4_at_300_dpi_and_stacked(trapezius, tmp_path):
    plan = load_plan(trapezius.plan_path)
    out = tmp_path / "r.png"
    pages = write_report(plan, out, frame=open_image(trapezius.dicom_path).frame(0))
    with Image.open(out) as im:
        width, height = im.size
        dpi = im.info["dpi"]
        pixels = np.asarray(im.convert("L"))
    # A4 is 8.27 x 11.69 in; at 300 dpi one page is 2481 x 3507 px
    assert pages >= 2 and abs(width - 2481) < 1.5 and abs(height / pages - 3507) < 1.5
    assert dpi == pytest.approx((300, 300), abs=0.01)
    assert pixels.min() < 50 and pixels.max() > 240  # an image with text, on white


def test_html_report_for_a_deep_site_has_no_pneumothorax_warning(gluteal, tmp_path):
    plan = load_plan(gluteal.plan_path)
    out = tmp_path / "r.html"
    write_report(plan, out, frame=open_image(gluteal.dicom_path).frame(0))
    text = out.read_text(encoding="utf-8")
    assert "<h1>Needle plan: gluteus medius</h1>" in text
    assert "data:image/png;base64," in text
    assert "pleuritic" not in text and "Warning signs after the procedure" not in text
    for finding in check_plan(plan).findings:
        assert f"{finding.severity.upper()} {finding.code}</b>" in text
    assert "not in a plan library" in text


def test_html_report_of_a_thoracic_site_warns_of_late_pneumothorax(trapezius, tmp_path):
    out = tmp_path / "r.html"
    write_report(load_plan(trapezius.plan_path), out)
    text = out.read_text(encoding="utf-8")
    assert "Warning signs after the procedure (thoracic site)" in text
    assert "hours up to 2 days later" in text and "R19" in text


def test_uncalibrated_plan_report_says_not_to_scale(trapezius, tmp_path):
    d = plan_to_dict(load_plan(trapezius.plan_path))
    d["calibration"] = {
        "source": "NONE",
        "spacing_mm": None,
        "origin_px": [0, 0],
        "reason": "no Sequence of Ultrasound Regions and no PixelSpacing",
    }
    plan = plan_from_dict(d)
    out = tmp_path / "r.html"
    write_report(plan, out)
    text = out.read_text(encoding="utf-8")
    assert "none: the image has no length calibration" in text
    assert "UNCALIBRATED" in text
    fig = Figure()
    ax = fig.add_subplot()
    draw_plan(ax, plan, None, None)
    assert "NOT TO SCALE" in ax.get_title()
    assert not any(t.get_text().endswith(" mm") for t in ax.texts)  # no scale bar


def test_cli_report_finds_the_image_beside_the_plan_and_refuses_another(trapezius, gluteal, tmp_path, capsys):
    out = tmp_path / "r.pdf"
    assert main(["report", str(trapezius.plan_path), "-o", str(out)]) == 0
    assert "not found" not in pdf_text(out)  # the image is found beside the plan
    code = main(["report", str(trapezius.plan_path), "-o", str(tmp_path / "x.pdf"), "--image", str(gluteal.dicom_path)])
    assert code == 2 and "not the one the plan was made on" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
    assert main(["report", str(trapezius.plan_path), "-o", str(tmp_path / "x.docx")]) == 2
    assert ".pdf, .png or .html" in capsys.readouterr().err


def test_cli_report_without_its_image_says_so(trapezius, tmp_path):
    d = json.loads(trapezius.plan_path.read_text())
    d["image"]["path"] = "elsewhere.dcm"
    plan_path = tmp_path / "p.plan.json"
    plan_path.write_text(json.dumps(d))
    out = tmp_path / "r.html"
    assert main(["report", str(plan_path), "-o", str(out)]) == 0
    assert "elsewhere.dcm not found: the marks are drawn without it" in out.read_text()


def test_cli_report_of_a_library_plan_shows_status_and_reviewer(trapezius, tmp_path):
    lib_dir = tmp_path / "lib"
    with Library(lib_dir) as lib:
        lib.add(load_plan(trapezius.plan_path), saved_by="ada")
        lib.submit(1)
        lib.approve(1, reviewer="Dr Bo", comment="fine")
    out = tmp_path / "r.html"
    assert main(["report", "1", "-o", str(out), "--library", str(lib_dir), "--image", str(trapezius.dicom_path)]) == 0
    text = out.read_text()
    assert "approved" in text and "Dr Bo" in text and "1 revision 1" in text


@pytest.mark.parametrize("plan_path", SAMPLE_PLANS, ids=[p.name for p in SAMPLE_PLANS])
def test_every_bundled_sample_gets_a_report_with_its_findings(plan_path, tmp_path):
    from needleplan.clinical import SITE_PROFILES

    out = tmp_path / "r.html"
    assert main(["report", str(plan_path), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    plan = load_plan(plan_path)
    assert "not found" not in text  # the sample's image is beside it and bound to it
    for finding in check_plan(plan).findings:
        assert f"{finding.code}</b>" in text
    thoracic = SITE_PROFILES[plan.site].region == "thoracic"
    assert ("Warning signs after the procedure" in text) == thoracic
    assert "<td>-</td>" not in text.split("<h2>Measurements")[1].split("</table>")[0]
