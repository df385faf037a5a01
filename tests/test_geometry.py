"""Geometry: hand-worked distances, crossings and rays, and property tests against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from needleplan import geometry as g

SQUARE = [[0, 0], [0, 10], [10, 10], [10, 0]]


@pytest.mark.parametrize(
    "p0, p1, shape, closed, expected",
    [
        ([0, 0], [10, 0], [[14, -20], [14, 20]], False, 4.0),  # needle tip 4 mm above a horizontal pleura
        ([0, 0], [20, 0], [[14, -20], [14, 20]], False, 0.0),  # crosses it
        ([0, 0], [10, 0], [[13, 4], [13, 9]], False, 5.0),  # 3-4-5 from tip (10,0) to (13,4)
        ([-5, 5], [-1, 5], SQUARE, True, 1.0),  # 1 mm above the square
        ([5, 5], [6, 6], SQUARE, True, 0.0),  # inside a closed shape
        ([0, -5], [0, 15], [[0, 20], [0, 30]], False, 5.0),  # collinear, 5 mm apart end to end
        ([0, 0], [0, 10], [[3, 4]], False, 3.0),  # a point structure
    ],
)
def test_segment_shape_distance_table(p0, p1, shape, closed, expected):
    assert g.segment_shape_distance(p0, p1, shape, closed) == pytest.approx(expected)


def test_ray_hits_and_capsule_entry():
    pleura = [[14, -20], [14, 20]]
    # 45 deg ray from (0,0): meets row 14 after 14 x sqrt(2) = 19.799 mm; 5 mm margin (row 9) at 12.728 mm.
    u = np.array([1.0, 1.0]) / math.sqrt(2)
    assert g.ray_shape_hits([0, 0], u, pleura, False) == pytest.approx(19.799, abs=1e-3)
    assert g.ray_capsule_entry([0, 0], u, pleura, False, 5.0) == pytest.approx(12.728, abs=1e-3)
    # Missing the short line entirely: ray goes left, line is to the right.
    assert math.isinf(g.ray_shape_hits([0, 0], [0, -1], pleura, False))
    # Passing beside the end of a line: end disc at (14, 20), ray along row 14 - 3 = 11 from col 30 leftwards:
    # enters the 5 mm disc when |(11, c) - (14, 20)| = 5 -> c - 20 = 4 -> 6 mm after the start at col 30.
    assert g.ray_capsule_entry([11, 30], [0, -1], pleura, False, 5.0) == pytest.approx(6.0)
    # Starting inside the margin gives 0; starting inside a polygon gives 0.
    assert g.ray_capsule_entry([12, 0], [1, 0], pleura, False, 5.0) == 0.0
    assert g.ray_shape_hits([5, 5], [1, 0], SQUARE, True) == 0.0


def test_point_in_polygon_and_centroid_and_skin_row():
    assert g.point_in_polygon([[5, 5], [5, 11], [-1, 5]], SQUARE).tolist() == [True, False, False]
    assert g.shape_centroid(SQUARE, True).tolist() == [5.0, 5.0]
    # skin from (2, -20) to (4, 20): at col 10 the row is 2 + 2 x 30/40 = 3.5
    assert g.polyline_row_at_col([[2, -20], [4, 20]], 10.0) == pytest.approx(3.5)
    assert g.line_angle_deg([1, 0], [0, 1]) == pytest.approx(90.0)
    assert g.line_angle_deg([1, 1], [0, -1]) == pytest.approx(45.0)


def test_bad_points_shape_raises():
    with pytest.raises(ValueError):
        g.as_points([[1, 2, 3]])


coord = st.floats(-50, 50, allow_nan=False, allow_infinity=False)
point = st.tuples(coord, coord)


def _brute_segment_distance(p0, p1, shape, closed, n=400):
    t = np.linspace(0, 1, n)[:, None]
    seg = np.asarray(p0) * (1 - t) + np.asarray(p1) * t
    return float(g.point_shape_distance(seg, shape, closed).min())


@settings(max_examples=150, deadline=None)
@given(point, point, st.lists(point, min_size=2, max_size=6), st.booleans())
def test_clearance_never_negative_and_matches_brute_force(p0, p1, shape, closed):
    assume(not closed or len(shape) >= 3)
    d = g.segment_shape_distance(p0, p1, shape, closed)
    assert d >= 0.0
    brute = _brute_segment_distance(p0, p1, shape, closed)
    seg_len = math.dist(p0, p1)
    assert d <= brute + 1e-9  # exact is never more than any sampled distance
    assert d >= brute - seg_len / 399 - 1e-9  # and at most one sample step less


@settings(max_examples=150, deadline=None)
@given(point, st.floats(0, 2 * math.pi), st.lists(point, min_size=1, max_size=5), st.floats(0.5, 10))
def test_capsule_entry_is_the_first_point_within_the_margin(origin, theta, shape, radius):
    u = np.array([math.cos(theta), math.sin(theta)])
    s = g.ray_capsule_entry(origin, u, shape, False, radius)
    samples = np.linspace(0, 200, 4001)
    dist = g.point_shape_distance(np.asarray(origin) + samples[:, None] * u, shape, False)
    if math.isinf(s):
        assert (dist > radius - 1e-6).all()
        return
    at = float(g.point_shape_distance(np.asarray(origin) + s * u, shape, False)[0])
    assert at <= radius + 1e-6
    before = samples < s - 0.06
    assert (dist[before] >= radius - 1e-6).all()
