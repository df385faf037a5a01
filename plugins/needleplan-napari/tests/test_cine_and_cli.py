"""Cines (marks keep their frame), keyboard shortcuts, sample data and ``needleplan view``."""

from __future__ import annotations

from pathlib import Path

import pytest

from needleplan_napari import _layers
from needleplan_napari._names import PLUGIN
from needleplan_napari._state import PlanInputs

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[3]
REAL = REPO / "tests" / "data" / "real_dicom"


@pytest.fixture(scope="module")
def synthetic_cine(tmp_path_factory):
    """A calibrated 4-frame synthetic cine (the phantom), written as real DICOM."""
    from needleplan.synth import generate_case, write_case

    folder = tmp_path_factory.mktemp("cine")
    return write_case(generate_case("upper_trapezius", "thin", frames=4), folder / "trap_cine.dcm")


def test_cine_marks_keep_their_frame_through_save_and_open(make_napari_viewer_proxy, synthetic_cine, tmp_path):
    from needleplan.io import read_info

    info = read_info(synthetic_cine.dicom_path)
    viewer = make_napari_viewer_proxy()
    (image,) = viewer.open(str(synthetic_cine.dicom_path), plugin=PLUGIN)
    assert image.ndim == 3 and str(image.units[1]) == "millimeter"
    assert image.scale[0] == pytest.approx(info.frame_time_ms)  # the time slider is in ms
    assert tuple(image.scale[1:]) == pytest.approx(info.calibration.spacing_mm)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    viewer.dims.set_current_step(0, 2)  # go to frame 2
    widget.add_structure("pleura", [[14.0, -20.0], [14.5, 20.0]])
    widget.set_needle((0.0, -15.0), (8.0, 0.0))
    plan = widget.session.state.plan
    (pleura,) = [s for s in plan.structures if s.kind == "pleura"]
    assert pleura.frame_index == 2 and plan.image.frame_index == 2
    # the pleura is drawn on frame 2's time, 2 * frame_time ms
    assert widget.session.kind_layer("pleura").data_to_world(widget.session.kind_layer("pleura").data[0][0])[
        0
    ] == pytest.approx(2 * info.frame_time_ms)
    path = tmp_path / "cine.plan.json"
    assert widget.save_plan(path) is not None, widget.status.text()

    viewer2 = make_napari_viewer_proxy()
    widget2 = viewer2.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    assert widget2.open_plan(path) is not None, widget2.status.text()
    plan2 = widget2.session.state.plan
    assert [s.frame_index for s in plan2.structures if s.kind == "pleura"] == [2]
    assert plan2.image.frame_index == 2 and viewer2.dims.current_step[0] == 2


def test_keyboard_shortcuts_start_marking(make_napari_viewer_proxy):
    from napari.utils.key_bindings import coerce_keybinding

    from needleplan_napari._qt._mark_buttons import SHORTCUTS

    viewer = make_napari_viewer_proxy()
    viewer.open(str(REAL / "RGB_IMAGE.dcm"), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    assert set(SHORTCUTS.values()) >= {
        "target",
        "pleura",
        "rib",
        "vessel",
        "nerve",
        "skin",
        "bone",
        "neuraxis",
        "needle",
    }
    assert SHORTCUTS["Alt-X"] == "neuraxis"
    # the bound callables are the widget's, and they do what the button does
    for key, kind in SHORTCUTS.items():
        func = viewer.keymap.get(coerce_keybinding(key))
        assert func is not None, key
        func(viewer)
        assert viewer.layers.selection.active.name == kind
    widget.hideEvent(None)  # what closing the dock does: the shortcuts go with it
    assert not any(coerce_keybinding(k) in viewer.keymap for k in SHORTCUTS)
    widget.showEvent(None)
    assert all(coerce_keybinding(k) in viewer.keymap for k in SHORTCUTS)


def test_needleplan_view_opens_the_viewer_with_the_widget(monkeypatch, qtbot):
    import napari

    from needleplan.cli import main

    seen = {}

    def fake_run(*a, **k):  # the event loop: look at the window instead of blocking
        viewer = napari.current_viewer()
        seen["layers"] = [ly.name for ly in viewer.layers]
        seen["scale"] = tuple(viewer.layers[0].scale)
        viewer.close()

    monkeypatch.setattr(napari, "run", fake_run)
    assert main(["view", str(REAL / "RGB_IMAGE.dcm")]) == 0
    assert seen["layers"][0].startswith("RGB_IMAGE.dcm") and seen["scale"] == pytest.approx((0.2378717,) * 2, rel=1e-6)


def test_needleplan_view_without_argument_opens_the_bundled_sample_plan(monkeypatch, qtbot):
    import napari

    from needleplan.cli import main

    if not SAMPLES:
        pytest.skip("sample_dicom/ is not built yet (make samples)")
    seen = {}

    def fake_run(*a, **k):
        viewer = napari.current_viewer()
        seen["kinds"] = {_layers.kind_of_layer(ly) for ly in viewer.layers}
        viewer.close()

    monkeypatch.setattr(napari, "run", fake_run)
    assert main(["view"]) == 0
    assert {"needle", "pleura", "target"} <= seen["kinds"]


def test_needleplan_view_bad_input_is_one_line(capsys, tmp_path):
    from needleplan.cli import main

    assert main(["view", str(tmp_path / "missing.dcm")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("needleplan: error:") and "\n" not in err
    bad = tmp_path / "bad.dcm"
    bad.write_text("not dicom")
    assert main(["view", str(bad)]) == 2
    assert "\n" not in capsys.readouterr().err.strip()


SAMPLES = sorted((REPO / "sample_dicom").glob("*.plan.json"))


@pytest.mark.parametrize("plan_path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_each_bundled_sample_opens_in_mm(make_napari_viewer_proxy, plan_path):
    from needleplan.plan import load_plan

    plan = load_plan(plan_path)
    viewer = make_napari_viewer_proxy()
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    assert widget.open_plan(plan_path) is not None, widget.status.text()
    image = widget.session.image_layer()
    sp = plan.calibration.spacing_mm
    assert tuple(image.scale[-2:]) == pytest.approx(sp)
    origin_mm = tuple(-o * s for o, s in zip(plan.calibration.origin_px, sp, strict=True))
    assert tuple(image.translate[-2:]) == pytest.approx(origin_mm)
    assert str(image.units[-1]) == "millimeter"
    assert widget.findings_shown()


def test_sample_data_menu_entries(make_napari_viewer_proxy):
    if not SAMPLES:
        pytest.skip("sample_dicom/ is not built yet (make samples)")
    viewer = make_napari_viewer_proxy()
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    for key, site in (
        ("trapezius_thin", "upper_trapezius"),
        ("piriformis", "piriformis"),
        ("rhomboid_intercostal_cine", "rhomboid"),
        ("rhomboid_rib", "rhomboid"),
        ("lumbar_paraspinal", "lumbar_paraspinal"),
    ):
        layers = viewer.open_sample(PLUGIN, key)
        assert layers[0].name.endswith("mm/px]") and str(layers[0].units[-1]) == "millimeter"
        assert any(_layers.kind_of_layer(ly) == "needle" for ly in layers)
        assert widget.session.inputs.site == site  # the widget took over the sample's plan
        assert widget.needle_form.site.currentText() == site
        assert widget.findings_shown()
        for ly in list(viewer.layers):
            viewer.layers.remove(ly)


def test_opening_a_long_cine_decodes_only_what_is_shown(make_napari_viewer_proxy, tmp_path):
    from needleplan.synth import generate_case, write_case

    written = write_case(generate_case("rhomboid_intercostal", "thin", frames=40), tmp_path / "long.dcm")
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(written.dicom_path), plugin=PLUGIN)
    source = layer.metadata["needleplan"]["image"]
    assert layer.data.shape[0] == 40
    assert source.decode_count <= 2  # the frame on screen, not the 40-frame loop
    viewer.dims.set_current_step(0, 30)
    assert source.decode_count <= 4


def test_a_pleura_marked_on_another_frame_draws_the_10_mm_band_the_rule_checks(
    make_napari_viewer_proxy, synthetic_cine
):
    # R3: a pleura measured on another frame of a cine is checked with a 10 mm margin
    # (PLEURA_MARGIN_OTHER_FRAME_MM) instead of 5 mm; the band drawn must be the one checked.
    viewer = make_napari_viewer_proxy()
    viewer.open(str(synthetic_cine.dicom_path), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    widget.set_inputs(PlanInputs(site="upper_trapezius"))
    viewer.dims.set_current_step(0, 2)
    widget.add_structure("pleura", [[14.0, -20.0], [14.0, 20.0]])  # pleura 14 mm deep, on frame 2
    viewer.dims.set_current_step(0, 1)
    widget.set_needle((0.0, -15.0), (8.0, 0.0))  # needle on frame 1, tip 8 mm deep
    state = widget.session.state
    (pleura,) = [s for s in state.plan.structures if s.kind == "pleura"]
    assert pleura.frame_index == 2 and state.plan.image.frame_index == 1
    # the tip is 14 - 8 = 6 mm above the pleura: inside a 10 mm margin, outside a 5 mm one
    (finding,) = state.report.by_code("PLEURA_MARGIN")
    assert finding.values["margin_mm"] == pytest.approx(10.0)
    margins = viewer.layers["needleplan: margins"]
    # the band is the pleura path drawn 2 * 10 = 20 mm wide (not 2 * 5 = 10 mm)
    assert margins.shape_type == ["path"] and list(margins.edge_width) == pytest.approx([20.0])

    # the needle moved onto the pleura's own frame: 5 mm margin, a 10 mm wide band, no finding
    viewer.dims.set_current_step(0, 2)
    widget.set_needle((0.0, -15.0), (8.0, 0.0))
    state = widget.session.state
    assert state.plan.image.frame_index == 2
    assert state.report.by_code("PLEURA_MARGIN") == ()
    assert list(viewer.layers["needleplan: margins"].edge_width) == pytest.approx([10.0])
