"""The layer adapter: layers <-> world millimetres, whoever made the layer."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.calibration import Calibration
from needleplan_napari import _layers, _overlays

pytestmark = pytest.mark.gui

# 0.2 mm/px down, 0.3 mm/px across; pixel (25, -33.33..) is world (0, 0):
# translate = -origin_px * spacing = (-25*0.2, +33.333*0.3) = (-5.0, 10.0), the C4.6 case.
CAL = Calibration(
    source="US_REGION",
    spacing_mm=(0.2, 0.3),
    origin_px=(25.0, -100.0 / 3.0),
    region_index=0,
    region_box_px=None,
    reason="region 0 (test)",
)


def test_doctests_of_the_plugin_modules():
    for mod in (_layers, _overlays):
        failed, _ = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert failed == 0, mod.__name__


def test_image_kwargs_follow_design_section_3():
    kw = _layers.calibrated_image_kwargs(CAL, 2, None)
    assert kw["scale"] == pytest.approx((0.2, 0.3))
    assert kw["translate"] == pytest.approx((-5.0, 10.0))
    assert kw["units"] == ("mm", "mm")


def test_cine_time_axis_in_ms():
    kw = _layers.calibrated_image_kwargs(CAL, 3, 33.333)
    assert kw["scale"][0] == pytest.approx(33.333)
    assert kw["units"] == ("ms", "mm", "mm")
    assert kw["axis_labels"] == ("time", "depth", "lateral")


def test_uncalibrated_image_is_pixels_never_mm():
    none = Calibration(
        source="NONE",
        spacing_mm=None,
        origin_px=(0.0, 0.0),
        region_index=None,
        region_box_px=None,
        reason="no regions, no PixelSpacing",
    )
    kw = _layers.calibrated_image_kwargs(none, 2, None)
    assert kw["scale"] == (1.0, 1.0) and kw["translate"] == (0.0, 0.0)
    assert "mm" not in kw["units"]
    assert "UNCALIBRATED" in _layers.calibration_label(none)


def _image(viewer):
    kw = _layers.calibrated_image_kwargs(CAL, 2, None)
    return viewer.add_image(
        np.zeros((200, 300), np.uint8), **kw, metadata={_layers.META: {"role": "image", "calibration": CAL}}
    )


def test_new_shapes_button_layer_gives_the_same_mm(make_napari_viewer_proxy):
    """napari's 'new shapes' copies scale but not translate; the adapter must not care."""
    viewer = make_napari_viewer_proxy()
    image = _image(viewer)
    world_mm = np.array([[10.0, -4.0], [22.5, 6.0]])  # a needle, world mm (row, col)
    ours = viewer.add_shapes(**_layers.shapes_layer_kwargs("needle", image))
    ours.add_lines(_layers.to_layer_data(ours, world_mm))
    # The button's layer: scale = image.scale, no translate, so data = world / scale.
    button = viewer.add_shapes(scale=image.scale, name="needle 2")
    button.add_lines(world_mm / np.asarray(image.scale))
    assert not np.allclose(button.data[0], ours.data[0])  # different layer data ...
    a = _layers.needle_from_layer(ours, image)
    b = _layers.needle_from_layer(button, image)
    assert a[0] == pytest.approx((10.0, -4.0)) and a[1] == pytest.approx((22.5, 6.0))
    assert b[0] == pytest.approx(a[0]) and b[1] == pytest.approx(a[1])  # ... same millimetres
    # The image pixel under the entry: (10 / 0.2 + 25, -4 / 0.3 - 33.33) = (75, -46.67)
    assert image.world_to_data(a[0]) == pytest.approx((75.0, -4.0 / 0.3 - 100.0 / 3.0))


def test_structures_from_layers_keep_kind_shape_and_frame(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    kw = _layers.calibrated_image_kwargs(CAL, 3, 40.0)
    image = viewer.add_image(np.zeros((5, 200, 300), np.uint8), **kw)
    pleura = viewer.add_shapes(**_layers.shapes_layer_kwargs("pleura", image))
    # a path on frame 3: world time = 3 * 40 ms = 120 ms
    world = np.array([[120.0, 14.0, -20.0], [120.0, 15.0, 20.0]])
    pleura.add_paths(_layers.to_layer_data(pleura, world))
    (s,) = _layers.layer_structures(pleura, "pleura", image)
    assert s.kind == "pleura" and not s.closed and s.frame_index == 3
    assert np.asarray(s.points_mm) == pytest.approx(np.array([[14.0, -20.0], [15.0, 20.0]]))
    back, shape_type = _layers.structure_shape(s, image)
    assert shape_type == "path" and back == pytest.approx(world)


def test_a_traced_pleura_longer_than_a_plan_holds_is_simplified_not_refused(make_napari_viewer_proxy):
    # 5,001 vertices traced 0.01 mm apart along a pleura 14 mm deep with one bend (rising to 13 mm at
    # col 0): more than the 2,000 points a plan structure may hold.  The plan gets a simplified path
    # (ends and the bend kept, every traced vertex within 0.05 mm of it) and validates.
    from dataclasses import replace

    from needleplan.clinical.plausible_ranges import MAX_POINTS_PER_STRUCTURE
    from needleplan.geometry import point_shape_distance
    from needleplan.plan import plan_from_dict, plan_to_dict

    viewer = make_napari_viewer_proxy()
    image = viewer.add_image(np.zeros((200, 300), np.uint8), **_layers.calibrated_image_kwargs(CAL, 2, None))
    pleura = viewer.add_shapes(**_layers.shapes_layer_kwargs("pleura", image))
    cols = np.linspace(-25.0, 25.0, 5001)
    rows = 14.0 - np.maximum(0.0, 1.0 - np.abs(cols) / 10.0)
    traced = np.column_stack([rows, cols])
    pleura.add_paths(_layers.to_layer_data(pleura, traced))
    (s,) = _layers.layer_structures(pleura, "pleura", image)
    assert 2 < len(s.points_mm) <= MAX_POINTS_PER_STRUCTURE
    assert np.asarray(s.points_mm)[[0, -1]] == pytest.approx(traced[[0, -1]])
    assert point_shape_distance(traced, np.asarray(s.points_mm), closed=False).max() <= 0.05 + 1e-9
    plan = plan_from_dict(
        {
            "format": "needleplan.plan",
            "version": 1,
            "image": {"frame_index": 0},
            "calibration": {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0, 0]},
            "site": "upper_trapezius",
            "structures": [],
            "needle": None,
        }
    )
    assert plan_from_dict(plan_to_dict(replace(plan, structures=(s,)))).structures[0].points_mm == s.points_mm


def test_ellipse_goes_to_the_core_as_its_outline_and_comes_back_exactly(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    image = _image(viewer)
    target = viewer.add_shapes(**_layers.shapes_layer_kwargs("target", image))
    # centre (10, 0), semi-axes 2 mm (rows) and 5 mm (cols)
    target.add_ellipses(np.array([[8.0, -5.0], [8.0, 5.0], [12.0, 5.0], [12.0, -5.0]]))
    (s,) = _layers.layer_structures(target, "target", image)
    pts = np.asarray(s.points_mm)
    assert s.closed
    # every outline point satisfies ((r-10)/2)^2 + (c/5)^2 = 1
    assert np.allclose(((pts[:, 0] - 10) / 2) ** 2 + (pts[:, 1] / 5) ** 2, 1.0)
    back, shape_type = _layers.structure_shape(s, image)
    assert shape_type == "ellipse"
    assert back == pytest.approx(target.data[0])


def test_kind_from_a_renamed_user_layer(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    layer = viewer.add_shapes(name="Pleura")
    assert _layers.kind_of_layer(layer) == "pleura"
    assert _layers.kind_of_layer(viewer.add_shapes(name="Shapes")) is None


@settings(max_examples=40, deadline=None)
@given(
    sr=st.floats(0.05, 1.0),
    sc=st.floats(0.05, 1.0),
    tr=st.floats(-50, 50),
    tc=st.floats(-50, 50),
    r=st.floats(-30, 60),
    c=st.floats(-40, 40),
)
def test_world_round_trip_any_scale_and_translate(sr, sc, tr, tc, r, c):
    """data_to_world(world_to_data(p)) == p for any layer geometry (no viewer needed)."""
    from napari.layers import Shapes

    layer = Shapes(scale=(sr, sc), translate=(tr, tc))
    data = _layers.to_layer_data(layer, np.array([[r, c], [r + 1.0, c - 2.0]]))
    layer.add_lines(data)
    back = _layers.world_vertices(layer, 0)
    # napari stores shape vertices as float32: about 1e-7 relative, far below a micrometre here
    assert back == pytest.approx(np.array([[r, c], [r + 1.0, c - 2.0]]), abs=1e-5)
