"""``needleplan detect``: --json, --into round trip, bad input; every real file without a crash."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from needleplan.cli import main
from needleplan.detect import detect_image, to_structures
from needleplan.errors import CalibrationError, NeedleplanError
from needleplan.io import open_image
from needleplan.plan import load_plan
from needleplan.synth import Motion, generate_case, write_case

DATA = Path(__file__).parent / "data" / "real_dicom"
DECODABLE_US = [
    "OBXXXX1A_rle.dcm",
    "no-pixel-spacing.dcm",
    "examples_ybr_color.dcm",
    "RGB_IMAGE.dcm",
    "GREYSCALE_IMAGE.dcm",
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "US1_J2KR.dcm",
    "US-YBR_FULL_422-EVRLE.dcm",
]
UNCALIBRATED = {"US1_J2KR.dcm", "examples_ybr_color.dcm"}
UNREADABLE = ["MR_truncated.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm", "no_meta.dcm", "will-jxl.dcm"]


@pytest.fixture(scope="module")
def case_files(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("detect_case")
    case = generate_case("rhomboid_intercostal", "average", seed=11)
    written = write_case(case, folder / "rhomboid.dcm")
    return case, written


def _run_json(capsys, *argv: str) -> dict:
    assert main(["detect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_on_a_phantom_dicom(capsys, case_files) -> None:
    case, written = case_files
    out = _run_json(capsys, str(written.dicom_path))
    assert out["calibrated"] is True and out["frame_index"] == 0
    pleura = [s for s in out["structures"] if s["kind"] == "pleura"]
    assert len(pleura) == 1 and pleura[0]["suggested"] is True
    true_pleura = np.asarray([s for s in case.structures if s["kind"] == "pleura"][0]["points_mm"])
    rows = np.asarray(pleura[0]["points_mm"])
    truth_at = np.interp(rows[:, 1], true_pleura[:, 1], true_pleura[:, 0])
    assert np.median(np.abs(rows[:, 0] - truth_at)) < 1.0
    assert len(out["detections_px"]) == len(out["structures"])


def test_into_round_trip_keeps_marks_and_replaces_old_suggestions(capsys, case_files, tmp_path) -> None:
    case, written = case_files
    plan_path = tmp_path / "plan.json"
    shutil.copy(written.plan_path, plan_path)
    dicom = tmp_path / written.dicom_path.name
    shutil.copy(written.dicom_path, dicom)
    before = load_plan(plan_path)
    marks = [s for s in before.structures if not s.suggested]
    out = _run_json(capsys, str(dicom), "--into", str(plan_path))
    added = out["into"]["added"]
    after = load_plan(plan_path)
    assert added > 0 and len(after.structures) == len(marks) + added
    assert [s for s in after.structures if not s.suggested] == marks  # the physician's marks, untouched
    suggested = [s for s in after.structures if s.suggested]
    assert {s.kind for s in suggested} >= {"pleura", "rib", "skin"}
    assert all(s.confidence is not None and s.evidence for s in suggested)
    # the saved suggestions are the printed ones (same mm)
    assert [list(map(list, s.points_mm)) for s in suggested] == [s["points_mm"] for s in out["structures"]]
    # a second run replaces the first run's suggestions instead of piling them up
    out2 = _run_json(capsys, str(dicom), "--into", str(plan_path))
    assert out2["into"]["replaced_suggestions"] == added
    assert len(load_plan(plan_path).structures) == len(marks) + out2["into"]["added"]


def test_into_refuses_another_image(capsys, case_files, tmp_path) -> None:
    _, written = case_files
    other = generate_case("upper_trapezius", "thin", seed=1)
    other_written = write_case(other, tmp_path / "other.dcm")
    plan_path = tmp_path / "plan.json"
    shutil.copy(written.plan_path, plan_path)
    text = plan_path.read_text()
    assert main(["detect", str(other_written.dicom_path), "--into", str(plan_path)]) == 2
    assert "not the one the plan was made on" in capsys.readouterr().err
    assert plan_path.read_text() == text  # nothing written


def test_into_refuses_a_frame_other_than_the_plans(capsys, case_files, tmp_path) -> None:
    _, written = case_files
    plan_path = tmp_path / "plan.json"
    shutil.copy(written.plan_path, plan_path)
    assert main(["detect", str(written.dicom_path), "--frame", "1", "--into", str(plan_path)]) == 2
    assert "drawn on frame 0" in capsys.readouterr().err


def test_cine_json(capsys, tmp_path) -> None:
    case = generate_case("rhomboid_intercostal", "thin", frames=20, seed=3, motion=Motion())
    written = write_case(case, tmp_path / "cine.dcm")
    out = _run_json(capsys, str(written.dicom_path), "--cine")
    assert out["cine"] is True
    pleura = [s for s in out["structures"] if s["kind"] == "pleura"][0]
    assert "sliding present" in pleura["evidence"]
    assert [s["kind"] for s in out["structures"] if s["kind"] in ("artery", "vein", "vessel")] == ["artery"]


def test_frame_out_of_range_is_one_line(capsys, case_files) -> None:
    _, written = case_files
    assert main(["detect", str(written.dicom_path), "--frame", "5"]) == 2
    err = capsys.readouterr().err
    assert "frame 5 does not exist" in err and "Traceback" not in err


def test_uncalibrated_prints_pixels_only(capsys) -> None:
    out = _run_json(capsys, str(DATA / "US1_J2KR.dcm"))
    assert out["calibrated"] is False and out["structures"] == []
    assert "no length calibration" in out["uncalibrated_reason"]
    assert all("points_px" in d and "points_mm" not in d for d in out["detections_px"])
    assert main(["detect", str(DATA / "US1_J2KR.dcm")]) == 0
    assert "no millimetres" in capsys.readouterr().out


@pytest.mark.parametrize("name", DECODABLE_US)
def test_every_real_ultrasound_file_runs(name: str) -> None:
    image = open_image(DATA / name)
    res = detect_image(image)
    assert all(0.0 <= d.confidence <= 1.0 and d.points_px for d in res.detections)
    rows, cols = image.info.rows, image.info.columns
    for d in res.detections:
        p = np.asarray(d.points_px)
        assert (p[:, 0] >= -1).all() and (p[:, 0] <= rows).all() and (p[:, 1] >= -1).all() and (p[:, 1] <= cols).all()
    if name in UNCALIBRATED:
        assert not res.calibrated
        with pytest.raises(CalibrationError):
            to_structures(res, image.info.calibration)
    else:
        assert res.calibrated
        to_structures(res, image.info.calibration)


def test_real_cine_runs() -> None:
    image = open_image(DATA / "examples_ybr_color.dcm")
    res = detect_image(image, cine=True)
    assert res.frame_index == 0 and not res.calibrated


@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_files_fail_with_one_line(capsys, name: str) -> None:
    assert main(["detect", str(DATA / name)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("needleplan: error:") and "\n" not in err


def test_non_ultrasound_file_is_refused() -> None:
    # CT is not ultrasound: a typed error, not meaningless "skin" suggestions (tests/test_detect_modality.py)
    with pytest.raises(NeedleplanError, match="detect works on ultrasound images"):
        detect_image(open_image(DATA / "CT_small.dcm"))


def test_into_uses_the_plans_manual_calibration(capsys, tmp_path) -> None:
    # an uncalibrated copy of a phantom frame (PNG) with a plan that calibrated it by hand:
    # 0.1 mm per pixel, origin at the region's reference pixel, so mm match the phantom's truth
    from PIL import Image

    from needleplan.calibration import Calibration
    from needleplan.plan import ImageBinding, Plan, save_plan

    case = generate_case("rhomboid_intercostal", "thin", seed=2)
    png = tmp_path / "frame.png"
    Image.fromarray(case.frames[0]).save(png)
    image = open_image(png)
    assert not image.info.calibration.is_calibrated
    manual = Calibration(
        source="MANUAL",
        spacing_mm=tuple(case.spacing_mm),
        origin_px=tuple(case.origin_px),
        region_index=None,
        region_box_px=None,
        reason="two points 10 mm apart",
    )
    plan_path = tmp_path / "plan.json"
    save_plan(
        Plan(
            image=ImageBinding(path=png.name, frame_index=0, pixel_sha256=image.frame_sha256(0)),
            calibration=manual,
            site="rhomboid",
        ),
        plan_path,
    )
    out = _run_json(capsys, str(png), "--into", str(plan_path))
    pleura = [s for s in out["structures"] if s["kind"] == "pleura"]
    truth = np.asarray([s for s in case.structures if s["kind"] == "pleura"][0]["points_mm"])
    rows = np.asarray(pleura[0]["points_mm"])
    assert np.median(np.abs(rows[:, 0] - np.interp(rows[:, 1], truth[:, 1], truth[:, 0]))) < 1.0
    assert [s.kind for s in load_plan(plan_path).structures if s.kind == "pleura"] == ["pleura"]


def test_into_refuses_an_uncalibrated_plan(capsys, tmp_path) -> None:
    from PIL import Image

    from needleplan.plan import ImageBinding, Plan, save_plan

    case = generate_case("rhomboid_intercostal", "thin", seed=2)
    png = tmp_path / "frame.png"
    Image.fromarray(case.frames[0]).save(png)
    image = open_image(png)
    plan_path = tmp_path / "plan.json"
    save_plan(
        Plan(
            image=ImageBinding(path=png.name, frame_index=0, pixel_sha256=image.frame_sha256(0)),
            calibration=image.info.calibration,
            site="rhomboid",
        ),
        plan_path,
    )
    before = plan_path.read_text()
    assert main(["detect", str(png), "--into", str(plan_path)]) == 2
    assert "no length calibration" in capsys.readouterr().err
    assert plan_path.read_text() == before
