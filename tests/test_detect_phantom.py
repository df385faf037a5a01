"""Detectors on phantom cases (needleplan.synth): known structures found within tolerances,
no pleura invented on a non-thoracic site, lung sliding and pulsation on cines."""

from __future__ import annotations

import numpy as np
import pytest

from needleplan.detect import CineMeasures, detect_cine, detect_frame, to_structures
from needleplan.detect.scoring import case_calibration as _cal
from needleplan.detect.scoring import match_shadow_bones, match_vessels, pleura_errors_mm, points
from needleplan.synth import Motion, generate_case


def _truth(case, kind):
    return [s for s in case.structures if s["kind"] == kind]


def _cols_mm(case):
    b, o, s = case.region_box_px, case.origin_px, case.spacing_mm[1]
    return ((b[1] - o[1]) * s, (b[3] - o[1]) * s)


@pytest.mark.parametrize(
    "preset,habitus,seed",
    [
        ("rhomboid_intercostal", "average", 0),
        ("upper_trapezius", "thin", 1),
        ("thoracic_paraspinal", "obese", 2),
        ("rhomboid_rib", "obese", 3),
    ],
)
def test_thoracic_pleura_and_ribs(preset: str, habitus: str, seed: int) -> None:
    case = generate_case(preset, habitus, seed=seed)
    cal = _cal(case)
    dets = to_structures(detect_frame(case.frames[0], cal, site=case.site), cal)
    pleura = [s for s in dets if s.kind == "pleura"]
    assert len(pleura) == 1, "a thoracic case must never miss the pleura"
    err = pleura_errors_mm(pleura[0], _truth(case, "pleura")[0])
    assert err.size > 10 and np.median(err) < 1.0 and np.percentile(err, 95) < 2.0
    assert pleura[0].suggested and pleura[0].frame_index == 0
    bm = match_shadow_bones(dets, case.structures, _cols_mm(case))
    assert bm.found_ribs == bm.true_ribs
    assert bm.correct_rib_suggestions == bm.rib_suggestions


def test_pleura_depth_against_truth_by_hand() -> None:
    # rhomboid, average habitus: skin-to-rib 24 mm (Seol) + 5 mm rib-to-pleura = 29 mm deep,
    # plus a boundary wobble of at most 0.3 mm
    case = generate_case("rhomboid_intercostal", "average", seed=0)
    cal = _cal(case)
    pleura = [s for s in to_structures(detect_frame(case.frames[0], cal), cal) if s.kind == "pleura"][0]
    assert np.median(points(pleura)[:, 0]) == pytest.approx(29.0, abs=0.5)


@pytest.mark.parametrize(
    "preset,habitus",
    [
        ("gluteus_medius", "thin"),
        ("gluteus_medius", "obese"),
        ("piriformis", "average"),
        ("quadratus_lumborum", "thin"),
    ],
)
def test_no_pleura_invented_off_the_thorax(preset: str, habitus: str) -> None:
    case = generate_case(preset, habitus, seed=4)
    # without the site, too: the image alone must not make a pleura
    for site in (case.site, None):
        res = detect_frame(case.frames[0], _cal(case), site=site)
        assert not [d for d in res.detections if d.kind == "pleura"]
        assert any("no pleura-like line" in n for n in res.notes)


@pytest.mark.parametrize(
    "preset,habitus", [("rhomboid_intercostal", "obese"), ("piriformis", "thin"), ("gluteus_medius", "average")]
)
def test_vessels_found_at_their_centre(preset: str, habitus: str) -> None:
    case = generate_case(preset, habitus, seed=5)
    cal = _cal(case)
    dets = to_structures(detect_frame(case.frames[0], cal), cal)
    vm, tv, dv = match_vessels(dets, case.structures)
    assert vm.true_vessels == 1 and vm.suggestions == 1 and len(vm.pairs) == 1
    assert vm.pairs[0][2] < 0.5  # centre error, mm


def test_structures_keep_the_plan_format() -> None:
    case = generate_case("rhomboid_intercostal", "thin", seed=6)
    cal = _cal(case)
    for s in to_structures(detect_frame(case.frames[0], cal), cal):
        assert s.kind in {"skin", "fascia", "rib", "bone", "pleura", "vessel", "artery", "vein"}
        assert s.suggested is True and 0.0 <= s.confidence <= 1.0 and s.evidence
        assert all(len(p) == 2 for p in s.points_mm)


@pytest.mark.parametrize("moving", [True, False])
def test_cine_sliding_and_pulsation(moving: bool) -> None:
    # default motion: sliding 2.5 mm and a 7 % pulse; switched off through the public Motion
    motion = Motion() if moving else Motion(sliding_mm=0.0, pulse_fraction=0.0)
    case = generate_case("rhomboid_intercostal", "thin", frames=30, seed=7, motion=motion)
    cal = _cal(case)
    m = CineMeasures()
    res = detect_cine(case.frames, cal, frame_time_ms=motion.frame_time_ms, site=case.site, measures=m)
    assert m.sliding is not None and m.sliding.present is moving
    pleura = [d for d in res.detections if d.kind == "pleura"][0]
    assert ("sliding present" if moving else "sliding absent") in pleura.evidence
    if not moving:
        assert any("LUNG SLIDING ABSENT" in n for n in res.notes)
    kinds = [d.kind for d in res.detections if d.kind in ("artery", "vein", "vessel")]
    assert kinds == (["artery"] if moving else ["vein"])


def test_cine_refuses_a_single_frame() -> None:
    from needleplan.errors import ImageReadError

    case = generate_case("upper_trapezius", "thin")
    with pytest.raises(ImageReadError, match="at least 2 frames"):
        detect_cine(case.frames, _cal(case))
