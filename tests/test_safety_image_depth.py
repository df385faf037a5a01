"""R15, second part: the image must show what lies under the target (IMAGE_TOO_SHALLOW).

Hand-worked plans in world mm (row, col), row = depth below the probe face (no skin line marked).
Calibration: 0.1 mm/px both axes, origin (0, 0), so a region box ending at row R px ends at R * 0.1 mm.
"""

from __future__ import annotations

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from tests.scenarios.plans import CAL, UNCAL, box, line, plan, pleura

# Needle entry (0, -20) to tip (15, 0): d = (15, 20), path = 25 mm (3-4-5), u_row = 15 / 25 = 0.6.
# A 50 mm needle leaves 50 - 25 = 25 mm unused; the straight extension reaches row 15 + 25 * 0.6 = 30.0 mm.
ENTRY, TIP, LENGTH = (0.0, -20.0), (15.0, 0.0), 50.0
TARGET = box("target", 13, -2, 16, 2)
RIB_ABOVE = box("rib", 5, 10, 8, 20)  # deepest row 8 < tip row 15: not "beneath the target"


def cal_box(last_row_px: int | None) -> dict:
    """CAL with a region box rows 0..last_row_px (inclusive), cols 0..400; None: no box."""
    return dict(CAL) if last_row_px is None else {**CAL, "region_box_px": [0, 0, last_row_px, 400]}


def report(site: str, structures, last_row_px: int | None = 250, cal: dict | None = None):
    return check_plan(
        plan_from_dict(
            plan(
                site,
                structures=[TARGET, *structures],
                entry=ENTRY,
                tip=TIP,
                length=LENGTH,
                cal=cal or cal_box(last_row_px),
            )
        )
    )


def test_shallow_image_nothing_beneath_warns_with_the_numbers():
    # Image ends at 250 px * 0.1 = 25.0 mm < 30.0 mm reach; only a rib above the tip is marked.
    r = report("rhomboid", [RIB_ABOVE], 250)
    [f] = r.by_code("IMAGE_TOO_SHALLOW")
    assert f.severity == "warn"
    assert f.values["image_depth_mm"] == pytest.approx(25.0)
    assert f.values["reach_row_mm"] == pytest.approx(30.0)
    assert f.values["overshoot_reach_mm"] == pytest.approx(25.0)
    assert f.values["tip_row_mm"] == pytest.approx(15.0)
    assert r.metrics["overshoot_reach_mm"] == pytest.approx(25.0)
    assert f.message == (
        "The image shows 25.0 mm; the needle could reach 30.0 mm along this path (25.0 mm of "
        "unused needle past the tip at 15.0 mm); nothing is marked beneath the target: deepen "
        "the image to see the pleura or a rib or bone under it."
    )


def test_pleura_marked_below_the_target_silences_it():
    # Pleura 20 mm deep (> tip row 15): the image shows what is under the target, even if it is shallow.
    assert "IMAGE_TOO_SHALLOW" not in report("rhomboid", [RIB_ABOVE, pleura(20)], 250).codes


def test_suggested_pleura_is_not_a_marked_structure():
    r = report("rhomboid", [pleura(20, suggested=True, confidence=0.8)], 250)
    assert r.by_code("IMAGE_TOO_SHALLOW")[0].severity == "warn"


def test_image_deep_enough_or_reach_exactly_shown():
    # 300 px -> 30.0 mm = the 30.0 mm reach: the image shows it, no finding; 299 px -> 29.9 mm < 30.0: warn.
    assert "IMAGE_TOO_SHALLOW" not in report("rhomboid", [], 300).codes
    assert report("rhomboid", [], 299).by_code("IMAGE_TOO_SHALLOW")[0].values["image_depth_mm"] == pytest.approx(29.9)


def test_origin_offset_counts():
    # Origin at row 20 px: box row 270 px -> (270 - 20) * 0.1 = 25.0 mm, still shallower than 30.0 mm.
    cal = {**CAL, "origin_px": [20.0, 0.0], "region_box_px": [20, 0, 270, 400]}
    f = report("rhomboid", [], cal=cal).by_code("IMAGE_TOO_SHALLOW")[0]
    assert f.values["image_depth_mm"] == pytest.approx(25.0)


def test_no_region_box_skips_the_check_and_says_so():
    [f] = report("rhomboid", [], None).by_code("IMAGE_TOO_SHALLOW")
    assert f.severity == "info"
    assert f.values["image_depth_mm"] is None and f.values["skipped"] == "no calibrated region box"
    assert "30.0 mm" in f.message


def test_superficial_site_has_no_floor_to_show():
    assert "IMAGE_TOO_SHALLOW" not in report("other", [], 250).codes


def test_deep_sites_use_bone_and_the_expected_nerve_not_an_artery():
    artery_below = box("artery", 20, -3, 23, 3)
    nerve_below = box("nerve", 20, -3, 23, 3)
    bone_below = line("bone", (40, -30), (40, 30))
    f = report("piriformis", [artery_below], 250).by_code("IMAGE_TOO_SHALLOW")[0]
    assert f.values["looked_for"] == ["bone", "nerve"] and "bone or the nerve" in f.message
    assert "IMAGE_TOO_SHALLOW" not in report("piriformis", [nerve_below], 250).codes
    assert "IMAGE_TOO_SHALLOW" not in report("gluteus_maximus", [bone_below], 250).codes
    # Quadratus lumborum expects viscera: a kidney outline beneath the target counts.
    assert "IMAGE_TOO_SHALLOW" not in report("quadratus_lumborum", [box("viscera", 25, -20, 60, 20)], 250).codes
    assert report("quadratus_lumborum", [], 250).by_code("IMAGE_TOO_SHALLOW")[0].values["looked_for"] == [
        "bone",
        "viscera",
    ]


def test_vertical_needle_reaches_tip_plus_unused_length():
    # Entry (0, 0) to tip (15, 0), 38 mm needle: unused 38 - 15 = 23 mm, straight down: reach row 38.0 mm.
    # Image 350 px -> 35.0 mm < 38.0: warn.
    p = plan("upper_trapezius", structures=[TARGET], entry=(0, 0), tip=(15, 0), length=38, cal=cal_box(350))
    f = check_plan(plan_from_dict(p)).by_code("IMAGE_TOO_SHALLOW")[0]
    assert f.values["reach_row_mm"] == pytest.approx(38.0) and f.values["image_depth_mm"] == pytest.approx(35.0)


def test_uncalibrated_lists_it_as_skipped():
    r = check_plan(plan_from_dict(plan("rhomboid", structures=[TARGET], entry=ENTRY, tip=TIP, cal=UNCAL)))
    assert "IMAGE_TOO_SHALLOW" in r.by_code("UNCALIBRATED")[0].values["skipped"]
    assert "IMAGE_TOO_SHALLOW" not in r.codes
