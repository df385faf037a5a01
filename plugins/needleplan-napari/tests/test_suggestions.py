"""Detect in the dock: suggestions drawn faint, never hazards until accepted; accept, reject, save/reopen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from needleplan_napari import _layers, _suggestions
from needleplan_napari._names import PLUGIN
from needleplan_napari._qt._suggestions_panel import DETECT_KEY
from needleplan_napari._state import PlanInputs

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "sample_dicom"


def _docked(make_napari_viewer_proxy, sample: str, site: str, **kw):
    viewer = make_napari_viewer_proxy(**kw)
    viewer.open(str(SAMPLES / sample), plugin=PLUGIN)
    dock, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    widget.set_inputs(PlanInputs(site=site, bmi=17.5, weight_kg=50.0, sex="F", needle_length_mm=38.0, gauge=25))
    return viewer, dock, widget


@pytest.fixture
def trapezius(make_napari_viewer_proxy):
    viewer, _, widget = _docked(make_napari_viewer_proxy, "upper_trapezius_thin_frame.dcm", "upper_trapezius")
    return viewer, widget


def _detect(widget, qtbot):
    worker = widget.suggestions.detect()
    assert worker is not None, widget.suggestions.status.text()
    # already running: wait for the panel to drop its worker (on finished), not for the signal itself,
    # which may have been emitted before a waitSignal could connect
    qtbot.waitUntil(lambda: widget.suggestions.worker is None, timeout=60_000)
    assert "suggestion(s) on" in widget.suggestions.status.text(), widget.suggestions.status.text()


def _bound(viewer) -> bool:
    return DETECT_KEY.replace("-", "+") in {str(k) for k in viewer.keymap}


def _codes(widget):
    return set(widget.session.state.report.codes)


def _row(widget, kind):
    return next(i for i, line in enumerate(widget.suggestions.shown()) if line.startswith(kind + " "))


def test_detect_shows_faint_suggestions_that_are_not_hazards_until_accepted(trapezius, qtbot):
    viewer, widget = trapezius
    _detect(widget, qtbot)
    pleura = viewer.layers["pleura"]
    assert len(pleura.data) == 1 and bool(pleura.features["suggested"][0])
    # the suggestion style: faint edge and a label with the kind, confidence and evidence
    assert np.asarray(pleura.edge_color)[0, 3] == pytest.approx(_suggestions.SUGGESTED_ALPHA)
    label = str(pleura.text.string.array[0])
    assert label.startswith("suggested pleura ") and "%" in label
    lines = widget.suggestions.shown()
    assert any(line.startswith("pleura ") and "reverberation" in line for line in lines)
    plan = widget.session.state.plan
    assert plan.structures and all(s.suggested for s in plan.structures)
    # the detected pleura lies 14.4-14.7 mm deep (the sample's truth: about 14.8-15.1 mm)
    line = np.asarray(next(s for s in plan.structures if s.kind == "pleura").points_mm)
    assert 13.5 < line[:, 0].min() and line[:, 0].max() < 16.0
    # a tip 2 mm above the suggested pleura's shallowest point, mid-line: the suggestion is NOT a hazard,
    # so no PLEURA_MARGIN yet, but the panel says a pleura-like line is unmarked, and the site still
    # needs a marked pleura
    col = float(line[:, 1].mean())
    tip = (float(line[:, 0].min()) - 2.0, col)
    widget.set_needle((0.0, col - 15.0), tip)
    codes = _codes(widget)
    assert "PLEURA_SUGGESTED_UNMARKED" in codes and "PLEURA_NOT_MARKED" in codes
    assert "PLEURA_MARGIN" not in codes
    assert any("[PLEURA_SUGGESTED_UNMARKED]" in line and "not marked" in line for line in widget.findings_shown())
    # accept the pleura only: it counts now (the tip is within the 5 mm margin), the warning goes
    widget.suggestions.select(_row(widget, "pleura"))
    assert widget.suggestions.accept_selected() == 1
    codes = _codes(widget)
    assert "PLEURA_MARGIN" in codes
    assert "PLEURA_SUGGESTED_UNMARKED" not in codes and "PLEURA_NOT_MARKED" not in codes
    assert any("[PLEURA_MARGIN]" in line for line in widget.findings_shown())
    assert not any("[PLEURA_SUGGESTED_UNMARKED]" in line for line in widget.findings_shown())
    # drawn as a mark: opaque, no label, and no longer in the list
    assert not bool(pleura.features["suggested"][0])
    assert np.asarray(pleura.edge_color)[0, 3] == pytest.approx(1.0)
    assert str(pleura.text.string.array[0]) == ""
    assert not any(line.startswith("pleura ") for line in widget.suggestions.shown())
    accepted = [s for s in widget.session.state.plan.structures if s.kind == "pleura"]
    assert len(accepted) == 1 and not accepted[0].suggested and accepted[0].evidence


def test_reject_removes_and_a_new_detection_replaces_only_suggestions(trapezius, qtbot):
    viewer, widget = trapezius
    _detect(widget, qtbot)
    n = len(widget.suggestions.shown())
    fascia = viewer.layers["fascia"]
    before = len(fascia.data)
    assert before >= 1
    widget.suggestions.select(_row(widget, "fascia"))
    assert widget.suggestions.reject_selected() == 1
    assert len(fascia.data) == before - 1
    assert len(widget.suggestions.shown()) == n - 1
    assert sum(s.kind == "fascia" for s in widget.session.state.plan.structures) == before - 1
    # a suggestion selected as a shape in napari (no list selection) is accepted too
    skin = viewer.layers["skin"]
    viewer.layers.selection.active = skin
    skin.selected_data = {0}
    widget.suggestions.list.clearSelection()
    assert widget.suggestions.accept_selected() == 1
    assert len(widget.suggestions.shown()) == n - 2
    # Detect again (as `needleplan detect --into`): the earlier unaccepted suggestions are replaced by
    # the new run's n (not added to them), and the accepted skin stays a mark
    _detect(widget, qtbot)
    plan = widget.session.state.plan
    assert sum(1 for s in plan.structures if s.kind == "skin" and not s.suggested) == 1
    assert len(widget.suggestions.shown()) == n
    assert sum(1 for s in plan.structures if s.suggested) == n
    assert len(plan.structures) == n + 1
    # a suggestion deleted by hand in napari leaves the list too
    viewer.layers["fascia"].selected_data = {0}
    viewer.layers["fascia"].remove_selected()
    assert len(widget.suggestions.shown()) == n - 1


def test_a_shape_drawn_after_accept_or_reject_is_a_mark_not_a_suggestion(trapezius, qtbot):
    viewer, widget = trapezius
    _detect(widget, qtbot)
    fascia = viewer.layers["fascia"]
    assert len(fascia.data) == 2 and all(fascia.features["suggested"])
    widget.suggestions.select(_row(widget, "fascia") + 1)  # the second fascia; the first stays suggested
    assert widget.suggestions.accept_selected() == 1
    fascia.add(np.array([[20.0, -5.0], [20.0, 5.0]]), shape_type="path")  # what drawing a path does
    assert list(fascia.features["suggested"]) == [True, False, False]
    # ... and carries none of a detector's confidence or evidence (napari would copy row 0's)
    assert fascia.features["evidence"].iloc[-1] == "" and np.isnan(fascia.features["confidence"].iloc[-1])
    widget.suggestions.select(_row(widget, "fascia"))
    assert widget.suggestions.reject_selected() == 1
    fascia.add(np.array([[22.0, -5.0], [22.0, 5.0]]), shape_type="path")
    assert list(fascia.features["suggested"]) == [False, False, False]
    assert sum(s.kind == "fascia" and not s.suggested for s in widget.session.state.plan.structures) == 3


def test_a_stale_selection_never_touches_an_accepted_mark(trapezius, qtbot):
    viewer, widget = trapezius
    _detect(widget, qtbot)
    stale = [r for r in _suggestions.suggestion_refs(viewer) if r.kind == "pleura"]
    widget.suggestions.select(_row(widget, "pleura"))
    assert widget.suggestions.accept_selected() == 1
    assert _suggestions.reject(widget.session, stale) == 0  # that pleura is a mark now: kept
    assert _suggestions.accept(widget.session, stale) == 0
    assert len(viewer.layers["pleura"].data) == 1
    assert "PLEURA_SUGGESTED_UNMARKED" not in _codes(widget)


def test_save_keeps_suggestions_and_reopening_restores_them(trapezius, qtbot, tmp_path, make_napari_viewer_proxy):
    viewer, widget = trapezius
    _detect(widget, qtbot)
    widget.suggestions.select(_row(widget, "pleura"))
    widget.suggestions.accept_selected()
    n_left = len(widget.suggestions.shown())
    assert n_left >= 2
    path = tmp_path / "trapezius.plan.json"
    assert widget.save_plan(path) is not None
    saved = json.loads(path.read_text())["structures"]
    assert sum(1 for s in saved if s.get("suggested")) == n_left
    assert all("confidence" in s and s.get("evidence") for s in saved if s.get("suggested"))
    assert [s.get("suggested", False) for s in saved if s["kind"] == "pleura"] == [False]

    viewer2, _, widget2 = _docked(make_napari_viewer_proxy, "upper_trapezius_thin_frame.dcm", "upper_trapezius")
    assert widget2.open_plan(path) is not None
    assert widget2.suggestions.shown() == widget.suggestions.shown()
    for kind in {s["kind"] for s in saved if s.get("suggested")}:
        layer = viewer2.layers[kind]
        mask = layer.features["suggested"].to_numpy(bool)
        assert np.allclose(np.asarray(layer.edge_color)[mask, 3], _suggestions.SUGGESTED_ALPHA)
        assert all(str(t).startswith(f"suggested {kind}") for t in np.asarray(layer.text.string.array)[mask])
    reopened = widget2.session.state.plan
    assert sorted((s.kind, s.suggested) for s in reopened.structures) == sorted(
        (s["kind"], bool(s.get("suggested"))) for s in saved
    )
    # Accept all: nothing is a suggestion any more, and saving again says so
    assert widget2.suggestions.accept_all() == n_left
    assert widget2.suggestions.shown() == []
    assert not any(s.suggested for s in widget2.session.state.plan.structures)
    assert "SUGGESTION_UNCONFIRMED" not in _codes(widget2)


def test_cine_detection_uses_the_whole_cine_for_sliding_and_pulsation(make_napari_viewer_proxy, qtbot):
    viewer, _, widget = _docked(make_napari_viewer_proxy, "rhomboid_intercostal_thin_cine.dcm", "rhomboid")
    _detect(widget, qtbot)
    assert "cine" in widget.suggestions.status.text()
    plan = widget.session.state.plan
    pleura = [s for s in plan.structures if s.kind == "pleura"]
    assert pleura and all(s.suggested for s in pleura)
    assert any("sliding present" in (s.evidence or "") for s in pleura)
    arteries = [s for s in plan.structures if s.kind == "artery"]
    assert arteries and "pulsatile" in arteries[0].evidence
    # the cine's suggestions sit on the displayed frame of the time axis (napari opens mid-cine)
    assert {s.frame_index for s in plan.structures} == {widget.session.current_frame()}
    # a suggested artery is not a vessel hazard: the core says it is unconfirmed instead
    assert "SUGGESTION_UNCONFIRMED" in _codes(widget) and "PLEURA_SUGGESTED_UNMARKED" in _codes(widget)


def test_uncalibrated_image_detects_nothing_and_says_why(make_napari_viewer_proxy, real_dicom):
    viewer = make_napari_viewer_proxy()
    viewer.open(str(real_dicom / "US1_J2KR.dcm"), plugin=PLUGIN)  # no regions, no PixelSpacing
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")
    assert not widget.session.calibration().is_calibrated
    assert widget.suggestions.detect() is None  # no worker: no millimetres to suggest in
    assert "no length calibration" in widget.suggestions.status.text()
    assert not [ly for ly in viewer.layers if _layers.kind_of_layer(ly) is not None]


def test_closing_and_reopening_the_dock_does_not_pile_up(make_napari_viewer_proxy, qtbot):
    viewer, dock, widget = _docked(
        make_napari_viewer_proxy, "upper_trapezius_thin_frame.dcm", "upper_trapezius", show=True
    )
    dock.show()
    receivers = len(widget.session.updated)
    layer_callbacks = widget.session.connection_count()
    assert _bound(viewer)
    for _ in range(3):
        dock.close()
        assert not _bound(viewer)
        assert widget.session.connection_count() == 0
        dock.show()
        assert _bound(viewer)
    assert len(widget.session.updated) == receivers
    assert widget.session.connection_count() == layer_callbacks
    _detect(widget, qtbot)
    n = len(widget.suggestions.shown())
    assert n == sum(1 for s in widget.session.state.plan.structures if s.suggested)
    calls = []
    widget.session.updated.connect(calls.append)
    widget.suggestions.select(0)
    widget.suggestions.accept_selected()
    assert len(calls) == 1
