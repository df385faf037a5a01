"""Plan file: validation messages, round trip with unknown fields, atomic save, image binding."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from needleplan.errors import ImageBindingError, PlanFormatError
from needleplan.io import open_image
from needleplan.plan import load_plan, plan_from_dict, plan_to_dict, save_plan, verify_binding
from needleplan.safety import check_plan
from tests.scenarios.plans import box, plan, pleura

DATA = Path(__file__).parent / "data" / "real_dicom"


def _full():
    d = plan(
        "upper_trapezius",
        structures=[
            box("target", 10, -2, 13, 2, label="taut band", lab_note="x"),
            pleura(14, frame_index=0, confidence=0.9, evidence="sliding"),
        ],
        entry=(0, -18),
        tip=(11, 0),
        patient={"bmi": 17.9, "weight_kg": 52, "sex": "F", "lung_disease": False, "bilateral_session": False},
        injectate=[
            {"drug": "lidocaine", "concentration_pct": 1.0, "volume_ml": 2.0, "epinephrine": False, "lot": "A1"}
        ],
        needle_extra={"echogenic": True},
        author="dr a",
        created="2026-11-27T02:00:00Z",
        notes="n",
        review={"status": "draft"},
    )
    d["image"]["scanner"] = "phantom"
    d["calibration"]["vendor_hint"] = "kept"
    return d


def test_round_trip_keeps_unknown_fields_everywhere():
    d = _full()
    p = plan_from_dict(d)
    out = plan_to_dict(p)
    assert out["review"] == {"status": "draft"}
    assert out["image"]["scanner"] == "phantom"
    assert out["calibration"]["vendor_hint"] == "kept"
    assert out["structures"][0]["lab_note"] == "x" and out["structures"][0]["label"] == "taut band"
    assert out["structures"][1]["evidence"] == "sliding" and out["structures"][1]["confidence"] == 0.9
    assert out["needle"]["echogenic"] is True
    assert out["patient"]["bilateral_session"] is False
    assert out["injectate"][0]["lot"] == "A1"
    assert plan_from_dict(json.loads(json.dumps(out))) == p


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("format",), "other", "format: expected 'needleplan.plan'"),
        (("version",), 2, "version: expected 1"),
        (("site",), 7, "site: expected a site id string"),
        (("approach",), "sideways", "approach: expected one of ['in_plane', 'out_of_plane']"),
        (("image", "frame_index"), -1, "image.frame_index: expected an integer from 0 to 2,147,483,647, got -1"),
        (("calibration", "source"), "GUESS", "calibration.source: expected one of"),
        (("structures", 1, "points_mm"), [[1, 2, 3]], "structures[1].points_mm[0]: expected [row_mm, col_mm]"),
        (("structures", 0, "points_mm"), [[1, 2], [3, 4]], "structures[0].points_mm: expected at least 3 points"),
        (("structures", 1, "kind"), "lung", "structures[1].kind: expected one of"),
        (
            ("structures", 1, "confidence"),
            1.5,
            "structures[1].confidence: expected a finite number from 0 to 1, got 1.5",
        ),
        (("needle", "length_mm"), 0, "needle.length_mm: expected a finite number from 5 to 300 mm, got 0"),
        (("needle", "entry_mm"), [0, "a"], "needle.entry_mm: expected [row_mm, col_mm]"),
        (("needle", "target_mm"), [0, -18], "needle.target_mm: expected a tip point different from needle.entry_mm"),
        (("patient", "bmi"), "thin", "patient.bmi: expected a finite number"),
        (("patient", "sex"), "female", "patient.sex: expected 'F', 'M' or 'O'"),
        (
            ("injectate", 0, "volume_ml"),
            -2,
            "injectate[0].volume_ml: expected a finite number from 0.001 to 1000 mL, got -2",
        ),
        (("structures",), None, "structures: expected a list"),
    ],
)
def test_validation_names_the_field(path, value, message):
    d = _full()
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PlanFormatError) as err:
        plan_from_dict(d)
    assert message in str(err.value)


@pytest.mark.parametrize("key", ["image", "calibration", "site", "needle", "structures"])
def test_required_fields(key):
    d = _full()
    del d[key]
    with pytest.raises(PlanFormatError, match=key):
        plan_from_dict(d)


def test_save_writes_findings_and_metrics_atomically(tmp_path):
    p = plan_from_dict(_full())
    report = check_plan(p)
    path = tmp_path / "plan.json"
    save_plan(p, path, report=report)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert [f["code"] for f in saved["findings"]] == [f.code for f in report.findings]
    assert saved["metrics"]["depth_mm"] == pytest.approx(11.0)
    assert saved["review"] == {"status": "draft"}
    loaded = load_plan(path)
    assert loaded.findings == tuple(f.to_dict() for f in report.findings)
    assert [x.name for x in tmp_path.iterdir()] == ["plan.json"]  # no temp file left


def test_save_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "plan.json"
    p = plan_from_dict(_full())
    save_plan(p, path)
    before = path.read_bytes()

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        save_plan(plan_from_dict({**_full(), "notes": "changed"}), path)
    assert path.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == ["plan.json"]


def test_load_bad_json_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "needleplan.plan",\n "version": }', encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"line 2"):
        load_plan(path)


def _bound_plan(image, **image_fields):
    d = _full()
    d["image"] = {
        "path": "x.dcm",
        "sop_instance_uid": image.info.sop_instance_uid,
        "frame_index": 0,
        "pixel_sha256": image.frame_sha256(0),
        **image_fields,
    }
    return plan_from_dict(d)


def test_verify_binding_on_a_real_dicom():
    image = open_image(DATA / "US-YBR_FULL_422-EVRLE.dcm")
    assert verify_binding(_bound_plan(image), image) == ()
    wrong = _bound_plan(image, pixel_sha256="f" * 64)
    with pytest.raises(ImageBindingError, match="pixel SHA-256"):
        verify_binding(wrong, image)
    assert len(verify_binding(wrong, image, force=True)) == 1
    with pytest.raises(ImageBindingError, match="frame 3"):
        verify_binding(_bound_plan(image, frame_index=3), image)
    with pytest.raises(ImageBindingError, match="SOP Instance UID"):
        verify_binding(_bound_plan(image, sop_instance_uid="1.2.3.4"), image)


def test_plan_without_needle_is_checked_without_needle_rules():
    d = copy.deepcopy(_full())
    d["needle"] = None
    report = check_plan(plan_from_dict(d))
    assert report.metrics["depth_mm"] is None
    assert not report.codes & {"PLEURA_MARGIN", "STEEP_ANGLE", "TARGET_MISSED"}
    assert report.metrics["safe_angle_window_deg"] is not None  # the window works from the target
