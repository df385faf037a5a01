"""Review of the safety engine: each test pins a bug that could let a needle reach a hazard unwarned.

Coordinates are world mm (row, col); row = depth below a skin at row 0 unless a skin line is marked.
Every expected number is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from tests.scenarios.plans import box, plan, pleura


def _report(p):
    return check_plan(plan_from_dict(p))


def _codes(report) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings}


# --- a pleura marked only across part of the image -------------------------------------------------
# The pleura is a continuous sheet under the chest wall: a physician who marks it from col 5 to col 40
# (where it is visible) expects the needle's extension at col 0 to meet it too.  The engine already
# reports skin-to-pleura 20 mm at the tip's column (the nearest marked end), so the overshoot must not
# silently treat the unmarked continuation as empty space.
#
# Vertical needle entry (0, 0) -> tip (10, 0), 38 mm long: unused 38 - 10 = 28 mm, reaching row 38.
# Pleura marked at row 20, cols 5..40, assumed to continue at row 20: met 20 - 10 = 10 mm past the tip,
# within the 28 mm reach and with no rib in between -> PLEURA_OVERSHOOT (warn), and the needle is long
# enough to reach it: pleura 20 mm from the entry <= 38 mm -> NEEDLE_REACHES_PLEURA (warn).


@pytest.mark.parametrize("c0, c1", [(5.0, 40.0), (-40.0, -5.0)])
def test_overshoot_past_the_end_of_a_partly_marked_pleura_is_reported(c0, c1):
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20, c0, c1)],
            entry=(0, 0),
            tip=(10, 0),
            length=38,
        )
    )
    codes = _codes(r)
    assert codes.get("PLEURA_OVERSHOOT") == "warn"
    assert codes.get("NEEDLE_REACHES_PLEURA") == "warn"
    assert codes.get("INTERCOSTAL_TARGET") == "warn"
    assert r.metrics["overshoot_first_hit"] == "pleura"
    assert r.metrics["overshoot_first_hit_mm"] == pytest.approx(10.0)
    assert r.metrics["pleura_along_path_mm"] == pytest.approx(20.0)
    over = next(f for f in r.findings if f.code == "PLEURA_OVERSHOOT")
    # Honest wording: the hit is on the assumed continuation, not on the marked line.
    assert over.values["beyond_marked_pleura"] is True
    assert "beyond the marked end" in over.message
    reach = next(f for f in r.findings if f.code == "NEEDLE_REACHES_PLEURA")
    assert reach.values["beyond_marked_pleura"] is True
    assert "beyond the marked end" in reach.message


def test_overshoot_on_the_marked_part_of_the_pleura_says_nothing_about_its_ends():
    # Same needle, pleura marked across the needle (cols -40..40): hit 10 mm past the tip, on the mark.
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20)],
            entry=(0, 0),
            tip=(10, 0),
            length=38,
        )
    )
    over = next(f for f in r.findings if f.code == "PLEURA_OVERSHOOT")
    assert over.values["beyond_marked_pleura"] is False
    assert "beyond the marked end" not in over.message


def test_a_rib_before_the_pleura_continuation_still_stops_the_overshoot():
    # Rib rows 12-16, cols -4..4 under the tip (10, 0): met 2 mm past the tip, before the pleura's
    # continuation at 10 mm -> no PLEURA_OVERSHOOT (the rib is the backstop).
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), box("rib", 12, -4, 16, 4), pleura(20, 5, 40)],
            entry=(0, 0),
            tip=(10, 0),
            length=38,
        )
    )
    assert "PLEURA_OVERSHOOT" not in _codes(r)
    assert r.metrics["overshoot_first_hit"] == "rib"
    assert r.metrics["overshoot_first_hit_mm"] == pytest.approx(2.0)


# --- the needle is measured from where it crosses the skin --------------------------------------------
# A physician reads "deepest safe insertion 20 mm from the entry" as 20 mm from the skin puncture.  If the
# drawn entry sits 5 mm above the skin (in the gel, above row 0), every length measured from the drawn
# point counts 5 mm of air: the needle would be pushed 5 mm deeper than safe, and the unused length
# past the tip would be under-estimated by 5 mm.
#
# No skin line: skin at row 0.  Entry drawn at (-5, 0), tip (10, 0), 38 mm needle, pleura row 20.
# Skin crossing (0, 0): path 10; deepest safe = 20 - 5 margin = 15 mm from the skin (the needle's
# 38 - 10 hub = 28 mm is longer); unused 38 - 10 = 28 mm; pleura 20 mm from the skin along the needle.
def test_entry_drawn_above_the_skin_is_measured_from_the_skin():
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20)],
            entry=(-5, 0),
            tip=(10, 0),
            length=38,
        )
    )
    m = r.metrics
    assert m["path_length_mm"] == pytest.approx(10.0)
    assert m["max_safe_insertion_mm"] == pytest.approx(15.0)
    assert m["max_safe_insertion_limited_by"] == "pleura"
    assert m["overshoot_reach_mm"] == pytest.approx(28.0)
    assert m["pleura_along_path_mm"] == pytest.approx(20.0)


def test_entry_drawn_above_a_marked_skin_line_is_measured_from_that_line():
    # Skin marked at row 2; entry drawn at (-3, 0), tip (12, 0): the skin is crossed at (2, 0).
    # path 12 - 2 = 10; depth 12 - 2 = 10; pleura row 22: deepest safe 22 - 5 - 2 = 15 from the skin.
    from tests.scenarios.plans import line

    r = _report(
        plan(
            "upper_trapezius",
            structures=[line("skin", (2, -40), (2, 40)), box("target", 10, -2, 14, 2), pleura(22)],
            entry=(-3, 0),
            tip=(12, 0),
            length=38,
        )
    )
    m = r.metrics
    assert m["depth_mm"] == pytest.approx(10.0)
    assert m["path_length_mm"] == pytest.approx(10.0)
    assert m["max_safe_insertion_mm"] == pytest.approx(15.0)


def test_oblique_entry_above_the_skin():
    # Entry (-4, -3) to tip (8, 6): u = (12, 9) / 15 = (0.8, 0.6); back from the tip to row 0:
    # 8 / 0.8 = 10 mm, so the skin is crossed at (0, 0): path 10, angle atan(0.8 / 0.6) = 53.13 deg.
    r = _report(plan("other", structures=[box("target", 6, 4, 10, 8)], entry=(-4, -3), tip=(8, 6), length=38))
    assert r.metrics["path_length_mm"] == pytest.approx(10.0)
    assert r.metrics["angle_deg"] == pytest.approx(53.130, abs=1e-3)


def test_entry_drawn_below_the_skin_is_extended_back_to_the_skin():
    # Entry drawn at (3, 0) inside the tissue, tip (10, 0), 19 mm needle: the needle really enters at
    # (0, 0), path 10, needing 10 + 10 hub = 20 mm > 19 -> NEEDLE_TOO_SHORT warn (9 mm left outside).
    # Measured from the drawn point (path 7, needs 17) it would be passed as fine.
    r = _report(plan("other", structures=[box("target", 8, -2, 12, 2)], entry=(3, 0), tip=(10, 0), length=19))
    assert r.metrics["path_length_mm"] == pytest.approx(10.0)
    assert _codes(r).get("NEEDLE_TOO_SHORT") == "warn"


# --- a needle drawn backwards ------------------------------------------------------------------------
# Drawn from the target up to the skin, entry (10, 0) and "tip" (0, 0): every rule measures from the
# wrong end.  Depth reads 0 mm, the extension past the "tip" points out of the patient, so the pleura
# 20 mm deep draws no PLEURA_OVERSHOOT and no NEEDLE_REACHES_PLEURA although the real tip is 10 mm deep
# with 28 mm of needle unused.  The plan must be refused until it is redrawn from the skin.
def test_needle_drawn_from_tip_to_entry_is_blocked():
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20)],
            entry=(10, 0),
            tip=(0, 0),
            length=38,
        )
    )
    f = next(f for f in r.findings if f.code == "NEEDLE_REVERSED")
    assert f.severity == "block"
    # entry 10 mm below the skin (row 0), tip 0 mm: 10 - 0 = 10 mm the wrong way.
    assert f.values["entry_depth_mm"] == pytest.approx(10.0)
    assert f.values["tip_depth_mm"] == pytest.approx(0.0)


def test_needle_rising_in_rows_but_going_deeper_under_a_sloping_skin_is_not_reversed():
    # Skin from (20, -40) to (0, 40): row = 10 - col / 4.  Entry (10, 0) on the skin (depth 0); tip
    # (8, 30) where the skin is at 10 - 7.5 = 2.5: tip depth 8 - 2.5 = 5.5 mm.  The row falls from 10
    # to 8 but the needle goes 5.5 mm deeper under the skin: not reversed.
    from tests.scenarios.plans import line

    r = _report(
        plan(
            "other",
            structures=[line("skin", (20, -40), (0, 40)), box("target", 6, 28, 10, 32)],
            entry=(10, 0),
            tip=(8, 30),
            length=38,
        )
    )
    assert "NEEDLE_REVERSED" not in _codes(r)
    assert r.metrics["depth_mm"] == pytest.approx(5.5)


def test_needle_drawn_the_right_way_is_not_reversed():
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20)],
            entry=(0, 0),
            tip=(10, 0),
            length=38,
        )
    )
    assert "NEEDLE_REVERSED" not in _codes(r)


# --- angle to a skin line entered beyond its marked end ----------------------------------------------
# The skin is marked from (0, -20) to (4, 20) (sloping 4/40 = 0.1) and, as for depth, continues
# horizontally beyond its ends.  Entry (0, -40) lies on that horizontal continuation; tip (10, -30):
# the needle runs at atan(10 / 10) = 45 deg to the horizontal skin there.  Measured against the sloping
# marked segment instead it reads 45 - atan(0.1) = 45 - 5.71 = 39.29 deg: under the 40 deg visibility
# warning, so the warning was lost (and the safe angle window, which uses the horizontal continuation,
# disagreed with the metrics for the same path).
def test_angle_to_the_skin_beyond_the_marked_end_of_the_skin_line():
    from tests.scenarios.plans import line

    r = _report(
        plan(
            "other",
            structures=[line("skin", (0, -20), (4, 20)), box("target", 8, -32, 12, -28)],
            entry=(0, -40),
            tip=(10, -30),
            length=38,
        )
    )
    assert r.metrics["angle_deg"] == pytest.approx(45.0, abs=1e-6)
    assert _codes(r).get("STEEP_ANGLE") == "warn"


# --- dose boundaries must not flip with floating-point rounding -----------------------------------
# R16: WARN at >= 80% of the maximum, BLOCK only above 100%.
def test_ropivacaine_exactly_at_80_percent_warns():
    # Ropivacaine 0.75% = 7.5 mg/mL; 11.2 mL = 11.2 x 0.75 x 10 = 84 mg.  35 kg x 3 mg/kg = 105 mg
    # (< 200 mg cap).  84 / 105 = 0.80 exactly -> DOSE_LIMIT warn.  In floating point 11.2 x 0.75 x 10
    # is 83.99999999999999, so the warning was lost.
    from tests.scenarios.plans import lido

    r = _report(
        plan(
            "other",
            structures=[box("target", 8, -2, 12, 2)],
            patient={"weight_kg": 35},
            injectate=[lido(11.2, 0.75, drug="ropivacaine")],
        )
    )
    f = next(f for f in r.findings if f.code == "DOSE_LIMIT")
    assert f.severity == "warn"
    assert f.values["fraction_of_max"] == pytest.approx(0.8)


def test_lidocaine_exactly_at_the_maximum_warns_but_does_not_block():
    # Lidocaine 0.75% 21.6 mL = 21.6 x 0.75 x 10 = 162 mg; 36 kg x 4.5 mg/kg = 162 mg (< 300 mg cap):
    # 100% exactly -> warn (block is for > 100%).  Floating point gave 1.0000000000000002 -> block.
    from tests.scenarios.plans import lido

    r = _report(
        plan("other", structures=[box("target", 8, -2, 12, 2)], patient={"weight_kg": 36}, injectate=[lido(21.6, 0.75)])
    )
    assert _codes(r).get("DOSE_LIMIT") == "warn"


def test_dose_just_over_the_maximum_blocks():
    # 21.7 mL x 0.75 x 10 = 162.75 mg of 162 mg: 100.46% > 100% -> block.
    from tests.scenarios.plans import lido

    r = _report(
        plan("other", structures=[box("target", 8, -2, 12, 2)], patient={"weight_kg": 36}, injectate=[lido(21.7, 0.75)])
    )
    assert _codes(r).get("DOSE_LIMIT") == "block"


def test_pleura_exactly_one_needle_length_along_the_path_is_reached():
    # R5: warn when the needle length is >= the skin-to-pleura distance along the path.  Needle from
    # (0, 0) along (8, 15) / 17; pleura at row 25 x 8 / 17 = 11.7647 mm is met after exactly
    # 11.7647 x 17 / 8 = 25 mm, the needle's length.  Binary rounding gave 25.000000000000004 > 25, and
    # the warning was lost (the overshoot uses the same tie rule: a pleura at the reach is reached).
    row = 25.0 * 8.0 / 17.0
    r = _report(plan("upper_trapezius", structures=[pleura(row, -500, 500)], entry=(0, 0), tip=(4, 7.5), length=25))
    assert r.metrics["pleura_along_path_mm"] == pytest.approx(25.0)
    assert "NEEDLE_REACHES_PLEURA" in _codes(r)


def test_pleura_margin_against_the_continuation_says_so():
    # Pleura marked at row 20 across cols 5..40 only; vertical needle at col 0 to a tip 16 mm deep.
    # Continued at row 20 the pleura is 20 - 16 = 4 mm under the tip (< 5 mm margin) -> PLEURA_MARGIN
    # warn.  The marked segment's nearest point (20, 5) is sqrt(4^2 + 5^2) = 6.4 mm away, so the warning
    # rests on the continuation: the message must say so, so the physician marks the pleura there.
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 14, -2, 18, 2), pleura(20, 5, 40)],
            entry=(0, 0),
            tip=(16, 0),
            length=38,
        )
    )
    f = next(f for f in r.findings if f.code == "PLEURA_MARGIN")
    assert f.severity == "warn"
    assert f.values["tip_to_pleura_mm"] == pytest.approx(4.0)
    assert f.values["beyond_marked_pleura"] is True
    assert "beyond the marked end" in f.message


# --- an unknown site id ------------------------------------------------------------------------------
# docs/contracts.md allows new site ids, and an unknown one is checked with the 'other' (superficial) profile:
# no pneumothorax class, no PLEURA_NOT_MARKED.  A mistyped thoracic site ('upper trapezius' with a
# space) therefore lost every pleura rule without a word.  It must at least be said.
def test_unknown_site_id_is_reported_not_silently_treated_as_superficial():
    r = _report(plan("upper trapezius", structures=[box("target", 8, -2, 12, 2)], entry=(0, 0), tip=(10, 0)))
    f = next(f for f in r.findings if f.code == "SITE_UNKNOWN")
    assert f.severity == "warn"
    assert "upper_trapezius" in f.message  # the known ids are listed
    assert f.values["site"] == "upper trapezius"


def test_known_site_ids_are_not_reported_unknown():
    for site in ("upper_trapezius", "other", "piriformis"):
        r = _report(plan(site, structures=[box("target", 8, -2, 12, 2)], entry=(0, 0), tip=(10, 0)))
        assert "SITE_UNKNOWN" not in _codes(r)


def test_report_figure_places_the_deepest_safe_insertion_from_the_skin():
    # The figure's red tick must sit where the number says: 15 mm below the skin crossing (0, 0), i.e.
    # at (15, 0), for the needle drawn from (-5, 0) (5 mm above the skin) to (10, 0), pleura row 20
    # (20 - 5 margin = 15).  Measured from the drawn entry it would sit at (10, 0), 5 mm too shallow.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from needleplan.planner import max_safe_insertion
    from needleplan.report.figure import _draw_needle

    p = plan_from_dict(
        plan(
            "upper_trapezius",
            structures=[box("target", 8, -2, 12, 2), pleura(20)],
            entry=(-5, 0),
            tip=(10, 0),
            length=38,
        )
    )
    safe = max_safe_insertion(p)
    assert safe.max_safe_insertion_mm == pytest.approx(15.0)
    fig, ax = plt.subplots()
    try:
        _draw_needle(ax, p, safe)
        tick = next(ln for ln in ax.lines if str(ln.get_label()).startswith("deepest safe insertion"))
        rows = tick.get_ydata()
        assert float(rows.mean()) == pytest.approx(15.0)
    finally:
        plt.close(fig)


def test_a_pleura_continuation_stops_where_another_pleura_mark_takes_over():
    # Pleura seen in two intercostal spaces: marked at row 20 across cols -40..-5 and at row 26 across
    # cols 5..40.  A vertical needle at col 20 to a tip 19 mm deep is 26 - 19 = 7 mm above the pleura
    # marked there (> 5 mm margin): no PLEURA_MARGIN.  Continuing the left mark at row 20 over the right
    # one would put a phantom pleura 1 mm under the tip and contradict the physician's own mark.
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 17, 18, 21, 22), pleura(20, -40, -5), pleura(26, 5, 40)],
            entry=(0, 20),
            tip=(19, 20),
            length=38,
        )
    )
    assert "PLEURA_MARGIN" not in _codes(r)
    assert r.metrics["clearance_mm"]["pleura"] == pytest.approx(7.0)
    # In the gap between the marks (col 0) both continue: the shallower, row 20, counts.
    r = _report(
        plan(
            "upper_trapezius",
            structures=[box("target", 15, -2, 19, 2), pleura(20, -40, -5), pleura(26, 5, 40)],
            entry=(0, 0),
            tip=(17, 0),
            length=38,
        )
    )
    assert r.metrics["clearance_mm"]["pleura"] == pytest.approx(3.0)  # 20 - 17
    assert _codes(r).get("PLEURA_MARGIN") == "warn"
