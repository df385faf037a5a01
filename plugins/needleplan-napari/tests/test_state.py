"""The session's values (Qt-free): the numbers the dock and the overlays show come from one check.

No viewer, no display: a core plan, its ``check_plan`` report, and what
:class:`~needleplan_napari._state.SessionState` and the overlay drawings read from it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from needleplan_napari._drawing import _margin_bands, _needle_drawings
from needleplan_napari._state import NeedleNumbers, PlanInputs, SessionState

# Upper trapezius, a 38 mm needle straight down from (0, 0) to a tip 6 mm deep.  Pleura 14 mm deep on
# the checked frame (index 0, margin 5 mm) and a second pleura 20 mm deep marked on frame 3 (index 2,
# margin 10 mm, R3); the target (index 1) is no hazard.
# Deepest safe insertion: stop 5 mm above the 14 mm pleura = 9 mm; remaining 9 - 6 = 3 mm.
# Overshoot: 38 - 6 = 32 mm of unused needle; the first thing beyond the tip is the 14 mm pleura.
PLAN = plan_from_dict(
    {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0, 0]},
        "site": "upper_trapezius",
        "structures": [
            {"kind": "pleura", "points_mm": [[14, -30], [14, 30]], "closed": False},
            {"kind": "target", "points_mm": [[5, -1], [5, 1], [7, 1], [7, -1]], "closed": True},
            {"kind": "pleura", "points_mm": [[20, -30], [20, 30]], "closed": False, "frame_index": 3},
        ],
        "needle": {"entry_mm": [0, 0], "target_mm": [6, 0], "length_mm": 38, "gauge": 25},
        "patient": {"bmi": 19.0, "sex": "F"},
        "injectate": [{"drug": "lidocaine", "concentration_pct": 1.0, "volume_ml": 2.0}],
    }
)


@pytest.fixture(scope="module")
def state() -> SessionState:
    return SessionState(PLAN.calibration, PLAN, check_plan(PLAN))


def test_needle_numbers_are_the_reports(state):
    assert state.needle_numbers == NeedleNumbers(
        max_safe_insertion_mm=9.0, remaining_mm=3.0, overshoot_reach_mm=32.0, overshoot_first_hit="pleura"
    )


def test_applied_margins_are_the_ones_the_check_used(state):
    got = {m.structure_index: (m.family, m.margin_mm, m.other_frame) for m in state.applied_margins}
    assert got == {0: ("pleura", 5.0, False), 2: ("pleura", 10.0, True)}


def test_margin_bands_are_twice_the_applied_margin_wide(state):
    bands = _margin_bands(PLAN, state.applied_margins)
    # 2 * 5 = 10 mm around the pleura on this frame, 2 * 10 = 20 mm around the one on frame 3
    assert [(b.shape_type, b.edge_width_mm) for b in bands] == [("path", 10.0), ("path", 20.0)]


def test_tick_and_overshoot_come_from_the_numbers(state):
    tick, dashes = _needle_drawings(PLAN, state.needle_numbers)
    # the tick crosses the needle 3 mm past the 6 mm tip, at row 9 (the deepest safe insertion)
    assert tick.points_mm.mean(axis=0) == pytest.approx((9.0, 0.0))
    # the dashes run from the tip to 32 mm beyond it: rows 6 .. 38
    assert dashes[0].points_mm[0] == pytest.approx((6.0, 0.0))
    assert dashes[-1].points_mm[-1] == pytest.approx((38.0, 0.0))


def test_no_needle_no_numbers_and_no_report_no_margins():
    assert SessionState().needle_numbers is None and SessionState().applied_margins == ()
    bare = replace(PLAN, needle=None)
    assert SessionState(bare.calibration, bare, check_plan(bare)).needle_numbers is None


def test_inputs_round_trip_through_a_plan():
    assert PlanInputs.from_plan(PLAN) == PlanInputs(
        site="upper_trapezius",
        approach="in_plane",
        needle_length_mm=38.0,
        gauge=25,
        bmi=19.0,
        sex="F",
        injectate=(("lidocaine", 1.0, 2.0, False),),
    )


def test_a_closed_hazards_band_is_its_margin_zone_not_a_spiked_wide_edge():
    # An artery drawn as a 4 x 4 mm square 10 mm deep, 5 mm vessel margin (R10): the band is the
    # filled outline of everything within 5 mm of it, so every outline point lies 5 mm from the
    # square (within one 5/8 mm grid step) and none spikes past it at the corners, as a polygon
    # with a 10 mm wide edge did.
    from needleplan.geometry import point_shape_distance

    square = [[10, -2], [10, 2], [14, 2], [14, -2]]
    artery = plan_from_dict(
        {
            "format": "needleplan.plan",
            "version": 1,
            "image": {"frame_index": 0},
            "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0, 0]},
            "site": "other",
            "structures": [{"kind": "artery", "points_mm": square, "closed": True}],
            "needle": None,
        }
    )
    plan = replace(PLAN, structures=artery.structures)
    report = check_plan(plan)
    (margin,) = [m for m in report.applied_margins if m.kind == "artery"]
    assert margin.margin_mm == pytest.approx(5.0)
    (band,) = _margin_bands(plan, report.applied_margins)
    assert band.shape_type == "polygon" and band.edge_width_mm < 0.5
    distance = point_shape_distance(band.points_mm, square, closed=True)
    assert distance.min() > 5.0 - 0.63 and distance.max() < 5.0 + 0.63
