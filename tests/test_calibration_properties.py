"""Property tests: pixel -> mm -> pixel round trip; lengths invariant under translation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.calibration import (
    MAX_SPACING_MM,
    MIN_SPACING_MM,
    Calibration,
    UltrasoundRegion,
    calibration_from_dataset,
    region_lookup,
)

spacing = st.floats(min_value=0.01, max_value=2.0)
coord = st.floats(min_value=-2000.0, max_value=2000.0)
points = st.lists(st.tuples(coord, coord), min_size=1, max_size=20)


def _cal(sr: float, sc: float, o_r: float, o_c: float) -> Calibration:
    return Calibration(
        source="US_REGION",
        spacing_mm=(sr, sc),
        origin_px=(o_r, o_c),
        region_index=0,
        region_box_px=None,
        reason="property test",
    )


@settings(max_examples=200, deadline=None)
@given(spacing, spacing, coord, coord, points)
def test_px_mm_px_round_trip(sr: float, sc: float, o_r: float, o_c: float, pts: list) -> None:
    cal = _cal(sr, sc, o_r, o_c)
    px = np.array(pts)
    back = cal.mm_to_px(cal.px_to_mm(px))
    assert np.allclose(back, px, atol=1e-6 * (1 + np.abs(px).max()))


@settings(max_examples=200, deadline=None)
@given(spacing, spacing, coord, coord, st.tuples(coord, coord), st.tuples(coord, coord), st.tuples(coord, coord))
def test_lengths_invariant_under_translation(sr, sc, o_r, o_c, a, b, shift) -> None:
    cal = _cal(sr, sc, o_r, o_c)
    p = np.array([a, b])
    length = np.hypot(*np.diff(cal.px_to_mm(p), axis=0)[0])
    moved = np.hypot(*np.diff(cal.px_to_mm(p + np.array(shift)), axis=0)[0])
    # and the same length whatever the origin
    other = np.hypot(*np.diff(_cal(sr, sc, 0.0, 0.0).px_to_mm(p), axis=0)[0])
    # expected: hypot(d_row * sr, d_col * sc)
    expected = np.hypot((b[0] - a[0]) * sr, (b[1] - a[1]) * sc)
    tol = 1e-9 * (1 + expected) + 1e-9 * 4000
    assert abs(length - expected) <= tol and abs(moved - expected) <= tol and abs(other - expected) <= tol


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.integers(1, 200), st.integers(1, 200), points)
def test_lookup_inside_iff_every_point_is_in_the_box(r0, c0, h, w, pts) -> None:
    reg = UltrasoundRegion(
        index=0,
        box_px=(r0, c0, r0 + h, c0 + w),
        spatial_format=1,
        data_type=1,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=(0.0, 0.0),
    )
    px = np.array(pts)
    inside = (px[:, 0] >= r0 - 0.5) & (px[:, 0] <= r0 + h + 0.5) & (px[:, 1] >= c0 - 0.5) & (px[:, 1] <= c0 + w + 0.5)
    lookup = region_lookup([reg], px)
    assert (lookup.status == "inside") == bool(inside.all())
    assert lookup.status in ("inside", "none")


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(0, 300),
    st.integers(20, 300),
    st.integers(20, 300),
    st.integers(-200, 200),
    st.integers(-200, 200),  # within 10 image sizes: a plausible origin
    st.floats(0.0005, 0.2),
    st.floats(0.0005, 0.2),
    st.booleans(),
    st.booleans(),
)
def test_region_calibration_puts_the_reference_pixel_at_zero_mm(r0, c0, h, w, ref_r, ref_c, d_r, d_c, neg_r, neg_c):
    from needleplan.calibration import calibration_from_dataset
    from tests.dicom_factory import region, us_dataset

    delta = (-d_r if neg_r else d_r, -d_c if neg_c else d_c)
    ds = us_dataset(
        r0 + h + 1,
        c0 + w + 1,
        pixels=np.zeros((r0 + h + 1, c0 + w + 1), np.uint8),
        regions=[region(r0, c0, r0 + h, c0 + w, delta_cm=delta, ref_px=(ref_r, ref_c))],
    )
    cal = calibration_from_dataset(ds)
    # origin = box min + reference pixel; spacing = |delta| * 10, whatever the signs
    assert cal.origin_px == (r0 + ref_r, c0 + ref_c)
    assert cal.spacing_mm == (round(d_r * 10, 12), round(d_c * 10, 12))
    assert np.allclose(cal.px_to_mm([r0 + ref_r, c0 + ref_c]), 0.0)
    # one row down is |dY| * 10 mm deeper, one column right |dX| * 10 mm across
    assert np.allclose(cal.px_to_mm([r0 + ref_r + 1, c0 + ref_c + 1]), [d_r * 10, d_c * 10])


# PhysicalDelta in cm/px: below 0.0005 cm (0.005 mm) or above 0.5 cm (5 mm) no real pixel is that size
implausible_delta_cm = st.one_of(
    st.floats(1e-300, MIN_SPACING_MM / 10 * 0.999), st.floats(MAX_SPACING_MM / 10 * 1.001, 1e300)
)


@settings(max_examples=100, deadline=None)
@given(implausible_delta_cm, st.floats(0.0005, 0.5), st.booleans())
def test_an_implausible_region_delta_is_refused_with_its_value_named(bad, good, bad_is_row) -> None:
    from tests.dicom_factory import region, us_dataset

    delta = (bad, good) if bad_is_row else (good, bad)
    ds = us_dataset(
        100, 120, pixels=np.zeros((100, 120), np.uint8), regions=[region(0, 0, 99, 119, delta_cm=delta, ref_px=(0, 60))]
    )
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and cal.spacing_mm is None
    assert "outside the plausible 0.005-5 mm/px" in cal.reason
    assert f"{bad * 10:.4g}" in cal.reason


@settings(max_examples=50, deadline=None)
@given(st.integers(11 * 100 + 1, 10**9), st.sampled_from([-1, 1]), st.booleans())
def test_an_origin_far_outside_the_image_is_refused(distance_px, sign, on_rows) -> None:
    from tests.dicom_factory import region, us_dataset

    # a 100 x 120 image: rows below -1,000 or past 1,100 (cols -1,200 / 1,320) are not a probe position
    ref = (sign * distance_px, 60) if on_rows else (50, sign * distance_px * 1.2)
    ds = us_dataset(
        100,
        120,
        pixels=np.zeros((100, 120), np.uint8),
        regions=[region(0, 0, 99, 119, delta_cm=(0.02, 0.02), ref_px=ref)],
    )
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE"
    assert "more than 10 image sizes outside the 100x120 image" in cal.reason
