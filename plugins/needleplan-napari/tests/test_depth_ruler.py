"""The depth ruler on the canvas: mm ticks down the calibrated region's left edge, labelled every cm,
never part of the plan, absent on an image without millimetres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qtpy.QtWidgets import QApplication

from needleplan.samples import sample_plan
from needleplan_napari import _layers
from needleplan_napari._depth_ruler import RULER_NAME, ruler_drawing
from needleplan_napari._names import PLAN_WIDGET, PLUGIN

pytestmark = pytest.mark.gui

REAL = Path(__file__).resolve().parents[3] / "tests" / "data" / "real_dicom"


def _settle():
    for _ in range(10):
        QApplication.processEvents()


def _ruler(viewer):
    found = [layer for layer in viewer.layers if layer.name == RULER_NAME]
    return found[0] if found else None


@pytest.fixture
def docked(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy(show=True)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
    _settle()
    return viewer, widget


def test_ticks_of_the_thin_trapezius_sample(make_napari_viewer_proxy):
    from napari.layers import Image

    from needleplan_napari._plan_layers import plan_layers

    data, kwargs, _ = plan_layers(sample_plan("trapezius_thin"))[0]
    lines, labels = ruler_drawing(Image(data, **kwargs))
    # region box rows 20..380, reference row 20, 0.1 mm/px: depths -0.05 .. (380.5 - 20) * 0.1 = 36.05 mm
    # -> a tick every mm from 0 to 36: 37 ticks, labelled at 0, 10, 20, 30 mm
    assert len(lines) == 37
    assert [lab for lab in labels if lab] == ["0", "1 cm", "2 cm", "3 cm"]
    assert [float(line[0, 0]) for line in lines] == pytest.approx(list(range(37)))
    # left edge of the region: (24 - 0.5 - 274) * 0.1 = -25.05 mm; majors 2 mm long, minors 1 mm
    assert all(line[0, 1] == pytest.approx(-25.05) for line in lines)
    assert [float(line[1, 1] - line[0, 1]) for line in lines[:2]] == pytest.approx([2.0, 1.0])
    assert all(line[0, 0] == line[1, 0] for line in lines)  # horizontal: one depth per tick


def test_the_ruler_is_on_the_canvas_and_not_in_the_plan(docked):
    viewer, widget = docked
    viewer.open(str(sample_plan("trapezius_thin")), plugin=PLUGIN)
    _settle()
    ruler = _ruler(viewer)
    assert ruler is not None and not ruler.editable
    assert _layers.role_of_layer(ruler) == "overlay"
    assert list(ruler.features["label"])[:11] == ["0", *[""] * 9, "1 cm"]
    plan = widget.session.build_plan()
    assert {s.kind for s in plan.structures} == {"skin", "pleura", "target"}
    # the world the ruler is drawn in is the image's: tick "1 cm" lies on image row 20 + 10 / 0.1 = 120
    tick = _layers.world_vertices(ruler, 10)[0]
    image = viewer.layers[0]
    assert image.world_to_data(tuple(tick))[0] == pytest.approx(120.0)


def test_no_ruler_without_millimetres_until_calibrated(docked):
    viewer, widget = docked
    viewer.open(str(REAL / "US1_J2KR.dcm"), plugin=PLUGIN)
    _settle()
    assert _ruler(viewer) is None
    # two points 80 px apart down the rows called 10 mm: 0.125 mm/px, so the ruler appears
    widget.calibrate((100.0, 20.0), (180.0, 20.0), 10.0)
    ruler = _ruler(viewer)
    assert ruler is not None
    depths = [float(d[0][0]) for d in ruler.data]
    assert np.diff(depths) == pytest.approx(np.ones(len(depths) - 1))


def test_a_cine_gets_a_ruler_on_every_frame(docked):
    viewer, _ = docked
    viewer.open(str(sample_plan("rhomboid_intercostal_cine")), plugin=PLUGIN)
    _settle()
    ruler = _ruler(viewer)
    # a 2-D layer over a 3-D image: napari shows it on every time step
    assert viewer.layers[0].ndim == 3 and ruler is not None and ruler.ndim == 2
    assert tuple(str(u) for u in ruler.units) == ("millimeter", "millimeter")


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 0.5), st.integers(0, 60), st.integers(0, 80), st.integers(60, 400))
def test_every_tick_sits_on_the_image_row_of_its_depth(spacing_mm, origin_row, origin_col, rows):
    from napari.layers import Image

    from needleplan.calibration import Calibration

    cal = Calibration(
        source="PIXEL_SPACING",
        spacing_mm=(spacing_mm, spacing_mm),
        origin_px=(float(origin_row), float(origin_col)),
        region_index=None,
        region_box_px=None,
        reason="test",
    )
    kwargs = _layers.calibrated_image_kwargs(cal, 2, None)
    image = Image(
        np.zeros((rows, 100), np.uint8), **kwargs, metadata={_layers.META: {"role": "image", "calibration": cal}}
    )
    lines, labels = ruler_drawing(image)
    for line, label in zip(lines, labels, strict=True):
        depth_mm = float(line[0, 0])
        # image row of a depth: origin_row + depth / spacing, inside the image's outer pixel edges
        row = image.world_to_data(tuple(line[0]))[0]
        assert row == pytest.approx(origin_row + depth_mm / spacing_mm, abs=1e-6)
        assert -0.5 - 1e-6 <= row <= rows - 0.5 + 1e-6
        assert depth_mm >= 0.0  # never above the skin line
        # the tick starts on the image's left edge: (-0.5 - origin_col) * spacing
        assert line[0, 1] == pytest.approx((-0.5 - origin_col) * spacing_mm, abs=1e-6)
        assert (label != "") == (abs(depth_mm / 10.0 - round(depth_mm / 10.0)) < 1e-9)
