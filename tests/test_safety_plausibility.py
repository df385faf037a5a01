"""Plans that describe no real procedure get a block with their reason (rules_plausibility, issue 17).

Geometry worked by hand: without a marked skin line, depth is the tip's ``row_mm`` (docs/contracts.md
section 3: row 0 is the skin); with one, depth is measured from the line straight above the point.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from needleplan.plan import load_plan, plan_from_dict
from needleplan.safety import check_plan

REPRO = Path(__file__).parent / "data" / "fuzz_repro" / "plans"
SAMPLES = sorted((Path(__file__).parents[1] / "sample_dicom").glob("*.plan.json"))


def _plan(needle=None, structures=(), calibrated=True, site="gluteus_medius"):
    return plan_from_dict(
        {
            "format": "needleplan.plan",
            "version": 1,
            "image": {"frame_index": 0},
            "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]}
            if calibrated
            else {"source": "NONE"},
            "site": site,
            "structures": list(structures),
            "needle": needle or {"entry_mm": [0, -30], "target_mm": [20, 0], "length_mm": 50},
        }
    )


def _codes(plan) -> dict[str, str]:
    return {f.code: f.severity for f in check_plan(plan).findings if f.code.startswith("IMPLAUSIBLE")}


def _finding(plan, code):
    return next(f for f in check_plan(plan).findings if f.code == code)


def test_a_real_plan_has_no_implausible_finding():
    # entry (0, -30), tip (20, 0): path sqrt(20**2 + 30**2) = 36.1 mm < 50 mm needle, tip 20 mm deep
    assert _codes(_plan()) == {}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_the_shipped_sample_plans_have_no_implausible_finding(sample):
    assert _codes(load_plan(sample)) == {}


@pytest.mark.parametrize("length_mm, blocked", [(250.0, True), (200.5, True), (200.0, False), (38.0, False)])
def test_a_needle_longer_than_any_made_is_a_block(length_mm, blocked):
    # path 36.1 mm, so each of these needles reaches; only the length itself is in question
    plan = _plan({"entry_mm": [0, -30], "target_mm": [20, 0], "length_mm": length_mm})
    assert _codes(plan) == ({"IMPLAUSIBLE_NEEDLE_LENGTH": "block"} if blocked else {})
    if blocked:
        f = _finding(plan, "IMPLAUSIBLE_NEEDLE_LENGTH")
        assert f"A {length_mm:g} mm needle is longer than any needle made" in f.message
        assert f.values["longest_made_mm"] == 200.0


def test_a_needle_shorter_than_1mm_is_a_block_even_uncalibrated():
    # the file format refuses a needle under 5 mm; a Plan built in code (the plugin's model) is not a
    # file, so the rule stands behind it.  The length is in mm whatever the image's calibration.
    plan = _plan(calibrated=False)
    plan = dataclasses.replace(plan, needle=dataclasses.replace(plan.needle, length_mm=0.5))
    f = _finding(plan, "IMPLAUSIBLE_NEEDLE_LENGTH")
    assert f.severity == "block" and "A 0.5 mm needle is shorter than 1 mm" in f.message
    assert check_plan(plan).worst_severity == "block"


def test_a_target_above_the_skin_is_a_block():
    # tip at row -5: 5 mm above the skin line (row 0); entry (0, -30)
    plan = _plan({"entry_mm": [0, -30], "target_mm": [-5, 0], "length_mm": 50})
    f = _finding(plan, "IMPLAUSIBLE_TARGET_DEPTH")
    assert f.severity == "block" and "The planned tip is 5.0 mm above the skin" in f.message
    assert f.values["depth_mm"] == -5.0


@pytest.mark.parametrize("tip_row, blocked", [(3.0, True), (3.5, True), (3.999, True), (4.0, False)])
def test_a_target_less_than_1mm_under_a_marked_skin_line_is_a_block(tip_row, blocked):
    # skin marked 3 mm down (row 3 across the field): a tip at row 3.5 is 0.5 mm deep, at row 4 1.0 mm
    skin = {"kind": "skin", "points_mm": [[3, -60], [3, 60]]}
    plan = _plan({"entry_mm": [3, -30], "target_mm": [tip_row, 0], "length_mm": 50}, [skin])
    assert ("IMPLAUSIBLE_TARGET_DEPTH" in _codes(plan)) is blocked
    if blocked:
        depth = tip_row - 3.0
        assert f"only {depth:.1f} mm below the skin" in _finding(plan, "IMPLAUSIBLE_TARGET_DEPTH").message


def test_a_needle_drawn_shorter_than_1mm_is_a_block():
    # entry (5, 0) to tip (5.3, 0.4): path sqrt(0.3**2 + 0.4**2) = 0.5 mm, the tip 5.3 mm deep
    plan = _plan({"entry_mm": [5, 0], "target_mm": [5.3, 0.4], "length_mm": 38})
    assert _codes(plan) == {"IMPLAUSIBLE_PATH": "block"}
    f = _finding(plan, "IMPLAUSIBLE_PATH")
    assert "drawn 0.5 mm from entry to tip, shorter than 1 mm" in f.message
    # 0.6, 0.8: exactly 1 mm is a path
    assert _codes(_plan({"entry_mm": [5, 0], "target_mm": [5.6, 0.8], "length_mm": 38})) == {}


def test_structures_entirely_above_the_skin_are_a_block_and_partly_above_are_not():
    above = {"kind": "artery", "points_mm": [[-10, -5], [-10, 5], [-5, 0]], "closed": True, "label": "SGA"}
    straddling = {"kind": "vein", "points_mm": [[-5, 10], [5, 10], [0, 15]], "closed": True}
    suggested = {"kind": "pleura", "points_mm": [[-8, -40], [-8, 40]], "suggested": True}
    skin = {"kind": "skin", "points_mm": [[-1, -60], [-1, 60]]}  # the skin line itself is never "above"
    plan = _plan(structures=[straddling, above, suggested])
    f = _finding(plan, "IMPLAUSIBLE_STRUCTURE")
    assert f.severity == "block" and f.values["structures"] == [1] and f.values["kinds"] == ["artery"]
    assert "Marked entirely above the skin, outside the patient: SGA (structures[1])" in f.message
    assert _codes(_plan(structures=[straddling, suggested])) == {}
    # with the skin marked 1 mm above row 0, the straddling vein (rows -5..5) is still partly under it
    assert "IMPLAUSIBLE_STRUCTURE" not in _codes(_plan(structures=[skin, straddling]))


def test_geometry_rules_wait_for_a_calibration_and_say_so():
    plan = _plan({"entry_mm": [0, -30], "target_mm": [-5, 0], "length_mm": 50}, calibrated=False)
    report = check_plan(plan)
    assert _codes(plan) == {}
    uncal = next(f for f in report.findings if f.code == "UNCALIBRATED")
    for code in ("IMPLAUSIBLE_TARGET_DEPTH", "IMPLAUSIBLE_PATH", "IMPLAUSIBLE_STRUCTURE"):
        assert code in uncal.values["skipped"]


def test_the_nanometre_reproducer_is_a_block_not_a_clean_verdict():
    # P5: the whole plan scaled by 1e-9: tip 2.5e-8 mm deep, needle drawn 5.6e-8 mm long
    plan = load_plan(REPRO / "P5_nanometre_geometry_clean.plan.json")
    report = check_plan(plan)
    assert report.worst_severity == "block"
    assert _codes(plan) == {"IMPLAUSIBLE_TARGET_DEPTH": "block", "IMPLAUSIBLE_PATH": "block"}
    # the first words a physician reads say why
    assert report.findings[0].code == "IMPLAUSIBLE_TARGET_DEPTH"
    assert json.loads(json.dumps(report.to_dict()))["worst_severity"] == "block"
