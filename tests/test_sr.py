"""DICOM SR (TID 1500) export and import: round trips, coordinates, frames, bad input."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needleplan.cli import main
from needleplan.errors import CalibrationError, ImageBindingError, PlanFormatError
from needleplan.plan import load_plan, plan_from_dict, plan_to_dict, with_report
from needleplan.safety import check_plan
from needleplan.sr import export_sr, import_sr, plan_to_sr, sr_to_plan
from needleplan.synth import SITE_PRESETS, generate_case, write_case

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PLANS = sorted((ROOT / "sample_dicom").glob("*.plan.json"))
#: SCOORDs are 32-bit floats: a few 1e-5 px, i.e. well under 1e-3 mm at any ultrasound spacing
POINT_TOL_MM = 1e-3


def assert_same_plan(a: dict, b: dict) -> None:
    """Everything equal; points equal within the float32 precision of SCOORD."""
    for key in set(a) | set(b):
        if key == "structures":
            assert len(a[key]) == len(b[key])
            for s1, s2 in zip(a[key], b[key], strict=True):
                np.testing.assert_allclose(s1["points_mm"], s2["points_mm"], atol=POINT_TOL_MM)
                assert {k: v for k, v in s1.items() if k != "points_mm"} == {
                    k: v for k, v in s2.items() if k != "points_mm"
                }
        elif key == "needle" and a[key] is not None:
            for end in ("entry_mm", "target_mm"):
                np.testing.assert_allclose(a[key][end], b[key][end], atol=POINT_TOL_MM)
            assert {k: v for k, v in a[key].items() if not k.endswith("_mm") or k == "length_mm"} == {
                k: v for k, v in b[key].items() if not k.endswith("_mm") or k == "length_mm"
            }
        else:
            assert a.get(key) == b.get(key), key


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Every phantom site preset written to disk: (dicom, reference plan with its findings)."""
    folder = tmp_path_factory.mktemp("cases")
    out = {}
    for preset in SITE_PRESETS:
        written = write_case(generate_case(preset, "average", seed=3), folder / f"{preset}.dcm")
        plan = load_plan(written.plan_path)
        plan_path = folder / f"{preset}.checked.plan.json"
        plan_path.write_text(json.dumps(plan_to_dict(with_report(plan, check_plan(plan)))))
        out[preset] = (written.dicom_path, plan_path)
    return out


@pytest.mark.parametrize("plan_path", SAMPLE_PLANS, ids=[p.name for p in SAMPLE_PLANS])
def test_round_trip_of_every_bundled_sample_plan(plan_path, tmp_path):
    plan = load_plan(plan_path)
    image = plan_path.parent / plan.image.path
    out = export_sr(plan, image, tmp_path / "sr.dcm")
    # a plan saved without its safety check is exported as checked: it comes back with the
    # findings and metrics of the check, and nothing else changed
    expected = plan if plan.findings else with_report(plan, check_plan(plan))
    assert_same_plan(plan_to_dict(expected), plan_to_dict(import_sr(out)))


@pytest.mark.parametrize("preset", list(SITE_PRESETS))
def test_round_trip_of_every_phantom_site(preset, cases, tmp_path):
    dicom, plan_path = cases[preset]
    plan = load_plan(plan_path)
    assert plan.findings  # the checked plan carries its findings into the SR
    back = import_sr(export_sr(plan, dicom, tmp_path / "sr.dcm"))
    assert_same_plan(plan_to_dict(plan), plan_to_dict(back))


def test_needle_scoord_is_column_row_with_pixel_centres_at_half(cases, tmp_path):
    dicom, plan_path = cases["upper_trapezius"]
    plan = load_plan(plan_path)
    ds = pydicom.dcmread(export_sr(plan, dicom, tmp_path / "sr.dcm"))
    sr_plan_groups = [i for i in ds.ContentSequence if i.ValueType == "CONTAINER"]
    needle_group = sr_plan_groups[0].ContentSequence[0]  # first group of Imaging Measurements
    scoord = next(i for i in needle_group.ContentSequence if i.ValueType == "SCOORD")
    # entry (row, col) mm -> px = mm / spacing + origin; SCOORD = (col + 0.5, row + 0.5)
    (sr_mm, sc_mm), (orow, ocol) = plan.calibration.spacing_mm, plan.calibration.origin_px
    er, ec = plan.needle.entry_mm
    tr, tc = plan.needle.target_mm
    expected = [ec / sc_mm + ocol + 0.5, er / sr_mm + orow + 0.5, tc / sc_mm + ocol + 0.5, tr / sr_mm + orow + 0.5]
    np.testing.assert_allclose(list(scoord.GraphicData), expected, atol=1e-3)
    assert scoord.GraphicType == "POLYLINE"
    ref = scoord.ContentSequence[0].ReferencedSOPSequence[0]
    assert ref.ReferencedSOPInstanceUID == plan.image.sop_instance_uid


def test_needle_measurements_are_in_mm_and_deg_and_match_the_check(cases, tmp_path):
    dicom, plan_path = cases["rhomboid_rib"]
    plan = load_plan(plan_path)
    metrics = check_plan(plan).metrics
    import highdicom as hd

    sr = hd.sr.ComprehensiveSR.from_dataset(plan_to_sr(plan, pydicom.dcmread(dicom, stop_before_pixels=True)))
    group = sr.content.get_planar_roi_measurement_groups()[0]
    values = {m.name.meaning: (float(m.value), m.unit.value) for m in group.get_measurements()}
    assert values["Depth"][1] == "mm" and values["Length"][1] == "mm"
    assert values["Angle"][1] == "deg"
    assert values["Depth"][0] == pytest.approx(metrics["depth_mm"], abs=1e-6)
    assert values["Length"][0] == pytest.approx(metrics["path_length_mm"], abs=1e-6)
    assert values["Angle"][0] == pytest.approx(metrics["angle_deg"], abs=1e-6)
    assert values["Needle Length"] == (plan.needle.length_mm, "mm")
    texts = [g for g in sr.ContentSequence if g.ValueType == "CONTAINER"][-1].ContentSequence
    finding_texts = [t.TextValue for t in texts if t.ConceptNameCodeSequence[0].CodeValue == "121071"]
    assert finding_texts == [f"{f['severity'].upper()} {f['code']}: {f['message']}" for f in plan.findings]


def test_cine_frame_and_a_structure_on_another_frame_survive(tmp_path):
    written = write_case(generate_case("upper_trapezius", "thin", frames=3, seed=1), tmp_path / "cine.dcm")
    d = json.loads(written.plan_path.read_text())
    d["image"]["frame_index"] = 2
    d["image"]["pixel_sha256"] = written.frame_sha256[2]
    d["structures"][0]["frame_index"] = 1
    plan = plan_from_dict(d)
    plan = with_report(plan, check_plan(plan))
    ds = pydicom.dcmread(export_sr(plan, written.dicom_path, tmp_path / "sr.dcm"))
    frames = [str(e.value) for e in ds.iterall() if e.keyword == "ReferencedFrameNumber"]
    assert "3" in frames and "2" in frames  # 1-based in DICOM
    back = import_sr(tmp_path / "sr.dcm")
    assert back.image.frame_index == 2 and back.structures[0].frame_index == 1
    assert_same_plan(plan_to_dict(plan), plan_to_dict(back))


def test_an_sr_without_needleplan_fields_imports_with_the_image_calibration(cases, tmp_path):
    dicom, plan_path = cases["gluteus_medius"]
    plan = load_plan(plan_path)
    ds = pydicom.dcmread(export_sr(plan, dicom, tmp_path / "sr.dcm"))
    container = [i for i in ds.ContentSequence if i.ValueType == "CONTAINER"][-1]
    container.ContentSequence = [
        t for t in container.ContentSequence if t.ConceptNameCodeSequence[0].CodeValue != "PLANFIELDS"
    ]
    ds.save_as(tmp_path / "foreign.dcm")
    with pytest.raises(PlanFormatError, match="give the image"):
        import_sr(tmp_path / "foreign.dcm")
    back = import_sr(tmp_path / "foreign.dcm", image_path=dicom)
    assert [s.kind for s in back.structures] == [s.kind for s in plan.structures]
    for s1, s2 in zip(plan.structures, back.structures, strict=True):
        np.testing.assert_allclose(s1.points_mm, s2.points_mm, atol=POINT_TOL_MM)
    assert back.needle.length_mm == plan.needle.length_mm
    assert back.metrics["depth_mm"] == pytest.approx(check_plan(plan).metrics["depth_mm"])
    assert [f["code"] for f in back.findings] == [f["code"] for f in plan.findings]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spacing=st.tuples(st.floats(0.03, 0.6), st.floats(0.03, 0.6)),
    origin=st.tuples(st.floats(-50, 80), st.floats(0, 600)),
    # Points on a 0.001 mm grid and distinct: SCOORD is float32, and an open polyline whose
    # last point equals its first reads back as a polygon (2D SCOORD has no polygon type), so
    # points closer than float32 can tell apart (8e-101 vs 0) are not a round-trip case.
    points=st.lists(
        st.tuples(st.floats(-30, 60).map(lambda v: round(v, 3)), st.floats(-40, 40).map(lambda v: round(v, 3))),
        min_size=3,
        max_size=8,
        unique=True,
    ),
    closed=st.booleans(),
)
def test_any_anisotropic_calibration_round_trips_points(cases, spacing, origin, points, closed):
    dicom, plan_path = cases["piriformis"]
    source = pydicom.dcmread(dicom, stop_before_pixels=True)
    plan = load_plan(plan_path)
    cal = dataclasses.replace(plan.calibration, spacing_mm=spacing, origin_px=origin, region_box_px=None)
    d = plan_to_dict(dataclasses.replace(plan, calibration=cal))
    d["structures"] = [{"kind": "nerve", "points_mm": [list(p) for p in points], "closed": closed}]
    plan = plan_from_dict(d)
    back = sr_to_plan(plan_to_sr(plan, source))
    np.testing.assert_allclose(back.structures[0].points_mm, plan.structures[0].points_mm, atol=POINT_TOL_MM)
    assert back.structures[0].closed == closed


def test_uncalibrated_plan_cannot_be_exported(cases):
    dicom, plan_path = cases["upper_trapezius"]
    d = plan_to_dict(load_plan(plan_path))
    d["calibration"] = {"source": "NONE", "spacing_mm": None, "origin_px": [0, 0], "reason": "no regions"}
    with pytest.raises(CalibrationError, match="calibrat"):
        plan_to_sr(plan_from_dict(d), pydicom.dcmread(dicom, stop_before_pixels=True))


def test_plan_for_another_image_is_refused(cases, tmp_path, capsys):
    dicom, plan_path = cases["upper_trapezius"]
    other, _ = cases["rhomboid_rib"]
    with pytest.raises(ImageBindingError, match="not the one the plan was made on"):
        plan_to_sr(load_plan(plan_path), pydicom.dcmread(other, stop_before_pixels=True))
    code = main(["sr", "export", str(plan_path), "-o", str(tmp_path / "x.dcm"), "--image", str(other)])
    assert code == 2 and "not the one the plan was made on" in capsys.readouterr().err
    assert not (tmp_path / "x.dcm").exists()


def test_importing_an_image_or_a_damaged_sr_says_what_is_wrong(cases, tmp_path):
    dicom, plan_path = cases["upper_trapezius"]
    with pytest.raises(PlanFormatError, match="is not SR"):
        import_sr(dicom)
    (tmp_path / "junk.dcm").write_bytes(b"not dicom at all")
    with pytest.raises(PlanFormatError, match="not a DICOM SR"):
        import_sr(tmp_path / "junk.dcm")
    ds = pydicom.dcmread(export_sr(load_plan(plan_path), dicom, tmp_path / "sr.dcm"))
    container = [i for i in ds.ContentSequence if i.ValueType == "CONTAINER"][-1]
    container.ContentSequence[-1].TextValue = "{broken"
    ds.save_as(tmp_path / "bad.dcm")
    with pytest.raises(PlanFormatError, match="plan fields are damaged"):
        import_sr(tmp_path / "bad.dcm")


def test_cli_export_then_import_gives_the_same_plan(cases, tmp_path, capsys):
    dicom, plan_path = cases["quadratus_lumborum"]
    plan_copy = tmp_path / "p.plan.json"
    d = json.loads(plan_path.read_text())
    d["image"]["path"] = str(dicom)  # the plan finds its image by its own path
    plan_copy.write_text(json.dumps(d))
    assert main(["sr", "export", str(plan_copy), "-o", str(tmp_path / "sr.dcm")]) == 0
    assert main(["sr", "import", str(tmp_path / "sr.dcm"), "-o", str(tmp_path / "b.json")]) == 0
    assert_same_plan(plan_to_dict(load_plan(plan_copy)), plan_to_dict(load_plan(tmp_path / "b.json")))
