"""The dock widget on a real calibrated ultrasound file: marks, needle, live findings, lifecycle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from needleplan_napari._names import PLUGIN
from needleplan_napari._state import PlanInputs

pytestmark = pytest.mark.gui

REAL = Path(__file__).resolve().parents[4] / "tests" / "data" / "real_dicom"

PLEURA = [[14.8, -20.0], [15.1, 20.0]]
TARGET = [[8.0, 0.0], [8.0, 4.0], [11.0, 4.0], [11.0, 0.0]]  # a polygon round the tip


@pytest.fixture
def docked(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    viewer.open(str(REAL / "RGB_IMAGE.dcm"), plugin=PLUGIN)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    return viewer, widget


def _expected_report(widget, needle_entry, needle_tip):
    """check_plan on the same plan written out independently as a plan dict (docs/contracts.md §4)."""
    from needleplan.plan import plan_from_dict
    from needleplan.safety import check_plan

    cal = widget.session.calibration()
    d = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": cal.to_dict(),
        "site": "upper_trapezius",
        "approach": "in_plane",
        "patient": {"bmi": 17.5, "weight_kg": 50.0, "sex": "F", "lung_disease": False, "anticoagulated": False},
        "structures": [
            {"kind": "pleura", "points_mm": PLEURA, "closed": False},
            {"kind": "target", "points_mm": TARGET, "closed": True},
        ],
        "needle": {"entry_mm": needle_entry, "target_mm": needle_tip, "length_mm": 38.0, "gauge": 25},
    }
    return check_plan(plan_from_dict(d))


def _thin_trapezius(widget):
    widget.set_inputs(
        PlanInputs(site="upper_trapezius", bmi=17.5, weight_kg=50.0, sex="F", needle_length_mm=38.0, gauge=25)
    )
    widget.add_structure("pleura", PLEURA)
    widget.add_structure("target", TARGET, "polygon")


def test_findings_shown_equal_check_plan_and_follow_the_needle(docked):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    expected = _expected_report(widget, [0.0, -18.0], [9.5, 2.0])
    shown = widget.findings_shown()
    assert len(shown) == len(expected.findings)
    assert sorted(shown) == sorted(
        f"{ {'block': 'STOP', 'warn': 'WARNING', 'info': 'note'}[f.severity] }: {f.message} [{f.code}]"
        for f in expected.findings
    )
    assert "THIN_PATIENT" in widget.session.state.report.codes
    # most severe first
    order = {"STOP": 0, "WARNING": 1, "note": 2}
    ranks = [order[line.split(":")[0]] for line in shown]
    assert ranks == sorted(ranks)
    # metrics: path = hypot(9.5, 20) = 22.14 mm
    assert "Path 22.1 mm" in widget.findings.metrics_label.text()
    # drag the tip down to 12 mm: 2.8 mm above the pleura (~14.95 at col 2) -> PLEURA_MARGIN appears
    widget.set_needle((0.0, -18.0), (12.0, 2.0))
    moved = _expected_report(widget, [0.0, -18.0], [12.0, 2.0])
    assert "PLEURA_MARGIN" in moved.codes
    assert any("[PLEURA_MARGIN]" in line for line in widget.findings_shown())
    assert len(widget.findings_shown()) == len(moved.findings)


def test_each_kind_gets_its_own_layer_and_mode(docked):
    viewer, widget = docked
    for kind, mode in (
        ("pleura", "add_path"),
        ("target", "add_ellipse"),
        ("vein", "add_ellipse"),
        ("needle", "add_line"),
        ("skin", "add_path"),
    ):
        layer = widget.mark(kind)
        assert layer.name == kind and layer.mode == mode
        assert viewer.layers.selection.active.name == kind
    assert len([ly for ly in viewer.layers if ly.name in ("pleura", "target", "vein", "needle", "skin")]) == 5


def test_overlays_tick_dashed_overshoot_and_margins(docked):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    margins = viewer.layers["needleplan: margins"]
    tick = viewer.layers["needleplan: safety"]
    overshoot = viewer.layers["needleplan: overshoot"]
    ins = widget.session.state.needle_numbers  # the check's own numbers, as the overlays draw them
    assert ins is not None
    # the pleura's 5 mm margin band: the pleura path drawn 2 * 5 = 10 mm wide
    assert margins.shape_type == ["path"] and margins.edge_width[0] == pytest.approx(10.0)
    # the tick (a vector across the needle) is centred max_safe_insertion_mm from the entry, which
    # here is drawn on the skin line (row 0)
    ((pos, proj),) = np.asarray(tick.data)
    centre = pos + proj / 2.0
    assert np.hypot(*(centre - np.array([0.0, -18.0]))) == pytest.approx(ins.max_safe_insertion_mm, abs=1e-3)
    # The same trajectory with its entry drawn 5 mm above the skin, at (0, -18) - 5 u with
    # u = (9.5, 20) / 22.142: the deepest safe insertion counts from the skin crossing, so the tick
    # must not move 5 mm shallower with the drawn entry.
    u = np.array([9.5, 20.0]) / np.hypot(9.5, 20.0)
    widget.set_needle(tuple(np.array([0.0, -18.0]) - 5.0 * u), (9.5, 2.0))
    ((pos2, proj2),) = np.asarray(viewer.layers["needleplan: safety"].data)
    assert pos2 + proj2 / 2.0 == pytest.approx(centre, abs=1e-3)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    # 8 dashes from the tip along the needle's extension, reach_mm long in all
    dashes = np.asarray(overshoot.data)
    assert len(dashes) == 8
    start, end = dashes[0][0], dashes[-1][0] + dashes[-1][1]
    assert start == pytest.approx((9.5, 2.0), abs=1e-4)
    assert np.hypot(*(end - start)) == pytest.approx(ins.overshoot_reach_mm, abs=1e-3)
    # moving the needle moves the tick without re-creating the layer
    widget.set_needle((0.0, -18.0), (10.5, 2.0))
    assert viewer.layers["needleplan: safety"] is tick or viewer.layers["needleplan: safety"] == tick


def test_closing_and_reopening_the_dock_does_not_pile_up_callbacks(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy(show=True)  # visibility events need a shown window
    viewer.open(str(REAL / "RGB_IMAGE.dcm"), plugin=PLUGIN)
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    dock.show()
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    before = widget.session.connection_count()
    assert before > 0
    for _ in range(3):
        dock.close()  # napari's X hides the dock (no closeEvent on the widget)
        assert widget.session.connection_count() == 0
        dock.show()
    assert widget.session.connection_count() == before
    calls = []
    widget.session.updated.connect(calls.append)
    widget.set_needle((0.0, -18.0), (10.0, 2.0))
    assert len(calls) == 1


def _buttons(widget, text):
    from qtpy.QtWidgets import QPushButton

    return [b for b in widget.findChildren(QPushButton) if b.text() == text]


def test_suggest_in_background_then_use_suggested_path(docked, qtbot):
    from qtpy.QtCore import Qt

    viewer, widget = docked
    # "Accept" is the detector suggestions' button only; the suggested needle path has its own label.
    assert _buttons(widget, "Accept") == [widget.suggestions.accept_button]
    [use_path] = _buttons(widget, "Use suggested path")
    assert not use_path.isEnabled()
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    # The worker is already running when suggest() returns and may finish before a waitSignal could
    # connect, so wait for what it leaves behind instead.
    assert widget.suggest() is not None
    qtbot.waitUntil(use_path.isEnabled, timeout=30_000)
    assert "Use suggested path" in widget.status.text()
    s = widget.session.suggestion
    assert len(viewer.layers["needleplan: suggestion"].data) > 0
    qtbot.mouseClick(use_path, Qt.MouseButton.LeftButton)
    entry, tip, _ = __import__("needleplan_napari._layers", fromlist=["x"]).needle_from_layer(
        widget.session.kind_layer("needle"), widget.session.image_layer()
    )
    assert entry == pytest.approx(s.needle.entry_mm, abs=1e-4)
    assert tip == pytest.approx(s.needle.target_mm, abs=1e-4)
    assert len(viewer.layers["needleplan: suggestion"].data) == 0


def test_export_report_from_the_panel_in_a_worker(docked, qtbot, tmp_path):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    out = tmp_path / "report.pdf"
    assert widget.export_report(out) is not None  # already running: wait for its result, not its signal
    qtbot.waitUntil(lambda: "Report written" in widget.status.text(), timeout=60_000)
    assert out.read_bytes()[:5] == b"%PDF-"


def test_a_drawing_the_core_refuses_is_said_not_hidden(docked):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((5.0, 1.0), (5.0, 1.0))  # a click, not a needle: zero length
    shown = widget.findings_shown()
    assert len(shown) == 1 and shown[0].startswith("STOP: this drawing cannot be checked")
    assert "same point" in shown[0]
    assert " mm" not in widget.findings.metrics_label.text()
    widget.set_needle((0.0, -18.0), (9.5, 2.0))  # drawn again: checked again
    assert any("[THIN_PATIENT]" in line for line in widget.findings_shown())


def test_dragging_the_needle_tip_with_the_mouse_updates_the_panel_during_the_drag(docked):
    """A real vertex drag through napari's own mouse bindings: findings follow every mouse move."""
    from napari.utils._test_utils import read_only_mouse_event
    from napari.utils.interactions import mouse_move_callbacks, mouse_press_callbacks, mouse_release_callbacks

    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    needle = widget.session.kind_layer("needle")
    needle.mode = "direct"
    needle.selected_data = {0}
    needle.scale_factor = 0.001  # zoomed in: the click lands on the tip vertex only
    mouse_press_callbacks(needle, read_only_mouse_event(type="mouse_press", position=(9.5, 2.0)))
    seen = []
    for tip in ((10.5, 2.0), (11.5, 2.0), (12.0, 2.0)):
        mouse_move_callbacks(needle, read_only_mouse_event(type="mouse_move", is_dragging=True, position=tip))
        plan = widget.session.state.plan
        assert plan.needle.target_mm == pytest.approx(tip, abs=1e-4)  # before the release
        seen.append(widget.session.state.report.codes)
    mouse_release_callbacks(needle, read_only_mouse_event(type="mouse_release", is_dragging=True, position=(12.0, 2.0)))
    # at 12 mm the tip is ~2.9 mm above the pleura (margin 5 mm): the panel says so, live
    assert "PLEURA_MARGIN" in seen[-1]
    assert any("[PLEURA_MARGIN]" in line for line in widget.findings_shown())
    assert widget.session.state.plan.needle.entry_mm == pytest.approx((0.0, -18.0), abs=1e-4)


def test_a_new_line_in_the_needle_layer_replaces_the_old_needle(docked):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    needle = widget.session.kind_layer("needle")
    needle.add_lines(np.array([[0.0, -10.0], [9.0, 1.0]]))  # what drawing a second line does
    assert len(needle.data) == 1
    plan = widget.session.state.plan
    assert plan.needle.entry_mm == pytest.approx((0.0, -10.0), abs=1e-4)
    assert plan.needle.target_mm == pytest.approx((9.0, 1.0), abs=1e-4)


def test_the_form_is_wired_to_the_live_check(docked):
    viewer, widget = docked
    _thin_trapezius(widget)
    widget.set_needle((0.0, -18.0), (9.5, 2.0))
    assert "LUNG_DISEASE" not in widget.session.state.report.codes
    widget.patient_form.lung_disease.setChecked(True)  # a click in the Patient tab, no button
    assert "LUNG_DISEASE" in widget.session.state.report.codes
    # lidocaine 1 % x 30 mL = 300 mg; 50 kg x 4.5 mg/kg = 225 mg maximum -> past the limit
    widget.patient_form.weight.setValue(50.0)
    widget.patient_form.drug.setCurrentText("lidocaine")
    widget.patient_form.concentration.setValue(1.0)
    widget.patient_form.volume.setValue(30.0)
    assert "DOSE_LIMIT" in widget.session.state.report.codes
    assert any("[DOSE_LIMIT]" in line and line.startswith("STOP") for line in widget.findings_shown())
    widget.needle_form.needle_length.setCurrentText("89 mm")
    assert widget.session.state.plan.needle.length_mm == 89.0
    widget.needle_form.site.setCurrentText("piriformis")
    assert widget.session.state.plan.site == "piriformis"
