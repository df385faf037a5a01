"""The Teaching dock widget on a real starter case: hidden reference, submit, score = the core's, kept."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from needleplan_napari._names import PLUGIN

pytestmark = pytest.mark.gui

RESIDENT = "dr-lee"


@pytest.fixture
def case_dir(tmp_path, monkeypatch):
    from needleplan.training.starter import build_starter_set

    monkeypatch.setenv("NEEDLEPLAN_LIBRARY", str(tmp_path / "library"))
    result = build_starter_set(
        tmp_path / "cases", secret="teaching-test", presets=(("gluteus_medius", "average", "beginner"),)
    )
    assert len(result.made) == 1, result.skipped
    return tmp_path / "cases"


def _independent_plan(reference, bone, entry, tip):
    """The resident's plan written out as a plan dict (docs/contracts.md §4), not through the layers."""
    from needleplan.plan import plan_from_dict

    b = reference.image
    return plan_from_dict(
        {
            "format": "needleplan.plan",
            "version": 1,
            "image": {
                "frame_index": b.frame_index,
                "sop_instance_uid": b.sop_instance_uid,
                "pixel_sha256": b.pixel_sha256,
            },
            "calibration": reference.calibration.to_dict(),
            "site": "gluteus_medius",
            "approach": "in_plane",
            "patient": {"bmi": None, "weight_kg": None, "sex": None, "lung_disease": False, "anticoagulated": False},
            "structures": [{"kind": "bone", "points_mm": [list(p) for p in bone.points_mm], "closed": True}],
            "needle": {"entry_mm": list(entry), "target_mm": list(tip), "length_mm": 89.0, "gauge": 22},
        }
    )


def test_submit_scores_like_the_core_and_only_then_shows_the_reference(make_napari_viewer_proxy, case_dir, tmp_path):
    from needleplan.errors import LibraryError
    from needleplan.plan import load_plan
    from needleplan.training import attempt_history, list_cases, score_plans
    from needleplan_napari._teaching_case import score_lines

    viewer = make_napari_viewer_proxy()
    teach = viewer.window.add_plugin_dock_widget(PLUGIN, "Teaching case")[1]
    teach.set_cases_dir(case_dir)
    assert teach.cases.count() == 1
    teach.resident.setText(RESIDENT)
    teach.cases.setCurrentRow(0)
    attempt = teach.start_selected()
    assert attempt is not None, teach.status.text()
    plan_widget = teach.plan_widget()
    image = plan_widget.session.image_layer()
    assert image is not None and tuple(str(u) for u in image.units)[-2:] in (("mm", "mm"), ("millimeter", "millimeter"))
    assert plan_widget.inputs().site == "gluteus_medius"
    # hidden before submit: no layer, and the core refuses to give it
    assert teach.reference_layer() is None
    with pytest.raises(LibraryError):
        _ = attempt.reference

    # the teacher (this test) reads the reference file; the resident marks the bone but not the artery
    reference = load_plan(list_cases(case_dir)[0].reference_path)
    bone = next(s for s in reference.structures if s.kind == "bone")
    assert any(s.kind == "artery" for s in reference.structures)
    plan_widget.set_inputs(replace(plan_widget.inputs(), needle_length_mm=89.0, gauge=22))
    plan_widget.add_structure("bone", bone.points_mm, "polygon")
    # the tip 4 mm further along the expert's needle (over the 3 mm allowed): entry (-6.699, 62.698),
    # tip (29.5, 0.0), direction (36.199, -62.698) / 72.398 = (0.5000, -0.8660) -> tip (31.500, -3.464)
    (er, ec), (tr, tc) = reference.needle.entry_mm, reference.needle.target_mm
    length = math.hypot(tr - er, tc - ec)
    tip = (tr + 4.0 * (tr - er) / length, tc + 4.0 * (tc - ec) / length)
    assert tip == pytest.approx((31.500, -3.464), abs=1e-3)
    plan_widget.set_needle((er, ec), tip)

    score = teach.submit()
    assert score is not None, teach.status.text()
    expected = score_plans(_independent_plan(reference, bone, (er, ec), tip), reference)
    # by hand: 4 mm along, 0 across, same direction, same entry; the artery missed
    assert score.needle.target_along_mm == pytest.approx(4.0, abs=1e-3)
    assert score.needle.target_across_mm == pytest.approx(0.0, abs=1e-3)
    assert score.needle.angle_deg == pytest.approx(0.0, abs=1e-3)
    assert score.needle.entry_mm == pytest.approx(0.0, abs=1e-3)
    assert [(h.kind, h.status) for h in score.hazards] == [(h.kind, h.status) for h in expected.hazards]
    assert ("artery", "missed") in [(h.kind, h.status) for h in score.hazards]
    assert ("bone", "found") in [(h.kind, h.status) for h in score.hazards]
    assert score.result == expected.result and score.reasons == expected.reasons
    assert score.result in ("needs_work", "fail")  # a missed artery is never a pass
    shown = teach.result_shown()
    assert shown[1:] == score_lines(expected)[1:]
    assert score_lines(expected)[0].split(": ")[1] in shown[0]
    assert "Tip 4.0 mm past the expert's along the needle, 0.0 mm across it (4.0 mm in all)" in shown
    assert shown[2].startswith("Angle difference 0.0 deg; entry point 0.0 mm away; tip depth ")  # depth: the core's
    assert any(line.startswith("Missed hazard: artery (") for line in shown)
    assert any("You did not mark the artery" in line for line in shown)
    assert any("Your tip is 4.0 mm past the expert's" in line for line in shown)

    # now the reference is drawn, read-only, and it does not count in the resident's plan
    ref_layer = teach.reference_layer()
    assert ref_layer is not None and ref_layer.locked and not ref_layer.editable
    assert len(ref_layer.data) == len(reference.structures) + 1
    assert [s.kind for s in plan_widget.session.build_plan().structures] == ["bone"]
    assert attempt.reference == reference
    # kept in the training library for the resident
    history = attempt_history(RESIDENT, library_root=tmp_path / "library")
    assert [(h.case_id, h.result) for h in history] == [(attempt.case.case_id, score.result)]
    # a second submit of the same attempt is refused with a message
    assert teach.submit() is None and "Already submitted" in teach.status.text()


def test_a_case_does_not_start_over_another_image(make_napari_viewer_proxy, case_dir):
    from pathlib import Path

    real = Path(__file__).resolve().parents[4] / "tests" / "data" / "real_dicom" / "RGB_IMAGE.dcm"
    viewer = make_napari_viewer_proxy()
    viewer.open(str(real), plugin=PLUGIN)
    teach = viewer.window.add_plugin_dock_widget(PLUGIN, "Teaching case")[1]
    teach.set_cases_dir(case_dir)
    teach.cases.setCurrentRow(0)
    assert teach.start_selected() is None
    assert "Close the open ultrasound image first" in teach.status.text()
    assert teach.submit() is None and "Start a case first" in teach.status.text()


def test_build_starter_set_button_fills_the_list(make_napari_viewer_proxy, qtbot, tmp_path):
    """The worker builds every starter case (phantom presets) into the chosen folder and lists them."""
    from needleplan.training.starter import STARTER_SET

    viewer = make_napari_viewer_proxy()
    teach = viewer.window.add_plugin_dock_widget(PLUGIN, "Teaching case")[1]
    teach.set_cases_dir(tmp_path / "new-cases")
    assert teach.cases.count() == 0 and "No case in this folder" in teach.status.text()
    teach.build_starter_set()
    qtbot.waitUntil(lambda: teach.status.text().startswith(("Starter set", "<b>Not done")), timeout=120000)
    made = int(teach.status.text().split()[2])
    assert teach.status.text().startswith("Starter set: ") and made == teach.cases.count() >= 1
    # every preset is made, or said why not (a reference that would not be safe is left out)
    assert made + teach.status.text().count("left out") == len(STARTER_SET)
