"""Teaching cases: de-identified image + re-bound reference plan; the phantom starter set."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from needleplan.cli import main
from needleplan.errors import ImageBindingError, LibraryError
from needleplan.io import open_image
from needleplan.plan import ImageBinding, load_plan, plan_from_dict, save_plan, verify_binding
from needleplan.training import create_case, list_cases, load_case, score_plans
from needleplan.training.starter import build_starter_set

DATA = Path(__file__).parent / "data" / "real_dicom"
GREY = DATA / "GREYSCALE_IMAGE.dcm"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def grey_reference():
    """An expert's gluteus medius plan on GREYSCALE_IMAGE (region 0: 0.0649 mm/px, origin (38, 14)).

    The region spans rows 38-758 and cols 14-1010, i.e. 0-46.7 mm deep and 0-64.6 mm across, so
    every mark below lies inside it.
    """
    image = open_image(GREY)
    d = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {
            "path": str(GREY),
            "sop_instance_uid": image.info.sop_instance_uid,
            "frame_index": 0,
            "pixel_sha256": image.frame_sha256(0),
        },
        "calibration": image.info.calibration.to_dict(),
        "site": "gluteus_medius",
        "approach": "in_plane",
        "patient": {"bmi": 26.0, "weight_kg": 80},
        "structures": [
            {"kind": "skin", "points_mm": [[0, 1], [0, 63]], "closed": False},
            {"kind": "target", "points_mm": [[18, 30], [18, 36], [24, 36], [24, 30]], "closed": True},
            {"kind": "bone", "points_mm": [[40, 5], [40, 60]], "closed": False, "label": "ilium"},
            {"kind": "artery", "points_mm": [[30, 50], [30, 54], [33, 54], [33, 50]], "closed": True},
        ],
        "needle": {"entry_mm": [0, 12], "target_mm": [21, 33], "length_mm": 50, "gauge": 22},
        "author": "expert",
        "notes": "Mrs Patientfive, seen 2 March",
    }
    return plan_from_dict(d)


def _no_blocks(plan):
    from needleplan.safety import check_plan

    return [f.code for f in check_plan(plan).findings if f.severity == "block"]


def test_reference_fixture_is_a_safe_plan(grey_reference):
    assert _no_blocks(grey_reference) == []


def test_create_case_deidentifies_and_rebinds(tmp_path, grey_reference):
    case = create_case(
        GREY,
        grey_reference,
        title="Gluteus medius, deep target",
        difficulty="intermediate",
        points=["Mark the artery before drawing the needle."],
        cases_dir=tmp_path,
        secret="k",
    )
    folder = Path(case.folder)
    assert sorted(p.name for p in folder.iterdir()) == ["case.json", "image.dcm", "reference.plan.json"]
    assert case.site == "gluteus_medius" and case.teaching_points == ("Mark the artery before drawing the needle.",)
    data = case.image_path.read_bytes()
    assert b"ZZZ TEST PATIENTFIVE" not in data and b"20170302" not in data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(case.image_path)
    assert ds.PatientIdentityRemoved == "YES" and ds.BurnedInAnnotation == "NO"
    ref = load_plan(case.reference_path)
    assert ref.image.sop_instance_uid == ds.SOPInstanceUID != grey_reference.image.sop_instance_uid
    assert ref.image.pixel_sha256 != grey_reference.image.pixel_sha256  # outside pixels blanked
    assert ref.image.path == "image.dcm"
    verify_binding(ref, open_image(case.image_path))  # bound to the de-identified frame
    with pytest.raises(ImageBindingError):
        verify_binding(ref, open_image(GREY))  # and no longer to the original
    assert ref.calibration == grey_reference.calibration
    assert open_image(case.image_path).info.calibration.spacing_mm == grey_reference.calibration.spacing_mm
    assert ref.structures == grey_reference.structures and ref.needle == grey_reference.needle
    assert ref.notes is None  # free text may name the patient
    assert b"Patientfive" not in case.reference_path.read_bytes()
    # the case scores its own reference perfectly
    assert score_plans(ref, ref).passed
    assert [c.case_id for c in list_cases(tmp_path)] == [case.case_id]
    assert load_case(case.case_id, tmp_path) == case


def test_reference_drawn_on_another_image_is_refused(tmp_path, grey_reference):
    other = replace(grey_reference, image=ImageBinding(None, "1.2.3", 0, "00" * 32))
    with pytest.raises(ImageBindingError):
        create_case(GREY, other, title="x", difficulty="beginner", cases_dir=tmp_path, secret="k")
    assert list(tmp_path.iterdir()) == []  # nothing half-made left behind


def test_reference_with_a_block_is_refused(tmp_path, grey_reference):
    # the needle pushed through the artery (tip in its middle): VESSEL_CROSSED is a block
    bad = replace(grey_reference, needle=replace(grey_reference.needle, target_mm=(31.5, 52.0)))
    assert "VESSEL_CROSSED" in _no_blocks(bad)
    with pytest.raises(LibraryError, match="cannot teach"):
        create_case(GREY, bad, title="x", difficulty="beginner", cases_dir=tmp_path, secret="k")
    assert not any(p.is_dir() for p in tmp_path.iterdir())


def test_bad_case_arguments(tmp_path, grey_reference):
    with pytest.raises(LibraryError, match="difficulty"):
        create_case(GREY, grey_reference, title="x", difficulty="hard", cases_dir=tmp_path)
    with pytest.raises(LibraryError, match="title"):
        create_case(GREY, grey_reference, title=" ", difficulty="beginner", cases_dir=tmp_path)
    with pytest.raises(LibraryError, match="no teaching case"):
        load_case("nope", tmp_path)


def test_cli_case_create_list_and_score_against_case(tmp_path, grey_reference, capsys):
    ref_path = tmp_path / "expert.plan.json"
    save_plan(grey_reference, ref_path)
    cases = str(tmp_path / "cases")
    code = main(
        [
            "case",
            "create",
            str(GREY),
            "--reference",
            str(ref_path),
            "--title",
            "Deep gluteal",
            "--difficulty",
            "advanced",
            "--points",
            "Mark the artery.",
            "Check the needle length.",
            "--cases",
            cases,
            "--json",
        ]
    )
    made = json.loads(capsys.readouterr().out)
    assert code == 0 and made["teaching_points"] == ["Mark the artery.", "Check the needle length."]
    assert main(["case", "list", "--cases", cases, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["cases"]
    assert [c["case_id"] for c in listed] == [made["case_id"]]
    # a resident's attempt scored against the case by its id
    code = main(["score", made["reference"], made["case_id"], "--cases", cases, "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["result"] == "pass"


def test_case_attempt_hides_the_reference_until_submitted(tmp_path, grey_reference):
    from needleplan.training import attempt_history
    from needleplan.training.session import CaseAttempt

    case = create_case(
        GREY, grey_reference, title="Hidden", difficulty="beginner", cases_dir=tmp_path / "cases", secret="k"
    )
    turn = CaseAttempt(case.case_id, resident="erin", cases_dir=tmp_path / "cases", library_root=tmp_path / "lib")
    assert turn.image_path == case.image_path and not turn.submitted
    with pytest.raises(LibraryError, match="only after"):
        _ = turn.reference
    # the resident forgets the artery: it is named as missed
    resident_plan = load_plan(case.reference_path)
    resident_plan = replace(resident_plan, structures=tuple(s for s in resident_plan.structures if s.kind != "artery"))
    score = turn.submit(resident_plan)
    assert score.result == "needs_work"
    assert any(r.startswith("You did not mark the artery") for r in score.reasons)
    assert turn.reference.needle == grey_reference.needle
    with pytest.raises(LibraryError, match="already submitted"):
        turn.submit(resident_plan)
    assert [r.case_id for r in attempt_history("erin", library_root=tmp_path / "lib")] == [case.case_id]


def test_starter_set_from_phantom_presets(tmp_path):
    presets = (("rhomboid_rib", "average", "intermediate"), ("quadratus_lumborum", "average", "beginner"))
    result = build_starter_set(tmp_path, secret="k", presets=presets)
    made = {c.source: c for c in result.made}
    assert len(made) + len(result.skipped) == 2
    for case in result.made:
        ref = load_plan(case.reference_path)
        verify_binding(ref, open_image(case.image_path))
        assert ref.needle is not None and case.teaching_points
        assert _no_blocks(ref) == []
    assert "phantom:rhomboid_rib:average" in made
    assert made["phantom:rhomboid_rib:average"].site == "rhomboid"
    # a second run adds nothing already there
    again = build_starter_set(tmp_path, secret="k", presets=presets)
    assert again.made == ()
