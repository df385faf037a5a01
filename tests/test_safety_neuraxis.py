"""R20, the neuraxis at the lumbar paraspinal site: margin, overshoot through the interlaminar window,
not marked, and the deepest safe insertion and suggestion that respect it.

Every scene is drawn in world mm ``(row, col)`` with the skin at row 0: two laminae (bone lines) with
the interlaminar window between cols -8 and 8, and the neuraxis (the ligamentum flavum line) across
the window a few mm below the laminae.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.plan import plan_from_dict
from needleplan.planner import overshoot, suggest
from needleplan.safety import check_plan
from tests.scenarios.plans import UNCAL, box, line, plan

SITE = "lumbar_paraspinal"


def spine(lamina_row: float, neuraxis_row: float) -> list[dict]:
    """Skin, two laminae (cols -30..-8 and 8..30) at ``lamina_row`` and the neuraxis across the window."""
    return [
        line("skin", (0.0, -60.0), (0.0, 60.0)),
        line("bone", (lamina_row, -30.0), (lamina_row, -8.0), label="lamina L3"),
        line("bone", (lamina_row, 8.0), (lamina_row, 30.0), label="lamina L4"),
        line("neuraxis", (neuraxis_row, -8.0), (neuraxis_row, 8.0)),
    ]


def run(structures, *, entry, tip, length, patient=None, **kw):
    report = check_plan(
        plan_from_dict(plan(SITE, structures=structures, entry=entry, tip=tip, length=length, patient=patient, **kw))
    )
    return report, {f.code: f for f in report.findings}


# --- scenario 1: the extension passes through the window into the neuraxis ---


def test_extension_through_the_window_is_warned_with_the_distance():
    # Average patient: laminae 40 mm deep, neuraxis 45 mm. Vertical 50 mm needle at col 0 (over the
    # window) to a knot 25 mm deep: 50 - 25 = 25 mm unused; the neuraxis is 45 - 25 = 20 mm past the
    # tip, within 25, and col 0 misses both laminae (they start at |col| = 8).
    report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(25.0, 0.0), length=50.0)
    f = found["NEURAXIS_OVERSHOOT"]
    assert f.severity == "warn"
    assert f.values["neuraxis_beyond_tip_mm"] == pytest.approx(20.0)
    assert f.values["unused_length_mm"] == pytest.approx(25.0)
    assert "20.0 mm past the planned tip" in f.message and "25.0 mm of needle" in f.message
    assert "between the laminae" in f.message
    # Tip 20 mm from the neuraxis: outside the 10 mm margin, so no margin finding.
    assert "NEURAXIS_MARGIN" not in found
    # Deepest safe insertion: the 10 mm margin is entered at 45 - 10 = 35 mm along the vertical path,
    # before the needle length less the hub margin, 50 - 10 = 40 mm.
    assert report.metrics["max_safe_insertion_mm"] == pytest.approx(35.0)
    assert report.metrics["max_safe_insertion_limited_by"] == "neuraxis"
    assert "the neuraxis margin" in found["SAFE_INSERTION"].message
    assert "NEURAXIS_NOT_MARKED" not in found


# --- scenario 2: the extension ends on a lamina ---


def test_extension_onto_a_lamina_is_not_an_overshoot():
    # Same patient, vertical needle at col 15 (over lamina L4): the extension meets the bone at row 40,
    # 40 - 25 = 15 mm past the tip, and never the neuraxis (cols -8..8).
    report, found = run(spine(40.0, 45.0), entry=(0.0, 15.0), tip=(25.0, 15.0), length=50.0)
    assert "NEURAXIS_OVERSHOOT" not in found and "NEURAXIS_MARGIN" not in found
    # Deepest safe insertion: col 15 is 15 - 8 = 7 mm beside the neuraxis's end (45, 8), so the path
    # enters its 10 mm margin at row 45 - sqrt(10^2 - 7^2) = 45 - 7.14 = 37.86, before the bone at 40
    # and the needle length less hub (50 - 10 = 40): the margin is kept even over the lamina's edge.
    assert report.metrics["max_safe_insertion_mm"] == pytest.approx(45.0 - 51.0**0.5, abs=1e-3)
    assert report.metrics["max_safe_insertion_limited_by"] == "neuraxis"


def test_an_oblique_extension_that_meets_the_lamina_before_the_neuraxis_is_not_warned():
    # Entry (0, 30), tip (30, 15): direction (30, -15) / 33.54. Past the tip the path meets the lamina
    # row 40 after 10 / (30 / 33.54) = 11.18 mm at col 15 - 11.18 * 15 / 33.54 = 10 (on lamina L4),
    # and the neuraxis row 45 only after 16.77 mm (col 7.5, inside the window). An 89 mm needle
    # leaves 89 - 33.54 = 55.46 mm unused, enough to reach both: bone first, so no finding.
    report, found = run(spine(40.0, 45.0), entry=(0.0, 30.0), tip=(30.0, 15.0), length=89.0)
    assert "NEURAXIS_OVERSHOOT" not in found
    assert report.metrics["overshoot_first_hit"] == "bone"
    assert report.metrics["overshoot_first_hit_mm"] == pytest.approx(11.18, abs=0.01)


# --- scenario 3: the tip within the margin ---


def test_tip_within_the_margin_is_warned_and_reaching_it_is_blocked():
    # Vertical needle over the window to 38 mm: 45 - 38 = 7.0 mm from the neuraxis, inside 10 mm.
    _report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(38.0, 0.0), length=50.0)
    f = found["NEURAXIS_MARGIN"]
    assert f.severity == "warn"
    assert f.values["tip_to_neuraxis_mm"] == pytest.approx(7.0)
    assert "Tip 7.0 mm from the neuraxis" in f.message and "margin 10 mm" in f.message
    # Tip at 46 mm: through the ligamentum flavum line, block.
    _report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(46.0, 0.0), length=50.0)
    assert found["NEURAXIS_MARGIN"].severity == "block"
    assert found["NEURAXIS_MARGIN"].values["crosses"] is True
    assert "NEURAXIS_OVERSHOOT" not in found  # already reached: the block says it


def test_neuraxis_marked_on_another_frame_gets_the_wider_margin():
    # Tip 45 - 32 = 13 mm from the neuraxis: outside 10 mm, inside the 15 mm of another frame.
    structures = spine(40.0, 45.0)
    structures[-1] = {**structures[-1], "frame_index": 3}
    report, found = run(structures, entry=(0.0, 0.0), tip=(32.0, 0.0), length=50.0)
    assert found["NEURAXIS_MARGIN"].values["margin_mm"] == 15.0
    assert report.margin_for(3).margin_mm == 15.0
    assert report.margin_for(3).threshold == "NEURAXIS_MARGIN_OTHER_FRAME_MM"
    _report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(32.0, 0.0), length=50.0)
    assert "NEURAXIS_MARGIN" not in found


# --- scenario 4: nothing marked ---


def test_unmarked_lumbar_plan_that_can_reach_the_interlaminar_depth_is_warned():
    # Skin only; a vertical 50 mm needle fully inserted reaches 50 mm deep, beyond the 30 mm
    # shallowest interlaminar depth.
    skin = [line("skin", (0.0, -60.0), (0.0, 60.0))]
    _report, found = run(skin, entry=(0.0, 0.0), tip=(20.0, 0.0), length=50.0)
    f = found["NEURAXIS_NOT_MARKED"]
    assert f.severity == "warn"
    assert f.values["needle_reach_depth_mm"] == pytest.approx(50.0)
    assert "reaches 50.0 mm below the skin" in f.message
    # A 25 mm needle at 45 deg (entry (0, -10), tip (10, 0)) reaches only 25 sin 45 = 17.7 mm deep.
    _report, found = run(skin, entry=(0.0, -10.0), tip=(10.0, 0.0), length=25.0)
    assert "NEURAXIS_NOT_MARKED" not in found
    # A marked lamina is enough: the physician has found the bone.
    _report, found = run(
        skin + [line("bone", (40.0, -30.0), (40.0, 30.0))], entry=(0.0, 0.0), tip=(20.0, 0.0), length=50.0
    )
    assert "NEURAXIS_NOT_MARKED" not in found


def test_uncalibrated_needle_drawn_through_the_neuraxis_is_blocked_without_millimetres():
    d = plan(SITE, structures=spine(40.0, 45.0), entry=(0.0, 0.0), tip=(46.0, 0.0), length=50.0, cal=UNCAL)
    found = {f.code: f for f in check_plan(plan_from_dict(d)).findings}
    f = found["NEURAXIS_MARGIN"]
    assert f.severity == "block" and f.values == {"structure": 3, "crosses": True}
    assert " mm" not in f.message and "Aim onto a lamina" in f.message
    # drawn short of it: nothing can be said without millimetres, only UNCALIBRATED
    d = plan(SITE, structures=spine(40.0, 45.0), entry=(0.0, 0.0), tip=(38.0, 0.0), length=50.0, cal=UNCAL)
    assert "NEURAXIS_MARGIN" not in check_plan(plan_from_dict(d)).codes


def test_unmarked_and_uncalibrated_is_warned_without_a_depth():
    d = plan(SITE, structures=[], entry=(0.0, 0.0), tip=(20.0, 0.0), length=50.0, cal=UNCAL)
    found = {f.code: f for f in check_plan(plan_from_dict(d)).findings}
    assert "not known" in found["NEURAXIS_NOT_MARKED"].message
    assert "NEURAXIS_MARGIN" in found["UNCALIBRATED"].values["skipped"]


def test_other_sites_do_not_ask_for_the_neuraxis():
    d = plan(
        "quadratus_lumborum",
        structures=[line("skin", (0.0, -60.0), (0.0, 60.0))],
        entry=(0.0, 0.0),
        tip=(20.0, 0.0),
        length=50.0,
    )
    assert "NEURAXIS_NOT_MARKED" not in check_plan(plan_from_dict(d)).codes


# --- scenario 5: a thin patient ---


def test_thin_patient_standard_needle_reaches_the_neuraxis():
    # Thin patient (BMI 17.5): laminae 28 mm, neuraxis 32 mm. The standard 38 mm needle to a knot 15 mm
    # deep over the window leaves 38 - 15 = 23 mm unused; the neuraxis is 32 - 15 = 17 mm past the tip.
    _report, found = run(spine(28.0, 32.0), entry=(0.0, 0.0), tip=(15.0, 0.0), length=38.0, patient={"bmi": 17.5})
    assert found["NEURAXIS_OVERSHOOT"].values["neuraxis_beyond_tip_mm"] == pytest.approx(17.0)
    # The same needle and knot depth in the average patient: neuraxis 45 - 15 = 30 mm past, 23 unused.
    _report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(15.0, 0.0), length=38.0)
    assert "NEURAXIS_OVERSHOOT" not in found


# --- scenario 6: an obese patient and a needle too short ---


def test_obese_patient_needle_too_short_and_the_spinal_needle_over_the_window():
    # Obese: laminae 55 mm, neuraxis 60 mm, knot 45 mm deep. A 38 mm needle cannot reach 45 mm: block.
    _report, found = run(spine(55.0, 60.0), entry=(0.0, 15.0), tip=(45.0, 15.0), length=38.0)
    assert found["NEEDLE_TOO_SHORT"].severity == "block"
    # A 50 mm needle reaches but leaves 50 - 45 = 5 mm outside, under the 10 mm hub margin: warn.
    _report, found = run(spine(55.0, 60.0), entry=(0.0, 15.0), tip=(45.0, 15.0), length=50.0)
    assert found["NEEDLE_TOO_SHORT"].severity == "warn"
    # The 89 mm spinal needle over lamina L4 (col 15): bone 10 mm past the tip, no overshoot finding ...
    _report, found = run(spine(55.0, 60.0), entry=(0.0, 15.0), tip=(45.0, 15.0), length=89.0)
    assert "NEEDLE_TOO_SHORT" not in found and "NEURAXIS_OVERSHOOT" not in found
    # ... but over the window (col 0) its 89 - 45 = 44 mm unused reach the neuraxis 60 - 45 = 15 mm past.
    _report, found = run(spine(55.0, 60.0), entry=(0.0, 0.0), tip=(45.0, 0.0), length=89.0)
    assert found["NEURAXIS_OVERSHOOT"].values["neuraxis_beyond_tip_mm"] == pytest.approx(15.0)


# --- the suggestion prefers a path that ends over bone ---


def test_the_suggestion_ends_over_a_lamina():
    # Knot (target box) 25 mm deep right over the window, 50 mm needle. Steep paths through the window
    # overshoot into the neuraxis; flat paths whose extension meets a lamina are preferred.
    structures = spine(40.0, 45.0) + [box("target", 24.0, -1.0, 26.0, 1.0)]
    d = plan(SITE, structures=structures, entry=(0.0, 0.0), tip=(25.0, 0.0), length=50.0)
    new = suggest(plan_from_dict(d))
    assert new is not None
    report = check_plan(new)
    assert "NEURAXIS_OVERSHOOT" not in report.codes and "NEURAXIS_MARGIN" not in report.codes
    assert report.metrics["overshoot_first_hit"] in ("bone", None)
    assert report.metrics["suggested_trajectory"] is not None


@settings(max_examples=60, deadline=None)
@given(depth=st.floats(5.0, 34.0), length=st.sampled_from([25.0, 38.0, 50.0, 64.0, 89.0]))
def test_overshoot_over_the_window_iff_the_unused_length_reaches_the_neuraxis(depth, length):
    # Vertical needle at col 0 to `depth`: the neuraxis (row 45) is 45 - depth past the tip and the
    # unused length is length - depth, so the overshoot is found exactly when length >= 45 (a needle
    # too short to reach the tip leaves nothing unused).
    if length < depth:
        return
    _report, found = run(spine(40.0, 45.0), entry=(0.0, 0.0), tip=(depth, 0.0), length=length)
    assert ("NEURAXIS_OVERSHOOT" in found) == (length >= 45.0)


def test_the_suggestion_prefers_a_steeper_path_over_a_lamina_to_a_flatter_one_over_the_window():
    # Knot 20 mm deep at col 20, over lamina L4 (cols 8..30); 38 mm needle, so paths up to
    # 38 - 10 = 28 mm long: angles from asin(20 / 28) = 45.6 deg. The flattest path from the right
    # heads down-left: its extension crosses the lamina row 40 at col 20 - 20 / tan(46) = 0.7, inside
    # the window (safe only because its 38 - 27.8 = 10.2 mm unused do not reach the neuraxis, 35 mm
    # past the tip). Over bone from the right needs col >= 8 at row 40: tan(a) >= 20 / 12, a >= 59.04 deg,
    # so 60 deg on the 1 deg grid; from the left (extension heading right) col <= 30: a >= 63.4 deg.
    structures = spine(40.0, 45.0) + [box("target", 19.0, 19.0, 21.0, 21.0)]
    d = plan(SITE, structures=structures, entry=(0.0, 40.0), tip=(20.0, 20.0), length=38.0)
    window = check_plan(plan_from_dict(d)).metrics
    assert min(lo for lo, _hi in window["safe_angle_window_deg"]) == pytest.approx(46.0, abs=0.6)
    t = window["suggested_trajectory"]
    assert t["side"] == "right" and t["angle_deg"] == pytest.approx(60.0, abs=0.01)
    # its extension meets the lamina 20 / sin 60 = 23.09 mm past the tip, before the neuraxis
    o = overshoot(suggest(plan_from_dict(d)))
    assert o.backstop_mm == pytest.approx(20.0 / 0.8660254, abs=0.01)
    assert o.neuraxis_mm is None or o.neuraxis_mm > o.backstop_mm
