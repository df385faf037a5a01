"""Screenshots of the real window (the script that makes docs/screenshots) and the bundled samples."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from needleplan_napari._depth_ruler import RULER_NAME
from needleplan_napari._names import PLUGIN

pytestmark = pytest.mark.gui

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("np_screenshots", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_screenshots_of_the_docked_window(make_napari_viewer_proxy, tmp_path):
    from PIL import Image

    shots = _script()
    for key, preset, habitus in shots.CASES:
        viewer = make_napari_viewer_proxy(show=True)
        viewer.window.resize(1280, 800)
        _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
        plan_path = shots.case_plan(key, preset, habitus, tmp_path)
        out = shots.take(viewer, widget, plan_path, tmp_path / f"{key}.png")
        img = np.asarray(Image.open(out))
        assert img.shape[1] >= 1000 and img.shape[0] >= 600  # the whole window, not the canvas
        assert img[..., :3].std() > 20  # not blank
        assert widget.findings_shown(), key  # the panel lists the plan's findings
        assert "mm/px" in widget.calibration.calibration_label.text()
        assert RULER_NAME in [layer.name for layer in viewer.layers]  # the depth ruler is in the picture
        if key == "trapezius_thin":
            assert "THIN_PATIENT" in widget.session.state.report.codes
        else:  # the plan of the case's own site (piriformis, lumbar_paraspinal), not a leftover
            assert widget.session.state.plan.site == preset
