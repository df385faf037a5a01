"""check/suggest on the command line, the pixel -> mm path of an anisotropic image, and CROSS_REGION."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from needleplan.calibration import Calibration, UltrasoundRegion
from needleplan.cli import main
from needleplan.io import open_image
from needleplan.plan import load_plan, plan_from_dict, save_plan
from needleplan.safety import check_plan
from tests.scenarios.plans import box, plan, pleura

DATA = Path(__file__).parent / "data" / "real_dicom"
REAL_US = DATA / "US-YBR_FULL_422-EVRLE.dcm"  # one tissue region rows 75-554, cols 184-799, 0.0616 mm/px


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path, d, name="plan.json"):
    path = tmp_path / name
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


def test_check_json_equals_check_plan(tmp_path, capsys):
    d = plan(
        "upper_trapezius",
        structures=[box("target", 10, -2, 13, 2), pleura(14)],
        tip=(12, 0),
        patient={"bmi": 17.9, "sex": "F"},
    )
    path = _write(tmp_path, d)
    code, out, err = _run(capsys, "check", str(path), "--json")
    assert code == 0 and err == ""
    got = json.loads(out)
    expected = json.loads(json.dumps(check_plan(plan_from_dict(d)).to_dict()))
    assert {k: got[k] for k in expected} == expected
    assert "changed_since_saved" not in got


def test_check_text_and_saved_differences(tmp_path, capsys):
    d = plan("upper_trapezius", structures=[box("target", 10, -2, 13, 2), pleura(14)], tip=(12, 0))
    d["findings"] = [{"code": "STEEP_ANGLE", "severity": "info", "message": "old", "values": {}}]
    path = _write(tmp_path, d)
    code, out, _ = _run(capsys, "check", str(path))
    assert code == 0
    assert "WARN   PLEURA_MARGIN: Tip 2.0 mm above the pleura; margin 5 mm." in out
    assert "deepest safe insertion 9.0 mm (limited by pleura)" in out
    assert "since saved: added" in out and "STEEP_ANGLE/info" in out


def test_check_bad_plan_is_one_line_exit_2(tmp_path, capsys):
    path = _write(tmp_path, {"format": "needleplan.plan", "version": 1})
    code, out, err = _run(capsys, "check", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "image: required field is missing" in err


def _real_plan(image, tip_col_mm):
    d = plan(
        "other",
        structures=[box("target", 8, 18, 12, 22)],
        entry=(0, 10),
        tip=(10, tip_col_mm),
        cal=image.info.calibration.to_dict(),
    )
    d["image"] = {
        "path": str(REAL_US),
        "sop_instance_uid": image.info.sop_instance_uid,
        "frame_index": 0,
        "pixel_sha256": image.frame_sha256(0),
    }
    return d


def test_check_with_real_image_binding_and_regions(tmp_path, capsys):
    image = open_image(REAL_US)
    inside = _write(tmp_path, _real_plan(image, 20.0))
    code, out, _ = _run(capsys, "check", str(inside), "--image", str(REAL_US), "--json")
    got = json.loads(out)
    assert code == 0 and got["image"]["binding_mismatches"] == []
    assert "CROSS_REGION" not in {f["code"] for f in got["findings"]}
    # Tip at col 45 mm: 184 + 45/0.0616 = 914.5 px, right of the region (cols 184-799).
    outside = _write(tmp_path, _real_plan(image, 45.0), "out.json")
    code, out, _ = _run(capsys, "check", str(outside), "--image", str(REAL_US), "--json")
    codes = {f["code"]: f["severity"] for f in json.loads(out)["findings"]}
    assert codes["CROSS_REGION"] == "block"
    # The binding is verified: another image is refused, unless forced.
    other = DATA / "US1_J2KR.dcm"
    code, _, err = _run(capsys, "check", str(inside), "--image", str(other))
    assert code == 2 and "not the one the plan was made on" in err
    code, out, _ = _run(capsys, "check", str(inside), "--image", str(other), "--force", "--json")
    assert code == 0 and json.loads(out)["image"]["binding_mismatches"]


def test_anisotropic_pixels_to_mm_and_region_box():
    # Calibration 0.1 mm/px rows, 0.2 mm/px cols, origin (10, 100), region rows 10-410, cols 0-200.
    cal = Calibration(
        source="MANUAL",
        spacing_mm=(0.1, 0.2),
        origin_px=(10.0, 100.0),
        region_index=None,
        region_box_px=(10, 0, 410, 200),
        reason="test",
    )
    entry_mm, tip_mm = cal.px_to_mm(np.array([[10.0, 100.0], [110.0, 150.0]]))
    # entry (10-10)*0.1, (100-100)*0.2 = (0, 0); tip (100*0.1, 50*0.2) = (10, 10): a 45 deg needle, 14.142 mm
    assert entry_mm.tolist() == [0.0, 0.0] and tip_mm.tolist() == pytest.approx([10.0, 10.0])
    d = plan(
        "other",
        structures=[box("target", 9, 9, 11, 11)],
        entry=entry_mm.tolist(),
        tip=tip_mm.tolist(),
        cal=cal.to_dict(),
    )
    report = check_plan(plan_from_dict(d))
    assert report.metrics["path_length_mm"] == pytest.approx(14.142, abs=1e-3)
    assert report.metrics["angle_deg"] == pytest.approx(45.0)
    assert "CROSS_REGION" not in report.codes
    # In pixels the same needle is (100, 50) px: a naive 1 px = 1 mm would say 111.8 "mm" at 26.6 deg.
    # Tip at col 250 px (col 30 mm) is outside the box's cols 0-200: CROSS_REGION.
    far = cal.px_to_mm(np.array([[110.0, 250.0]]))[0]
    assert far.tolist() == pytest.approx([10.0, 30.0])
    d2 = plan("other", structures=[box("target", 9, 29, 11, 31)], entry=[0, 0], tip=far.tolist(), cal=cal.to_dict())
    assert check_plan(plan_from_dict(d2)).by_code("CROSS_REGION")[0].severity == "block"


def test_needle_across_two_regions():
    # Dual view: regions 0 (cols 0-99) and 1 (cols 100-199), 0.2 mm/px, reference pixel (0, 50).
    left = UltrasoundRegion(
        index=0,
        box_px=(0, 0, 99, 99),
        spatial_format=1,
        data_type=1,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=(0.0, 50.0),
    )
    right = UltrasoundRegion(
        index=1,
        box_px=(0, 100, 99, 199),
        spatial_format=1,
        data_type=1,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=(0.0, 50.0),
    )
    cal = Calibration(
        source="US_REGION",
        spacing_mm=(0.2, 0.2),
        origin_px=(0.0, 50.0),
        region_index=0,
        region_box_px=(0, 0, 99, 99),
        reason="region 0",
    )
    # Needle from px (10, 60) = mm (2, 2) to px (50, 160) = mm (10, 22): it runs into region 1.
    d = plan("other", structures=[box("target", 9, 21, 11, 23)], entry=[2, 2], tip=[10, 22], cal=cal.to_dict())
    report = check_plan(plan_from_dict(d), regions=(left, right))
    finding = report.by_code("CROSS_REGION")[0]
    assert finding.severity == "block" and "spans ultrasound regions 0, 1" in finding.message
    inside = plan("other", structures=[box("target", 9, 3, 11, 5)], entry=[2, 2], tip=[10, 4], cal=cal.to_dict())
    assert "CROSS_REGION" not in check_plan(plan_from_dict(inside), regions=(left, right)).codes


def test_suggest_cli_writes_a_new_plan(tmp_path, capsys):
    d = plan("upper_trapezius", structures=[box("target", 5, -2, 7, 2), pleura(14, -60, 60)], tip=(6, 0))
    path = _write(tmp_path, d)
    new = tmp_path / "suggested.json"
    code, out, _ = _run(capsys, "suggest", str(path), "--json", "-o", str(new))
    got = json.loads(out)
    assert code == 0 and got["written"] == str(new)
    assert got["safe_angle_window_deg"] == [[13.0, 21.0], [13.0, 21.0]]
    saved = load_plan(new)
    assert saved.needle.entry_mm == pytest.approx((0.0, -25.989), abs=1e-3)
    assert saved.findings and "PLEURA_OVERSHOOT" not in {f["code"] for f in saved.findings}
    # No safe angle: an answer, nothing written.
    d2 = plan("upper_trapezius", structures=[box("target", 9, -2, 12, 2), pleura(14)], tip=(11, 0))
    code, out, _ = _run(capsys, "suggest", str(_write(tmp_path, d2, "thin.json")), "-o", str(tmp_path / "n.json"))
    assert code == 0 and "NO SAFE ANGLE" in out and not (tmp_path / "n.json").exists()


def test_save_then_check_round_trip(tmp_path):
    p = plan_from_dict(plan("rhomboid", structures=[box("target", 10, -2, 13, 2)], tip=(11, 0)))
    save_plan(p, tmp_path / "p.json", report=check_plan(p))
    again = load_plan(tmp_path / "p.json")
    assert check_plan(again).to_dict()["findings"] == list(again.findings)
