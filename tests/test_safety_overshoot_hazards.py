"""HAZARD_OVERSHOOT: the straight extension past the tip meets a vessel, nerve or viscus (R3 with R10, R11, R18)."""

from __future__ import annotations

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from tests.scenarios.plans import box, line, plan


def _codes(d):
    report = check_plan(plan_from_dict(d))
    return {f.code: f for f in report.findings}


def _deep(structures, *, length=89.0, site="gluteus_medius"):
    # A vertical needle from the skin (0, 0) to a tip 40 mm deep: 89 - 40 = 49 mm unused.
    return plan(
        site,
        structures=[line("skin", (0.0, -60.0), (0.0, 60.0)), *structures],
        entry=(0.0, 0.0),
        tip=(40.0, 0.0),
        length=length,
    )


def test_an_artery_below_the_tip_within_the_unused_length_is_named_with_its_distance():
    # Artery box rows 60-66 under the tip: the extension meets its top 60 - 40 = 20 mm past the tip,
    # within the 49 mm unused; its clearance from the needle itself is 20 mm, so no margin finding.
    found = _codes(_deep([box("artery", 60.0, -3.0, 66.0, 3.0)]))
    f = found["HAZARD_OVERSHOOT"]
    assert f.severity == "warn"
    assert f.values["past_tip_mm"] == pytest.approx(20.0)
    assert f.values["reach_mm"] == pytest.approx(49.0)
    assert "artery" in f.message and "20.0 mm past" in f.message
    assert "VESSEL_MARGIN" not in found and "VESSEL_CROSSED" not in found


def test_a_bone_between_the_tip_and_the_hazard_is_a_backstop():
    # Bone at row 50 (10 mm past the tip) lies before the artery at 60 mm: the needle stops on it.
    found = _codes(_deep([line("bone", (50.0, -20.0), (50.0, 20.0)), box("artery", 60.0, -3.0, 66.0, 3.0)]))
    assert "HAZARD_OVERSHOOT" not in found


def test_a_hazard_beyond_the_unused_length_is_not_reached():
    # A 50 mm needle leaves 10 mm unused; the artery starts 20 mm past the tip.
    found = _codes(_deep([box("artery", 60.0, -3.0, 66.0, 3.0)], length=50.0))
    assert "HAZARD_OVERSHOOT" not in found


def test_a_nerve_and_a_kidney_are_hazards_too_but_not_a_suggestion():
    nerve = box("nerve", 55.0, -4.0, 60.0, 4.0)
    kidney = box("viscera", 70.0, -10.0, 85.0, 10.0)
    found = _codes(_deep([nerve], site="piriformis"))
    assert found["HAZARD_OVERSHOOT"].values["past_tip_mm"] == pytest.approx(15.0)
    found = _codes(_deep([kidney], site="quadratus_lumborum"))
    assert found["HAZARD_OVERSHOOT"].values["past_tip_mm"] == pytest.approx(30.0)
    suggested = {**kidney, "suggested": True, "confidence": 0.8, "evidence": "test"}
    assert "HAZARD_OVERSHOOT" not in _codes(_deep([suggested], site="quadratus_lumborum"))


def test_a_hazard_to_the_side_of_the_extension_is_not_met():
    # Artery 10 mm to the side (cols 10-16): the vertical extension misses it.
    assert "HAZARD_OVERSHOOT" not in _codes(_deep([box("artery", 60.0, 10.0, 66.0, 16.0)]))
