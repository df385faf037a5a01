"""The report as a signable clinical document, read back the way a person reads it.

The PDF is read with ``pdftotext`` (poppler-utils) page by page: the header names the image's
patient and SOP Instance UID, page 1 carries every block/warn code beside the drawing, the limits
box says which margins are inference, and the sign-off block is there (the library's approval or
empty lines for a handwritten signature).  The HTML carries the same content.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest

from needleplan.cli import main
from needleplan.library import Library
from needleplan.library.outcome import Outcome
from needleplan.plan import load_plan, plan_from_dict, plan_to_dict
from needleplan.report import ImageIdentity
from needleplan.report.clinical import INFERENCE_STATEMENT, dose_summary, header_rows
from needleplan.safety import check_plan
from needleplan.synth import generate_case, write_case

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)


def pdf_pages(path: Path) -> list[str]:
    """The text of every page of ``path`` as pdftotext extracts it (words joined by spaces)."""
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return [" ".join(page.split()) for page in out.split("\f") if page.strip()]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The thin-patient trapezius phantom; its header carries a patient name, ID and accession."""
    folder = tmp_path_factory.mktemp("doc")
    return write_case(generate_case("upper_trapezius", "thin", seed=0), folder / "case.dcm")


def _urgent_codes(plan) -> list[str]:
    return [f.code for f in check_plan(plan).findings if f.severity in ("block", "warn")]


@needs_pdftotext
def test_pdf_pages_carry_patient_image_warnings_limits_and_signature_lines(case, tmp_path):
    ds = pydicom.dcmread(case.dicom_path, stop_before_pixels=True)
    plan = load_plan(case.plan_path)
    urgent = _urgent_codes(plan)
    assert len(urgent) >= 2  # the thin trapezius has pleura warnings: the test has teeth
    out = tmp_path / "r.pdf"
    assert main(["report", str(case.plan_path), "-o", str(out)]) == 0
    pages = pdf_pages(out)
    assert len(pages) >= 2
    for page in pages:  # every page says whose it is and which image
        assert str(ds.PatientID) in page and str(ds.SOPInstanceUID) in page
    first = pages[0]
    for code in urgent:
        assert code in first, f"{code} is not on page 1 beside the drawing"
    info = [f.code for f in check_plan(plan).findings if f.severity == "info"]
    assert info and not any(f"INFO {code}" in first for code in info)  # info waits for page 2
    assert f"Accession: {ds.AccessionNumber}" in first
    assert "Frame: 1 (first frame is 1)" in first
    assert f"Pixel check: {plan.image.pixel_sha256[:12]}" in first
    # lidocaine 1 % 2 mL = 20 mg; 48 kg x 4.5 mg/kg = 216 mg; 20 / 216 = 9 %
    assert "lidocaine 20 mg of 216 mg maximum; together 9 % of the maximum (for 48 kg)" in first
    whole = " ".join(pages)
    assert " ".join(INFERENCE_STATEMENT.split()) in whole
    assert "Margin to the pleura: 5 mm (inference; R3" in whole
    assert "Underweight (high pneumothorax risk) below BMI: 18.5 kg/m2 (published; R6" in whole
    assert "Rules version: needleplan 0.1.0, rules table " in whole
    last = pages[-1]
    assert "Sign-off" in last and "signature ____" in last and "Date: ____" in last
    assert "not in a plan library: sign by hand" in last
    assert "needle_length" not in whole and "upper_trapezius" not in whole  # no identifiers


def test_html_has_the_same_document(case, tmp_path):
    ds = pydicom.dcmread(case.dicom_path, stop_before_pixels=True)
    plan = load_plan(case.plan_path)
    out = tmp_path / "r.html"
    assert main(["report", str(case.plan_path), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert f"<td>{ds.PatientID}</td>" in text and f"<td>{ds.SOPInstanceUID}</td>" in text
    beside = text.split("<section class='urgent'>")[1].split("</section>")[0]
    for code in _urgent_codes(plan):
        assert code in beside
    assert INFERENCE_STATEMENT in text
    assert "<section class='signoff'>" in text and "signature ____" in text


@needs_pdftotext
def test_library_sign_off_prior_poor_outcome_and_reassessment(case, tmp_path):
    lib_dir = tmp_path / "lib"
    d = plan_to_dict(load_plan(case.plan_path))
    d["patient"]["id"] = "P-77"
    d["side"] = "left"
    earlier = plan_from_dict({**d, "created": "2025-01-01T09:00:00Z"})
    with Library(lib_dir) as lib:
        lib.add(earlier, saved_by="ada")
        lib.set_outcome(1, Outcome(pain_before=8, pain_after=7), by="ada")  # 12.5 % relief: poor
        lib.add(plan_from_dict(d), saved_by="ada")
        lib.submit(2)
        lib.approve(2, reviewer="Dr Bo", comment="pleura checked on the live scan")
    out = tmp_path / "r.pdf"
    assert main(["report", "2", "-o", str(out), "--library", str(lib_dir), "--image", str(case.dicom_path)]) == 0
    pages = pdf_pages(out)
    whole = " ".join(pages)
    assert "Site and side: upper trapezius, left side" in pages[0]
    assert "Indication: taut band (trigger point) marked in the upper trapezius, left side" in whole
    assert "Prior injection: 2025-01-01T09:00:00Z (library plan 1)" in whole
    assert "Reassessment: An earlier injection at this site gave poor relief" in whole
    last = pages[-1]
    assert "Status: approved" in last and "Reviewer: Dr Bo" in last
    assert "Comment: pleura checked on the live scan" in last
    assert "Library plan: 2 revision 1" in last and "signature ____" not in last


def test_cli_refuses_a_plan_on_another_image_as_check_does(case, tmp_path, capsys):
    other = write_case(generate_case("gluteus_medius", "average", seed=2), tmp_path / "g.dcm")
    args = [str(case.plan_path), "--image", str(other.dicom_path)]
    assert main(["check", *args]) == 2
    check_err = capsys.readouterr().err
    assert main(["report", args[0], "-o", str(tmp_path / "r.pdf"), *args[1:]]) == 2
    report_err = capsys.readouterr().err
    assert "not the one the plan was made on" in check_err
    assert report_err == check_err and not (tmp_path / "r.pdf").exists()


def test_header_of_a_deidentified_case_prints_its_pseudonym_and_absent_fields():
    plan = load_plan(Path(__file__).resolve().parents[1] / "sample_dicom" / "upper_trapezius_thin_frame.plan.json")
    rows = dict(header_rows(plan, ImageIdentity(patient_name="ZQX KLM", patient_id="9F3A", deidentified=True)))
    assert rows["Patient"] == "ZQX KLM (pseudonym, de-identified)"
    assert rows["Patient ID"] == "9F3A"
    assert rows["Date of birth"] == "not recorded" and rows["Accession"] == "not recorded"
    blank = dict(header_rows(plan, ImageIdentity(deidentified=True)))
    assert blank["Patient"] == "anonymous (pseudonym, de-identified)"  # never a blank


def test_dose_against_the_weight_based_maximum_worked_by_hand():
    d = plan_to_dict(
        load_plan(Path(__file__).resolve().parents[1] / "sample_dicom" / "upper_trapezius_thin_frame.plan.json")
    )
    d["patient"]["weight_kg"] = 60
    d["injectate"] = [
        {"drug": "lidocaine", "concentration_pct": 1, "volume_ml": 5},
        {"drug": "lidocaine", "concentration_pct": 2, "volume_ml": 5, "epinephrine": True},
    ]
    # plain: 1 % x 5 mL x 10 = 50 mg of min(300, 4.5 x 60 = 270) mg = 18.5 %;
    # with epinephrine: 2 % x 5 mL x 10 = 100 mg of min(500, 7 x 60 = 420) mg = 23.8 %; 42 %
    text = dose_summary(plan_from_dict(d))
    assert "lidocaine 50 mg of 270 mg maximum" in text
    assert "lidocaine 100 mg of 420 mg maximum" in text
    assert "together 42 % of the maximum (for 60 kg)" in text


@needs_pdftotext
def test_page_one_text_starts_below_the_legend_of_a_plan_with_many_kinds(tmp_path):
    # The lumbar sample marks skin, two laminae, the ligamentum flavum, the dura and a target: a
    # legend of seven wrapped rows.  The measurements under the drawing used to start at a fixed
    # height and were printed over the legend's lower rows.  pdftotext -bbox gives each word's box
    # (y grows downwards): the "Measurements" heading must lie below every legend word.
    import re

    from needleplan.samples import sample_plan

    plan_path = sample_plan("lumbar_paraspinal")
    out = tmp_path / "lumbar.pdf"
    assert main(["report", str(plan_path), "-o", str(out)]) == 0
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(out), "-"], check=True, capture_output=True, text=True
    ).stdout
    words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)</word>', html)
    heading_top = min(float(y0) for y0, _y1, w in words if w == "Measurements")
    legend_bottom = max(float(y1) for _y0, y1, w in words if w in ("dura", "flavum", "lamina"))
    assert legend_bottom < heading_top
