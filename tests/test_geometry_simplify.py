"""``simplify_polyline``: a traced outline keeps its shape within the tolerance with fewer vertices."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.clinical.plausible_ranges import MAX_POINTS_PER_STRUCTURE
from needleplan.geometry import point_shape_distance, simplify_polyline
from needleplan.plan import plan_from_dict

_coord = st.floats(-50.0, 50.0).map(lambda v: round(v, 3))  # drawn to the micrometre, as a plan is
_points = st.lists(st.tuples(_coord, _coord), min_size=3, max_size=60)


def _is_subsequence(out, pts) -> bool:
    it = iter(map(tuple, pts))
    return all(any(p == q for q in it) for p in map(tuple, out))


def _worst_distance(original, simplified, closed) -> float:
    return float(np.max(point_shape_distance(np.asarray(original, float), simplified, closed)))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(_points, st.floats(0.01, 5.0), st.booleans())
def test_every_dropped_vertex_lies_within_the_tolerance_of_the_result(points, tolerance_mm, closed):
    out = simplify_polyline(points, tolerance_mm, closed=closed)
    pts = np.asarray(points, float)
    assert (3 if closed else 2) <= len(out) <= len(pts)
    assert _is_subsequence(out, pts)  # some of the vertices, in their order
    assert np.array_equal(out[0], pts[0])
    if not closed:
        assert np.array_equal(out[-1], pts[-1])
    assert _worst_distance(pts, out, closed) <= tolerance_mm + 1e-9


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(3, 40), st.lists(st.tuples(_coord, _coord), min_size=50, max_size=300))
def test_max_points_is_respected(max_points, points):
    assert len(simplify_polyline(points, 0.001, closed=True, max_points=max_points)) <= max_points
    assert len(simplify_polyline(points, 0.001, max_points=max_points)) <= max_points


def test_a_traced_circle_fits_the_plans_cap_within_a_tenth_of_a_millimetre():
    # a 10 mm radius circle traced at 5,000 vertices.  A chord of angle a lies r(1 - cos(a/2)) inside
    # the arc: within 0.1 mm needs a <= 2 acos(1 - 0.01) = 0.283 rad, so about 23 vertices suffice.
    theta = np.linspace(0.0, 2 * math.pi, 5000, endpoint=False)
    circle = np.column_stack([20 + 10 * np.sin(theta), 10 * np.cos(theta)])
    out = simplify_polyline(circle, 0.1, closed=True)
    assert 20 <= len(out) <= 40
    assert _worst_distance(circle, out, True) <= 0.1
    structure = {"kind": "vessel", "closed": True, "points_mm": circle.tolist()}
    plan = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1]},
        "site": "other",
        "structures": [structure],
        "needle": None,
    }
    assert len(circle) > MAX_POINTS_PER_STRUCTURE  # as traced, the plan would be refused
    plan["structures"][0]["points_mm"] = out.tolist()
    assert len(plan_from_dict(plan).structures[0].points_mm) == len(out)


def test_degenerate_outlines_stay_valid_shapes():
    assert len(simplify_polyline([[1, 1]] * 10, 0.1, closed=True)) == 3  # one spot: still three vertices
    flat = simplify_polyline([[0, 0], [0, 5], [0, 10], [0, 5]], 0.1, closed=True)
    assert len(flat) == 3
    assert simplify_polyline([[0, 0], [3, 4]], 0.1).tolist() == [[0.0, 0.0], [3.0, 4.0]]
    with pytest.raises(ValueError, match="tolerance_mm must be a finite number > 0"):
        simplify_polyline([[0, 0], [1, 1]], 0.0)
