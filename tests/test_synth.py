"""The phantom's anatomy, ground truth and reference plans (needleplan.synth).

Expected millimetres are worked out by hand from the presets' cited numbers (docs/clinical-rules.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.errors import NeedleplanError
from needleplan.geometry import point_in_polygon
from needleplan.plan import plan_from_dict
from needleplan.synth import HABITUS, SITE_PRESETS, Motion, generate_case
from needleplan.synth.probe import CURVILINEAR, LINEAR, image_grid, skin_row_mm
from needleplan.synth.truth import STANDARD_NEEDLES_MM, clip_polygon
from needleplan.vocabulary import StructureKind

KINDS = {k.value for k in StructureKind}  # the plan format's kinds (docs/contracts.md §4)


def _one(case, kind: str) -> dict:
    found = [s for s in case.structures if s["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


def _row_at(structure: dict, col_mm: float) -> float:
    pts = np.asarray(structure["points_mm"])
    return float(np.interp(col_mm, pts[:, 1], pts[:, 0]))


@pytest.fixture(scope="module")
def cases() -> dict:
    return {(p, h): generate_case(p, h, seed=11) for p in SITE_PRESETS for h in HABITUS}


def test_pleura_depths_follow_the_cited_rows(cases) -> None:
    # Pleura = skin-to-rib (Seol 2014, 1A: 21 / 24 / 27 mm by BMI group) + 5 mm rib-to-pleura
    # (Lichtenstein, 1A) = 26 / 29 / 32 mm, each within the 0.3 mm boundary wobble.
    for habitus, expected in (("thin", 26.0), ("average", 29.0), ("obese", 32.0)):
        pleura = _one(cases[("rhomboid_intercostal", habitus)], "pleura")
        rows = np.asarray(pleura["points_mm"])[:, 0]
        assert np.all(np.abs(rows - expected) <= 0.3 + 1e-9), habitus
    # Upper trapezius at GB21: 14.6 mm (women) / 17.4 mm (men) (Chen 2018, 1A); obese 22 mm.
    for habitus, expected in (("thin", 14.6), ("average", 17.4), ("obese", 22.0)):
        rows = np.asarray(_one(cases[("upper_trapezius", habitus)], "pleura")["points_mm"])[:, 0]
        assert np.all(np.abs(rows - expected) <= 0.3 + 1e-9), habitus


def test_piriformis_depth_and_size_follow_park_2011(cases) -> None:
    # Park 2011 (1D): centre depth 6.3 +/- 0.8 cm -> thin 55, average 63, obese 71 mm; the target
    # oval sits at the centre.  Muscle diameter 1.7 cm: the fascia lines above and below the
    # piriformis are 17 mm apart at the target's column (slope -0.05 on both, so parallel).
    for habitus, depth in (("thin", 55.0), ("average", 63.0), ("obese", 71.0)):
        case = cases[("piriformis", habitus)]
        assert _one(case, "target")["points_mm"]  # exists
        assert case.needle["target_mm"] == [depth, 0.0]
        lines = {s["label"]: s for s in case.structures if s["kind"] == "fascia"}
        top = _row_at(lines["gluteus maximus / piriformis"], 0.0)
        bottom = _row_at(lines["piriformis / gemelli / obturator internus"], 0.0)
        assert bottom - top == pytest.approx(17.0, abs=0.6)


def test_fat_and_pleura_deepen_with_habitus(cases) -> None:
    for preset in ("upper_trapezius", "rhomboid_rib", "thoracic_paraspinal"):
        depths = [_row_at(_one(cases[(preset, h)], "pleura"), 0.0) for h in ("thin", "average", "obese")]
        assert depths[0] < depths[1] < depths[2], preset
    for preset in ("gluteus_medius", "piriformis", "quadratus_lumborum"):
        fat = []
        for h in ("thin", "average", "obese"):
            line = [s for s in cases[(preset, h)].structures if s["label"].startswith("subcutaneous fat / ")][0]
            fat.append(_row_at(line, 0.0))
        assert fat[0] < fat[1] < fat[2], preset


def test_every_structure_is_plan_format_and_inside_the_region(cases) -> None:
    for case in cases.values():
        b, o, s = case.region_box_px, case.origin_px, case.spacing_mm[0]
        lo = ((b[0] - o[0]) * s - 1e-6, (b[1] - o[1]) * s - 1e-6)
        hi = ((b[2] - o[0]) * s + 1e-6, (b[3] - o[1]) * s + 1e-6)
        for st_ in (*case.structures, *case.reference_structures):
            assert st_["kind"] in KINDS
            pts = np.asarray(st_["points_mm"], dtype=float)
            assert pts.ndim == 2 and pts.shape[1] == 2 and len(pts) >= 2
            assert np.all(pts >= lo) and np.all(pts <= hi), (case.preset, st_["label"])
        # and the plan model accepts them
        plan = case.to_plan(truth=True)
        assert len(plan.structures) == len(case.structures)
        assert [s.kind for s in plan.structures] == [s["kind"] for s in case.structures]
        assert plan.needle.length_mm == case.needle["length_mm"]


def test_reference_needle_is_drawn_like_a_physician(cases) -> None:
    for (preset, habitus), case in cases.items():
        n = case.needle
        (er, ec), (tr, tc) = n["entry_mm"], n["target_mm"]
        target = np.asarray(_one(case, "target")["points_mm"])
        assert point_in_polygon(np.array([[tr, tc]]), target)[0], "tip in the target"
        assert n["length_mm"] in STANDARD_NEEDLES_MM
        # the entry is on the skin line
        skin = _one(case, "skin")
        assert er == pytest.approx(_row_at(skin, ec), abs=0.01)
        offset = abs(ec - tc)
        path = math.hypot(tr - er, offset)
        if case.probe.kind == "linear":
            # 15-25 mm from the target (1E Kishner), and inside the 25 mm half-width of the image
            assert 15.0 - 1e-9 <= offset <= 24.0 + 1e-9, (preset, habitus, offset)
            # the shortest standard needle leaving 10 mm outside (R5)
            shorter = [m for m in STANDARD_NEEDLES_MM if m < n["length_mm"]]
            assert path + 10.0 <= n["length_mm"] and all(path + 10.0 > m for m in shorter)
            assert n["gauge"] == (25 if n["length_mm"] <= 38 else 22)
        else:
            # beside the curved probe's 50 mm face, never under it
            assert offset >= CURVILINEAR.footprint_mm / 2.0
            assert n["length_mm"] == 89.0


def test_thin_upper_trapezius_worked_example(cases) -> None:
    # Thin: skin 1.5 + fat 2.5 = 4.0 mm to the trapezius, which is 14.6 - 1.5 - 2.5 - 2.5 = 8.1 mm
    # thick, so the target is at 4.0 + 8.1/2 = 8.05 mm.  Entry: 8.05/tan 30 = 13.9 mm -> raised to
    # the 15 mm minimum; path sqrt(8.05^2 + 15^2) = 17.02 mm; 17.02 + 10 > 25 -> 38 mm needle.
    case = cases[("upper_trapezius", "thin")]
    assert case.needle == {"entry_mm": [0.0, 15.0], "target_mm": [8.05, 0.0], "length_mm": 38.0, "gauge": 25}
    assert case.patient == {"bmi": 17.5, "weight_kg": 48.0, "sex": "F", "lung_disease": False, "anticoagulated": False}


def test_rhomboid_rib_lies_under_tip_and_extension(cases) -> None:
    case = cases[("rhomboid_rib", "average")]
    rib = np.asarray(_one(case, "rib")["points_mm"])
    (er, ec), (tr, tc) = case.needle["entry_mm"], case.needle["target_mm"]
    assert rib[:, 1].min() < tc < rib[:, 1].max(), "the rib is under the tip"
    # where the needle's straight extension reaches the rib's middle depth, the rib is there
    mid = 0.5 * (rib[:, 0].min() + rib[:, 0].max())
    col = tc + (ec - tc) * (mid - tr) / (er - tr)
    assert point_in_polygon(np.array([[mid, col]]), rib)[0]


def test_cine_truth_carries_the_motion() -> None:
    case = generate_case("rhomboid_intercostal", "thin", frames=5, seed=2)
    plan = case.plan_dict(truth=True)
    motion = plan["synth"]["motion"]
    # 50 ms frames; 15 breaths/min: shift(t) = 1.5 sin(2 pi t / 4 s); frame 4 at 0.2 s
    assert motion["time_ms"] == [0.0, 50.0, 100.0, 150.0, 200.0]
    assert motion["pleura_shift_mm"][4] == pytest.approx(1.5 * math.sin(2 * math.pi * 0.2 / 4.0), abs=1e-4)
    assert _one(case, "pleura")["frame_index"] == 0
    assert [s for s in case.structures if s["kind"] == "artery"][0]["frame_index"] == 0


def test_motion_waveforms() -> None:
    m = Motion()
    # one heartbeat at 72/min lasts 833 ms; systole is its first 40 %: peak at 20 % = 167 ms
    assert m.artery_scale(0.8333 * 0.2) == pytest.approx(1.07, abs=1e-4)
    assert m.artery_scale(0.8333 * 0.6) == 1.0
    assert m.sliding(2.0) == pytest.approx(0.0, abs=1e-12)  # half a 4 s breath


def test_unknown_presets_are_typed_errors() -> None:
    with pytest.raises(NeedleplanError, match="unknown site preset 'deltoid'"):
        generate_case("deltoid", "thin")
    with pytest.raises(NeedleplanError, match="unknown habitus 'huge'"):
        generate_case("rhomboid_rib", "huge")
    with pytest.raises(NeedleplanError, match="unknown probe"):
        generate_case("rhomboid_rib", "thin", probe="phased")
    with pytest.raises(NeedleplanError, match="frames must be at least 1"):
        generate_case("rhomboid_rib", "thin", frames=0)


def test_probe_override_keeps_world_mm() -> None:
    case = generate_case("gluteus_medius", "thin", probe="linear", seed=1)
    assert case.probe.kind == "linear" and case.spacing_mm == (LINEAR.spacing_mm, LINEAR.spacing_mm)
    assert case.probe.depth_mm == generate_case("gluteus_medius", "thin", seed=1).probe.depth_mm


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=3, max_size=12),
    st.tuples(st.floats(-30, 0), st.floats(-30, 0), st.floats(1, 30), st.floats(1, 30)),
)
def test_clip_polygon_stays_in_the_box(points, box) -> None:
    out = clip_polygon(np.asarray(points), box)
    if len(out):
        assert np.all(out[:, 0] >= box[0] - 1e-9) and np.all(out[:, 0] <= box[2] + 1e-9)
        assert np.all(out[:, 1] >= box[1] - 1e-9) and np.all(out[:, 1] <= box[3] + 1e-9)
    inside = [p for p in points if box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]]
    if len(inside) == len(points):  # nothing to clip: unchanged
        assert np.allclose(out, np.asarray(points))


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 0.5), st.floats(10, 120), st.floats(10, 80))
def test_image_grid_origin_is_world_zero(spacing, depth, footprint) -> None:
    for probe in (LINEAR, CURVILINEAR):
        p = probe.__class__(
            **{
                **{f: getattr(probe, f) for f in probe.__slots__},
                "spacing_mm": spacing,
                "depth_mm": depth,
                "footprint_mm": footprint,
            }
        )
        g = image_grid(p)
        r0, c0, r1, c1 = g.box_px
        assert 0 <= r0 <= g.origin_px[0] <= r1 < g.rows and 0 <= c0 <= g.origin_px[1] <= c1 < g.cols
        assert (c1 - c0) % 2 == 0  # odd width: the reference column is an integer
        assert g.row_mm()[g.origin_px[0], 0] == 0.0 and g.col_mm()[0, g.origin_px[1]] == 0.0
        # depth below the skin line at the centre reaches the asked depth within a pixel
        assert abs((r1 - g.origin_px[0]) * spacing - depth) <= spacing / 2 + 1e-9
        # the skin arc of a curved face lies inside the box
        edge = skin_row_mm(p, np.array([-p.footprint_mm, p.footprint_mm]))
        assert np.all(edge >= (r0 - g.origin_px[0]) * spacing - 1e-9)


def test_reference_plans_pass_the_safety_engine(cases) -> None:
    # A physician's reference plan is never blocked; the teaching points still show up.
    from needleplan.safety import check_plan

    codes = {}
    for key, case in cases.items():
        report = check_plan(plan_from_dict(case.plan_dict(truth=False)))
        assert report.worst_severity != "block", (key, [f.message for f in report.findings])
        codes[key] = report.codes
    # over an intercostal space the tip has no rib backstop; over a rib it has
    assert all("INTERCOSTAL_TARGET" in codes[("rhomboid_intercostal", h)] for h in HABITUS)
    assert not any("INTERCOSTAL_TARGET" in codes[("rhomboid_rib", h)] for h in HABITUS)
    assert not any("INTERCOSTAL_TARGET" in codes[("thoracic_paraspinal", h)] for h in HABITUS)
    # the thin woman at the upper trapezius (BMI 17.5, pleura 14.6 mm) is flagged thin
    assert "THIN_PATIENT" in codes[("upper_trapezius", "thin")]
    assert "THIN_PATIENT" not in codes[("gluteus_medius", "obese")]
    # no vessel or nerve is crossed by a reference needle
    assert not any(c & {"VESSEL_CROSSED", "NERVE_CROSSED", "TARGET_MISSED"} for c in codes.values())
