"""detect has bounded work for any frame the reader accepts, whatever the mm/px (issue 16).

No timing is asserted (benchmarks/ measures speed): the bounds are structural, the working grid
never shrinks below MIN_WORK_PX per axis and at most MAX_LINES lines are traced, so the filters
and the pairwise pleura checks stay a bounded number of pixels and lines.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.calibration import MAX_SPACING_MM, MIN_SPACING_MM, Calibration
from needleplan.detect import detect_frame
from needleplan.detect._frame import MIN_FRAME_PX, MIN_WORK_PX, prepare_frame
from needleplan.detect._lines import MAX_LINES, ridge_map, trace_lines
from needleplan.detect.analyse import LINE_MIN_STRENGTH
from needleplan.errors import CalibrationError, ImageReadError


def _manual(spacing: tuple[float, float]) -> Calibration:
    return Calibration(
        source="MANUAL", spacing_mm=spacing, origin_px=(0.0, 0.0), region_index=None, region_box_px=None, reason="test"
    )


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.integers(MIN_FRAME_PX, 400),
    st.integers(MIN_FRAME_PX, 400),
    st.sampled_from([MIN_SPACING_MM, 0.05, 0.2, 1.0, MAX_SPACING_MM]),
    st.sampled_from([MIN_SPACING_MM, 0.2, MAX_SPACING_MM]),
)
def test_the_working_grid_keeps_enough_pixels_at_any_plausible_spacing(rows, cols, s_row, s_col) -> None:
    frame = np.zeros((rows, cols), np.uint8)
    view = prepare_frame(frame, _manual((s_row, s_col)))
    # 0.005 mm/px asks for 40x averaging (0.2 / 0.005); a 100-px frame keeps 100 // 32 = 3 at most
    assert view.factor <= max(1, min(rows, cols) // MIN_WORK_PX)
    assert min(view.image.shape) >= min(MIN_WORK_PX, rows, cols)


def test_speckle_on_coarse_pixels_traces_at_most_max_lines() -> None:
    # 5 mm/px noise: every speckle is a "line" of several mm; only the strongest MAX_LINES are kept
    noise = np.random.default_rng(16).integers(0, 255, (2000, 64), dtype=np.uint8)
    view = prepare_frame(noise, _manual((MAX_SPACING_MM, MAX_SPACING_MM)))
    lines = trace_lines(view, ridge_map(view), min_strength=LINE_MIN_STRENGTH)
    assert 0 < len(lines) <= MAX_LINES
    assert [ln.mean_row for ln in lines] == sorted(ln.mean_row for ln in lines)


@pytest.mark.parametrize(
    "spacing",
    [
        (MIN_SPACING_MM, MAX_SPACING_MM),
        (MAX_SPACING_MM, MIN_SPACING_MM),
        (MIN_SPACING_MM, MIN_SPACING_MM),
        (MAX_SPACING_MM, MAX_SPACING_MM),
    ],
)
@pytest.mark.parametrize("shape", [(16, 16), (16, 900), (900, 16), (300, 400, 3)])
def test_detect_finishes_at_the_edges_of_the_plausible_range(spacing, shape) -> None:
    frame = np.random.default_rng(4).integers(0, 255, shape, dtype=np.uint8)
    result = detect_frame(frame, _manual(spacing))
    assert result.calibrated
    for det in result.detections:  # every suggestion lies on the frame
        pts = np.asarray(det.points_px)
        assert (pts[:, 0] >= -0.5).all() and (pts[:, 0] <= shape[0] - 0.5).all()


@pytest.mark.parametrize("shape", [(1, 1), (15, 400), (400, 15)])
def test_a_frame_smaller_than_the_minimum_is_refused_in_one_line(shape) -> None:
    with pytest.raises(ImageReadError, match=rf"is {shape[0]}x{shape[1]} pixels; detect needs at least 16x16"):
        detect_frame(np.zeros(shape, np.uint8))


@pytest.mark.parametrize("spacing", [(1e7, 0.25), (1e-11, 0.1), (20.0, 20.0)])  # fuzz repros D3, D4, D1b
def test_an_implausible_calibration_handed_to_detect_is_refused(spacing) -> None:
    with pytest.raises(CalibrationError, match="outside the plausible 0.005-5 mm/px"):
        detect_frame(np.zeros((100, 100), np.uint8), _manual(spacing))
