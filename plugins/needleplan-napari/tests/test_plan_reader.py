"""A plan file opens through napari's reader: its image in mm beside its marks and needle, refused
when the image is not the plan's; the first view is Home and no click moves the needle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication

from needleplan.colours import KIND_STYLES, rgba
from needleplan.samples import sample_plan
from needleplan_napari import _layers
from needleplan_napari._names import PLAN_WIDGET, PLUGIN
from needleplan_napari._reader import get_reader, read_plan

pytestmark = pytest.mark.gui

REAL = Path(__file__).resolve().parents[3] / "tests" / "data" / "real_dicom"


@pytest.fixture
def plan_copy(tmp_path) -> Path:
    """The thin trapezius sample plan and its image, copied to a fresh folder."""
    src = sample_plan("trapezius_thin")
    image = src.with_name(src.name.replace(".plan.json", ".dcm"))
    shutil.copy(image, tmp_path / image.name)
    return Path(shutil.copy(src, tmp_path / src.name))


def _settle():
    for _ in range(10):
        QApplication.processEvents()


def _by_kind(viewer) -> dict:
    return {
        layer.metadata[_layers.META]["kind"]: layer
        for layer in viewer.layers
        if _layers.role_of_layer(layer) in ("structure", "needle")
    }


def test_get_reader_claims_plan_files_by_name_only(plan_copy, tmp_path):
    assert get_reader(str(plan_copy)) is read_plan
    assert get_reader([str(plan_copy), str(plan_copy)]) is read_plan
    assert get_reader(str(tmp_path / "missing.plan.json")) is None
    (tmp_path / "other.json").write_text("{}")
    assert get_reader(str(tmp_path / "other.json")) is None


def test_plan_opens_with_its_image_in_mm_and_its_needle(make_napari_viewer_proxy, plan_copy):
    viewer = make_napari_viewer_proxy()
    layers = viewer.open(str(plan_copy), plugin=PLUGIN)
    image = layers[0]
    assert _layers.role_of_layer(image) == "image"
    # US region: 0.1 mm pixels, reference pixel (20, 274) is world (0, 0) mm
    assert tuple(image.scale) == pytest.approx((0.1, 0.1))
    assert image.data_to_world((20, 274)) == pytest.approx((0.0, 0.0), abs=1e-9)
    kinds = _by_kind(viewer)
    assert set(kinds) == {"skin", "pleura", "target", "needle"}
    # the plan's needle: entry (0, 15) mm, tip (8.05, 0) mm, read back through the adapter
    entry, tip, _ = _layers.needle_from_layer(kinds["needle"], image)
    assert entry == pytest.approx((0.0, 15.0)) and tip == pytest.approx((8.05, 0.0))


def test_every_layer_is_drawn_in_the_core_colour_of_its_kind(make_napari_viewer_proxy, plan_copy):
    viewer = make_napari_viewer_proxy()
    viewer.open(str(plan_copy), plugin=PLUGIN)
    kinds = _by_kind(viewer)
    assert kinds
    for kind, layer in kinds.items():
        # e.g. pleura #00e5ff = (0, 229/255, 1) = (0.0, 0.898, 1.0) on screen as on paper
        expected = rgba(KIND_STYLES[kind].colour)[:3]
        np.testing.assert_allclose(np.asarray(layer.edge_color)[:, :3], [expected] * len(layer.data), atol=2e-3)
    pleura = np.asarray(kinds["pleura"].edge_color)[0, :3]
    np.testing.assert_allclose(pleura, (0.0, 0.898, 1.0), atol=2e-3)


def test_a_plan_beside_the_wrong_image_is_refused_in_one_line(make_napari_viewer_proxy, plan_copy):
    from needleplan.errors import ImageBindingError

    image = plan_copy.with_name(plan_copy.name.replace(".plan.json", ".dcm"))
    shutil.copy(REAL / "RGB_IMAGE.dcm", image)  # another image under the plan's image name
    with pytest.raises(ImageBindingError) as err:
        read_plan(str(plan_copy))
    assert "\n" not in str(err.value) and "not the one the plan was made on" in str(err.value)


def test_the_plan_calibration_places_the_image_not_the_file_s(plan_copy):
    # a plan calibrated by hand at 0.2 mm/px with origin (0, 0): the image must be shown at 0.2 mm
    # (pixel (50, 100) -> world (10, 20) mm), or every mark would land on other pixels
    data = json.loads(plan_copy.read_text())
    data["calibration"] = {
        "source": "MANUAL",
        "spacing_mm": [0.2, 0.2],
        "origin_px": [0.0, 0.0],
        "region_index": None,
        "region_box_px": None,
    }
    plan_copy.write_text(json.dumps(data))
    from napari.layers import Image

    data_, kwargs, _ = read_plan(str(plan_copy))[0]
    image = Image(data_, **kwargs)
    assert image.data_to_world((50, 100)) == pytest.approx((10.0, 20.0))
    assert _layers.image_calibration(image).source == "MANUAL"


def test_first_view_is_home_with_the_image_selected_and_the_needle_still(make_napari_viewer, plan_copy):
    viewer = make_napari_viewer(show=True)  # not the proxy: the test reads the canvas size
    viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
    _settle()
    viewer.open(str(plan_copy), plugin=PLUGIN)
    _settle()
    assert viewer.layers.selection.active.name == viewer.layers[0].name  # the image, not the needle
    assert _by_kind(viewer)["needle"].mode == "pan_zoom"
    first = (viewer.scene.camera.zoom, tuple(viewer.scene.camera.center))
    viewer.reset_view()
    assert first[0] == pytest.approx(viewer.scene.camera.zoom)
    assert first[1] == pytest.approx(tuple(viewer.scene.camera.center))
    # the whole calibrated region is on the canvas: its width, (524 - 24 + 1) px * 0.1 = 50.1 mm, fits
    width_px = viewer.window._qt_viewer.canvas.size[0]
    assert 50.1 * viewer.scene.camera.zoom <= width_px


def test_widget_open_plan_ends_in_the_same_first_view(make_napari_viewer_proxy, plan_copy):
    viewer = make_napari_viewer_proxy(show=True)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
    _settle()
    assert widget.open_plan(plan_copy) is not None, widget.status.text()
    _settle()
    assert viewer.layers.selection.active.name == viewer.layers[0].name
    assert all(layer.mode == "pan_zoom" for layer in _by_kind(viewer).values())
    zoom = viewer.scene.camera.zoom
    viewer.reset_view()
    assert zoom == pytest.approx(viewer.scene.camera.zoom)


_VIEW_SCRIPT = """
import json, sys
import napari
from qtpy.QtWidgets import QApplication
from needleplan.cli import main
from needleplan_napari import _layers
from needleplan_napari._depth_ruler import RULER_NAME

seen = {}

def fake_run(*a, **k):  # the event loop: let Qt lay the window out, then look at it
    viewer = napari.current_viewer()
    for _ in range(10):
        QApplication.processEvents()
    seen["active"] = viewer.layers.selection.active.name
    seen["image"] = viewer.layers[0].name
    seen["needle mode"] = [str(ly.mode) for ly in viewer.layers if _layers.kind_of_layer(ly) == "needle"]
    seen["ruler"] = RULER_NAME in [layer.name for layer in viewer.layers]
    seen["zoom"] = viewer.scene.camera.zoom
    viewer.reset_view()
    seen["home zoom"] = viewer.scene.camera.zoom
    viewer.close()

napari.run = fake_run
seen["exit"] = main(["view", sys.argv[1]])
print(json.dumps(seen))
"""


def test_needleplan_view_of_a_plan_starts_at_home_with_the_ruler(plan_copy):
    # its own process: `needleplan view` makes its own napari.Viewer, as a user's shell does
    import os
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _VIEW_SCRIPT, str(plan_copy)],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0
    assert seen["active"] == seen["image"] and seen["needle mode"] == ["pan_zoom"] and seen["ruler"]
    # without the Home deferred until Qt has laid the window out this was 12.6 against 5.2 (cropped)
    assert seen["zoom"] == pytest.approx(seen["home zoom"])


def test_a_plan_without_its_image_is_refused_in_one_line(tmp_path):
    from needleplan.errors import ImageReadError

    plan = Path(shutil.copy(sample_plan("trapezius_thin"), tmp_path / "alone.plan.json"))
    with pytest.raises(ImageReadError) as err:
        read_plan(str(plan))
    assert "\n" not in str(err.value) and "was not found" in str(err.value)
