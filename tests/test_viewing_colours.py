"""The viewer's home box and depth ruler (core side of the plugin's first view), and the one
colour scheme per structure kind that the report draws with."""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from needleplan.calibration import Calibration
from needleplan.colours import KIND_STYLES, kind_style
from needleplan.errors import CalibrationError
from needleplan.plan import load_plan
from needleplan.report.figure import draw_plan, image_extent_mm
from needleplan.viewing import depth_ruler_ticks, home_box_mm, is_plan_path
from needleplan.vocabulary import StructureKind

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom" / "upper_trapezius_thin_frame.plan.json"

depths = st.floats(min_value=-20.0, max_value=200.0, allow_nan=False)


@given(depths, depths, st.sampled_from([(0.5, 5.0), (1.0, 10.0), (2.0, 10.0)]))
def test_ruler_ticks_are_evenly_spaced_inside_the_range(a, b, spacing):
    top, bottom = min(a, b), max(a, b)
    minor, major = spacing
    ticks = depth_ruler_ticks(top, bottom, minor_mm=minor, major_mm=major)
    expected = max(0, math.floor(bottom / minor + 1e-9) - max(0, math.ceil(max(top, 0) / minor - 1e-9)) + 1)
    assert len(ticks) == expected
    for t in ticks:
        assert max(top, 0.0) - 1e-9 <= t.depth_mm <= bottom + 1e-9  # never above the skin
        assert t.major == (abs(t.depth_mm / major - round(t.depth_mm / major)) < 1e-9)
        assert (t.label is not None) == t.major
    for prev, nxt in pairwise(ticks):
        assert nxt.depth_mm - prev.depth_mm == pytest.approx(minor)


def test_ruler_refuses_spacings_that_do_not_nest():
    with pytest.raises(CalibrationError, match="not a multiple"):
        depth_ruler_ticks(0, 30, minor_mm=3.0, major_mm=10.0)


@given(
    st.integers(10, 800),
    st.integers(10, 800),
    st.floats(0.01, 1.0),
    st.floats(0.01, 1.0),
    st.floats(-50, 50),
    st.floats(-50, 500),
)
def test_home_box_of_a_whole_image_is_the_drawing_extent(rows, cols, sr, sc, orow, ocol):
    cal = Calibration(
        source="PIXEL_SPACING",
        spacing_mm=(sr, sc),
        origin_px=(orow, ocol),
        region_index=None,
        region_box_px=None,
        reason="test",
    )
    top, left, bottom, right = home_box_mm(cal, (rows, cols))
    e_left, e_right, e_bottom, e_top = image_extent_mm((rows, cols), (sr, sc), (orow, ocol))
    assert (top, left, bottom, right) == pytest.approx((e_top, e_left, e_bottom, e_right), abs=1e-6)


def test_home_box_is_the_calibrated_region_and_needs_a_calibration():
    # region rows 20..410, cols 10..560, origin (20, 274), 0.1 mm: top (20 - 0.5 - 20) * 0.1 = -0.05,
    # left (10 - 0.5 - 274) * 0.1 = -26.45, bottom (410 + 0.5 - 20) * 0.1 = 39.05,
    # right (560 + 0.5 - 274) * 0.1 = 28.65
    cal = Calibration(
        source="US_REGION",
        spacing_mm=(0.1, 0.1),
        origin_px=(20.0, 274.0),
        region_index=0,
        region_box_px=(20, 10, 410, 560),
        reason="region 0",
    )
    assert home_box_mm(cal, (600, 800)) == pytest.approx((-0.05, -26.45, 39.05, 28.65))
    none = Calibration(
        source="NONE",
        spacing_mm=None,
        origin_px=(0.0, 0.0),
        region_index=None,
        region_box_px=None,
        reason="no calibration",
    )
    with pytest.raises(CalibrationError, match="pixels"):
        home_box_mm(none, (10, 10))
    assert is_plan_path("/x/Case.PLAN.json") and not is_plan_path("/x/case.json")


def test_every_structure_kind_has_one_style_and_the_report_draws_with_it():
    assert {k.value for k in StructureKind} <= set(KIND_STYLES)
    assert kind_style("no such kind") is KIND_STYLES["other"]
    plan = load_plan(SAMPLE)
    ax = Figure().add_subplot()
    draw_plan(ax, plan, None, None)
    drawn = {line.get_label(): to_hex(line.get_color()) for line in ax.lines}
    for s in plan.structures:
        label = s.label or kind_style(s.kind).words
        assert drawn[label] == kind_style(s.kind).colour, s.kind
    assert drawn["needle (38 mm)"] == kind_style("needle").colour
    # light colours (rib, pleura) carry a dark outline so the legend reads on white paper
    pleura = next(line for line in ax.lines if line.get_color() == kind_style("pleura").colour)
    assert pleura.get_path_effects()
