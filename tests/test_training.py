"""Scoring a resident's plan against an expert's: scenarios worked out by hand, history, CLI."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needleplan.cli import main
from needleplan.errors import ImageBindingError, PlanFormatError
from needleplan.plan import plan_from_dict, save_plan
from needleplan.training import FAIL, NEEDS_WORK, PASS, Criteria, attempt_history, record_attempt, score_plans
from needleplan.training.curves import curve_distances, split_along_across

# The expert's plan (rhomboid, MANUAL calibration): skin at row 0, a target box rows 8-11 x cols
# 0-4, a rib at 20 mm and the pleura at 25 mm, needle from (0, -18) to (9.5, 2).
# Needle direction (9.5, 20) / |(9.5, 20)|, |(9.5, 20)| = sqrt(90.25 + 400) = 22.1416.
PATH_MM = math.hypot(9.5, 20.0)
U = (9.5 / PATH_MM, 20.0 / PATH_MM)  # (0.42905, 0.90327)
N = (U[1], -U[0])  # perpendicular to the needle
REFERENCE = {
    "format": "needleplan.plan",
    "version": 1,
    "image": {"frame_index": 0, "sop_instance_uid": "1.2.3.4", "pixel_sha256": "ab" * 32},
    "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]},
    "site": "rhomboid",
    "approach": "in_plane",
    "patient": {"bmi": 24.0, "weight_kg": 70},
    "structures": [
        {"kind": "skin", "points_mm": [[0, -30], [0, 30]], "closed": False},
        {"kind": "target", "points_mm": [[8, 0], [8, 4], [11, 4], [11, 0]], "closed": True},
        {"kind": "rib", "points_mm": [[20, -15], [20, 15]], "closed": False},
        {"kind": "pleura", "points_mm": [[25, -30], [25, 30]], "closed": False},
    ],
    "needle": {"entry_mm": [0, -18], "target_mm": [9.5, 2], "length_mm": 38, "gauge": 25},
    "author": "expert",
}


def _plan(**changes):
    d = json.loads(json.dumps(REFERENCE))
    d.update(changes)
    return plan_from_dict(d)


def _with_tip(tip):
    return _plan(needle={**REFERENCE["needle"], "target_mm": list(tip)})


def _structures(drop=(), replace=None):
    out = [s for s in REFERENCE["structures"] if s["kind"] not in drop]
    return out + (replace or [])


def test_identical_plans_score_perfectly():
    score = score_plans(_plan(), _plan())
    assert score.result == PASS and score.passed
    n = score.needle
    assert (n.target_along_mm, n.target_across_mm, n.target_distance_mm) == (0.0, 0.0, 0.0)
    assert (n.angle_deg, n.depth_mm, n.entry_mm) == (0.0, 0.0, 0.0)
    assert [(h.kind, h.status, h.distance_mm) for h in score.hazards] == [
        ("rib", "found", 0.0),
        ("pleura", "found", 0.0),
    ]
    assert score.new_findings == () and score.blocks == () and score.extra_marks == ()
    assert score.reasons[0].startswith("Good plan")


def test_tip_3_mm_deeper_along_the_axis():
    # tip = (9.5, 2) + 3 * U = (10.7872, 4.7098): 3.0 mm along, 0.0 across, same direction;
    # depth (row) grows by 3 * 9.5 / 22.1416 = 1.2872 mm; the entry does not move.
    tip = (9.5 + 3 * U[0], 2 + 3 * U[1])
    score = score_plans(_with_tip(tip), _plan())
    n = score.needle
    assert n.target_along_mm == pytest.approx(3.0, abs=1e-9)
    assert n.target_across_mm == pytest.approx(0.0, abs=1e-9)
    assert n.angle_deg == pytest.approx(0.0, abs=1e-6)
    assert n.depth_mm == pytest.approx(1.2872, abs=1e-3)
    assert n.entry_mm == 0.0
    # 3.0 mm is at the tolerance (3 mm): the needle itself is not faulted ...
    assert not any("along the needle" in r for r in score.reasons)
    # ... but col 4.71 lies outside the target box (cols 0-4), which the safety check says
    assert "TARGET_MISSED" in {f["code"] for f in score.new_findings}
    assert score.result == NEEDS_WORK


def test_tip_4_mm_deeper_is_named_in_words():
    tip = (9.5 + 4 * U[0], 2 + 4 * U[1])
    score = score_plans(_with_tip(tip), _plan())
    assert score.needle.target_along_mm == pytest.approx(4.0)
    assert any("4.0 mm past the expert's along the needle" in r for r in score.reasons)
    assert score.result == NEEDS_WORK


def test_tip_short_and_to_the_side():
    # 1 mm short of the reference tip and 2 mm across: (9.5, 2) - 1 * U + 2 * N.
    tip = (9.5 - U[0] + 2 * N[0], 2 - U[1] + 2 * N[1])
    n = score_plans(_with_tip(tip), _plan()).needle
    assert n.target_along_mm == pytest.approx(-1.0)
    assert n.target_across_mm == pytest.approx(2.0)
    assert n.target_distance_mm == pytest.approx(math.sqrt(5.0))
    # the attempt's needle runs from (0, -18) to the new tip: angle = atan2 between the directions
    v = (tip[0], tip[1] + 18)
    expected = abs(math.degrees(math.atan2(U[0] * v[1] - U[1] * v[0], U[0] * v[0] + U[1] * v[1])))
    assert n.angle_deg == pytest.approx(expected)


def test_missed_pleura_is_named():
    attempt = _plan(structures=_structures(drop=("pleura",)))
    score = score_plans(attempt, _plan())
    pleura = [h for h in score.hazards if h.kind == "pleura"]
    assert [(h.status, h.distance_mm) for h in pleura] == [("missed", None)]
    assert any(r.startswith("You did not mark the pleura") for r in score.reasons)
    assert score.result == NEEDS_WORK


def test_mislocated_pleura_gives_the_distance():
    # the resident's pleura 3 mm deeper over the same columns: every point 3 mm away -> mean 3.0
    wrong = {"kind": "pleura", "points_mm": [[28, -30], [28, 30]], "closed": False}
    score = score_plans(_plan(structures=_structures(drop=("pleura",), replace=[wrong])), _plan())
    pleura = next(h for h in score.hazards if h.kind == "pleura")
    assert pleura.status == "mislocated" and pleura.distance_mm == pytest.approx(3.0)
    assert any("pleura is 3.0 mm from the expert's" in r for r in score.reasons)
    # 1.5 mm off is within the 2 mm tolerance: found
    near = {"kind": "pleura", "points_mm": [[26.5, -30], [26.5, 30]], "closed": False}
    score = score_plans(_plan(structures=_structures(drop=("pleura",), replace=[near])), _plan())
    assert next(h for h in score.hazards if h.kind == "pleura").status == "found"


def test_far_mark_counts_as_missed_and_extra():
    far = {"kind": "pleura", "points_mm": [[45, -30], [45, 30]], "closed": False}  # 20 mm off
    score = score_plans(_plan(structures=_structures(drop=("pleura",), replace=[far])), _plan())
    assert next(h for h in score.hazards if h.kind == "pleura").status == "missed"
    assert score.extra_marks == ("pleura",)


def test_vessel_kinds_match_each_other():
    artery = {"kind": "artery", "points_mm": [[14, 8], [14, 10], [16, 10], [16, 8]], "closed": True}
    vessel = dict(artery, kind="vessel")
    ref = _plan(structures=_structures(replace=[artery]))
    score = score_plans(_plan(structures=_structures(replace=[vessel])), ref)
    assert next(h for h in score.hazards if h.kind == "artery").status == "found"


def test_a_block_fails():
    # tip moved to (26, 2): 1 mm past the pleural line at 25 mm, the needle crosses the pleura
    # -> PLEURA_MARGIN block, which the expert's plan does not have
    score = score_plans(_with_tip((26.0, 2.0)), _plan())
    assert score.result == FAIL
    assert ("PLEURA_MARGIN", "block") in {(f["code"], f["severity"]) for f in score.blocks}
    assert "PLEURA_MARGIN" in {f["code"] for f in score.new_findings}
    assert score.reasons[0].startswith("Automatic fail")


def test_no_needle_needs_work():
    score = score_plans(_plan(needle=None), _plan())
    assert score.needle is None and score.result == NEEDS_WORK
    assert any("did not draw a needle" in r for r in score.reasons)


def test_reference_without_needle_is_refused():
    with pytest.raises(PlanFormatError, match="reference plan"):
        score_plans(_plan(), _plan(needle=None))


def test_attempt_on_another_image_is_refused():
    other = _plan(image={"frame_index": 0, "sop_instance_uid": "9.9.9", "pixel_sha256": "ab" * 32})
    with pytest.raises(ImageBindingError, match="another image"):
        score_plans(other, _plan())


def test_stricter_criteria_change_the_result():
    tip = (9.5 + 1 * U[0], 2 + 1 * U[1])  # 1 mm along, still inside the target box
    assert score_plans(_with_tip(tip), _plan()).result == PASS
    strict = Criteria(target_along_mm=0.5)
    assert score_plans(_with_tip(tip), _plan(), criteria=strict).result == NEEDS_WORK


@given(
    st.floats(-20, 20),
    st.floats(-20, 20),
    st.floats(-40, 40),
    st.floats(-40, 40),
    st.floats(0.1, 3.0),
    st.floats(0, 2 * math.pi),
)
def test_split_recovers_along_and_across(a, b, r0, c0, length_scale, theta):
    entry = (r0, c0)
    u = (math.cos(theta), math.sin(theta))
    ref_tip = (r0 + 10 * length_scale * u[0], c0 + 10 * length_scale * u[1])
    n = (u[1], -u[0])
    tip = (ref_tip[0] + a * u[0] + b * n[0], ref_tip[1] + a * u[1] + b * n[1])
    along, across = split_along_across(tip, ref_tip, entry)
    assert along == pytest.approx(a, abs=1e-6)
    assert across == pytest.approx(abs(b), abs=1e-6)


@given(
    st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=2, max_size=6),
    st.floats(-5, 5),
    st.floats(-5, 5),
)
def test_curve_distance_of_a_shifted_copy(points, dr, dc):
    moved = [(r + dr, c + dc) for r, c in points]
    d = curve_distances(points, False, points, False)
    # identical marks: zero, up to the float noise of sub-micrometre segments
    assert d.mean_mm == pytest.approx(0.0, abs=1e-6) and d.hausdorff_mm == pytest.approx(0.0, abs=1e-6)
    shifted = curve_distances(points, False, moved, False)
    assert shifted.hausdorff_mm <= math.hypot(dr, dc) + 1e-6  # never further than the shift
    assert shifted.mean_mm <= shifted.hausdorff_mm + 1e-9


def test_history_lists_a_residents_progress(tmp_path):
    ref = _plan()
    first = score_plans(_plan(structures=_structures(drop=("pleura",))), ref)
    second = score_plans(_plan(), ref)
    record_attempt(
        _plan(structures=_structures(drop=("pleura",))),
        first,
        resident="alice",
        case_id="case-1",
        library_root=tmp_path,
    )
    record_attempt(_plan(), second, resident="alice", case_id="case-1", library_root=tmp_path)
    record_attempt(_plan(), second, resident="bob", library_root=tmp_path)
    alice = attempt_history("alice", library_root=tmp_path)
    assert [r.result for r in alice] == [NEEDS_WORK, PASS]
    assert [(r.hazards_found, r.hazards_total) for r in alice] == [(1, 2), (2, 2)]
    assert all(r.case_id == "case-1" for r in alice)
    assert [r.resident for r in attempt_history("bob", library_root=tmp_path)] == ["bob"]
    assert attempt_history("carol", library_root=tmp_path) == []
    # attempts live beside, not inside, the clinical plan library
    assert (tmp_path / "training" / "index.sqlite").is_file()
    assert not (tmp_path / "index.sqlite").exists()


def test_cli_score_and_history(tmp_path, capsys):
    ref_path, att_path = tmp_path / "ref.plan.json", tmp_path / "att.plan.json"
    save_plan(_plan(), ref_path)
    save_plan(_plan(structures=_structures(drop=("pleura",))), att_path)
    lib = str(tmp_path / "lib")
    code = main(["score", str(att_path), str(ref_path), "--json", "--resident", "dana", "--library", lib])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["result"] == NEEDS_WORK
    assert out["recorded"]["resident"] == "dana"
    assert any(h["kind"] == "pleura" and h["status"] == "missed" for h in out["hazards"])
    code = main(["score", str(ref_path), str(ref_path), "--resident", "dana", "--library", lib])
    text = capsys.readouterr().out
    assert code == 0 and text.startswith("Result: PASS")
    assert main(["score", "history", "dana", "--library", lib, "--json"]) == 0
    history = json.loads(capsys.readouterr().out)
    assert [a["result"] for a in history["attempts"]] == [NEEDS_WORK, PASS]
    assert main(["score", "history", "dana", "--library", lib]) == 0
    assert "1 of 2 attempts passed." in capsys.readouterr().out


def test_cli_score_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["score", str(bad), str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
