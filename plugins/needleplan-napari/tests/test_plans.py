"""Save and reopen plans; layers made by napari's button; uncalibrated images and two-point calibration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from needleplan_napari import _layers
from needleplan_napari._names import PLUGIN
from needleplan_napari._state import PlanInputs

pytestmark = pytest.mark.gui

REAL = Path(__file__).resolve().parents[3] / "tests" / "data" / "real_dicom"


def _dock(viewer, name="RGB_IMAGE.dcm"):
    viewer.open(str(REAL / name), plugin=PLUGIN)
    return viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]


def _draw_full_plan(widget):
    widget.set_inputs(
        PlanInputs(
            site="rhomboid",
            bmi=21.0,
            weight_kg=60.0,
            sex="M",
            needle_length_mm=50.0,
            gauge=27,
            lung_disease=True,
            injectate=(("lidocaine", 1.0, 4.0, False),),
        )
    )
    widget.add_structure("pleura", [[18.0, -25.0], [18.5, 0.0], [19.0, 25.0]])
    widget.add_structure("rib", [[16.0, 5.0], [15.5, 12.0]])
    widget.add_structure("skin", [[0.0, -30.0], [0.0, 30.0]])
    widget.add_structure("target", [[7.0, -3.0], [7.0, 3.0], [11.0, 3.0], [11.0, -3.0]])  # ellipse corners
    widget.add_structure("artery", [[12.0, -12.0], [12.0, -8.0], [14.0, -8.0], [14.0, -12.0]])
    widget.add_structure("nerve", [[5.0, 10.0], [6.0, 14.0], [4.0, 15.0]], "polygon")
    widget.set_needle((0.0, -16.0), (9.0, 0.0))


def _layer_snapshot(viewer):
    out = {}
    for layer in viewer.layers:
        meta = getattr(layer, "metadata", {}).get(_layers.META, {})
        if meta.get("role") in ("structure", "needle"):
            out[meta["kind"]] = (list(layer.shape_type), [np.asarray(d) for d in layer.data])
    return out


def test_save_reopen_restores_every_layer_and_the_same_plan(make_napari_viewer_proxy, tmp_path):
    from needleplan.plan import load_plan, plan_to_dict

    viewer = make_napari_viewer_proxy()
    widget = _dock(viewer)
    _draw_full_plan(widget)
    path = tmp_path / "case.plan.json"
    saved = widget.save_plan(path)
    assert saved is not None, widget.status.text()
    on_disk = json.loads(path.read_text())
    assert on_disk["image"]["pixel_sha256"] and on_disk["findings"]  # bound to the frame, findings kept
    before_layers = _layer_snapshot(viewer)
    before_findings = widget.findings_shown()

    viewer2 = make_napari_viewer_proxy()
    widget2 = viewer2.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    assert widget2.open_plan(path) is not None, widget2.status.text()
    after_layers = _layer_snapshot(viewer2)
    assert set(after_layers) == set(before_layers)
    for kind, (types, data) in before_layers.items():
        types2, data2 = after_layers[kind]
        assert types2 == types, kind
        for a, b in zip(data, data2, strict=True):
            np.testing.assert_allclose(b, a, atol=1e-4)  # napari keeps float32 vertices
    assert widget2.findings_shown() == before_findings
    assert widget2.inputs() == widget.inputs()
    # saving again writes the same plan
    path2 = tmp_path / "again.plan.json"
    widget2.save_plan(path2)
    a, b = plan_to_dict(load_plan(path)), plan_to_dict(load_plan(path2))
    for d in (a, b):
        d.pop("findings"), d.pop("metrics")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) or _close(a, b)


def _close(a, b, tol=1e-4):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return abs(float(a) - float(b)) <= tol
    return a == b


def test_plan_on_another_image_is_refused(make_napari_viewer_proxy, tmp_path):
    viewer = make_napari_viewer_proxy()
    widget = _dock(viewer)
    _draw_full_plan(widget)
    path = tmp_path / "case.plan.json"
    widget.save_plan(path)
    d = json.loads(path.read_text())
    d["image"]["pixel_sha256"] = "0" * 64
    path.write_text(json.dumps(d))
    viewer2 = make_napari_viewer_proxy()
    widget2 = viewer2.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    assert widget2.open_plan(path) is None
    assert "not the one the plan was made on" in widget2.status.text()


def test_new_shapes_button_layer_gives_the_same_findings(make_napari_viewer_proxy):
    """A 'pleura' layer made like napari's button (scale copied, no translate) counts the same."""
    viewer = make_napari_viewer_proxy()
    widget = _dock(viewer)
    widget.set_inputs(PlanInputs(site="upper_trapezius", bmi=17.0))
    pleura_mm = np.array([[14.8, -20.0], [15.1, 20.0]])
    widget.add_structure("pleura", pleura_mm)
    widget.set_needle((0.0, -18.0), (12.0, 2.0))
    ours = widget.session.state.report
    viewer.layers.remove(viewer.layers["pleura"])
    image = widget.session.image_layer()
    button = viewer.add_shapes(scale=image.scale, name="pleura")  # no translate: data = world / scale
    button.add_paths(pleura_mm / np.asarray(image.scale))
    theirs = widget.session.state.report
    assert theirs.codes == ours.codes and "PLEURA_MARGIN" in theirs.codes
    assert [f.message for f in theirs.findings] == [f.message for f in ours.findings]


def test_uncalibrated_image_shows_no_mm_and_two_point_calibration(make_napari_viewer_proxy, tmp_path):
    viewer = make_napari_viewer_proxy()
    widget = _dock(viewer, "US1_J2KR.dcm")
    image = widget.session.image_layer()
    assert "UNCALIBRATED" in widget.calibration.calibration_label.text()
    assert not widget.calibration.calibrate_row.isHidden()
    widget.add_structure("pleura", [[200.0, 100.0], [210.0, 500.0]])  # world = pixels here
    widget.set_needle((0.0, 250.0), (150.0, 300.0))
    text = " ".join(widget.findings_shown()) + widget.findings.metrics_label.text()
    assert " mm" not in widget.findings.metrics_label.text()
    assert "UNCALIBRATED" in text
    assert widget.save_plan(tmp_path / "x.plan.json") is None
    assert "calibrat" in widget.status.text()
    # Two ruler ticks 1 cm apart, 80 px apart down the rows: 10 mm / 80 px = 0.125 mm/px
    widget.calibrate((100.0, 20.0), (180.0, 20.0), 10.0)
    cal = widget.session.calibration()
    assert cal.source == "MANUAL" and cal.spacing_mm == pytest.approx((0.125, 0.125))
    assert tuple(image.scale) == pytest.approx((0.125, 0.125))
    assert "mm" in str(image.units[0]) or "meter" in str(image.units[0])
    # the needle keeps its pixels: tip pixel (150, 300) -> (150 * 0.125, 300 * 0.125) = (18.75, 37.5) mm
    entry, tip, _ = _layers.needle_from_layer(widget.session.kind_layer("needle"), image)
    assert tip == pytest.approx((18.75, 37.5), abs=1e-4) and entry == pytest.approx((0.0, 31.25), abs=1e-4)
    assert "Path" in widget.findings.metrics_label.text() and "UNCALIBRATED" not in " ".join(widget.findings_shown())
    assert widget.session.kind_layer("needle").edge_width == pytest.approx([0.35])  # 2 px became 0.35 mm
    assert widget.save_plan(tmp_path / "x.plan.json") is not None


def test_open_then_save_keeps_labels_suggestions_and_unknown_fields(make_napari_viewer_proxy, tmp_path):
    """A plan written elsewhere (a detector's suggestion, labels, fields we do not know) survives."""
    import shutil

    from needleplan.plan import plan_to_dict

    samples = Path(__file__).resolve().parents[3] / "sample_dicom"
    src = samples / "piriformis_average_frame.plan.json"
    shutil.copy(samples / "piriformis_average_frame.dcm", tmp_path / "piriformis_average_frame.dcm")
    d = json.loads(src.read_text())
    d["lab_id"] = "kept-top"
    d["patient"].update(bmi=24.0, weight_kg=70.0, sex="F", lung_disease=False, anticoagulated=False, mrn_hash="ab12")
    d["needle"]["hub_colour"] = "yellow"
    d["image"]["station"] = "US-3"
    d["structures"][0]["label"] = "taut band, medial"
    d["structures"].append(
        {
            "kind": "vein",
            "points_mm": [[30.0, -5.0], [30.0, -2.0], [32.0, -2.0], [32.0, -5.0]],
            "closed": True,
            "suggested": True,
            "confidence": 0.62,
            "evidence": "dark oval, compressible",
            "detector": "vessels-v1",
        }
    )
    d["injectate"][0]["lot"] = "L123" if d.get("injectate") else None
    d.pop("findings", None), d.pop("metrics", None)
    path = tmp_path / "piriformis.plan.json"
    path.write_text(json.dumps(d))

    viewer = make_napari_viewer_proxy()
    widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    assert widget.open_plan(path) is not None, widget.status.text()
    # the suggested vein is drawn but is not a confirmed hazard (the core says so, we do not hide it)
    assert "SUGGESTION_UNCONFIRMED" in widget.session.state.report.codes
    vein = widget.session.kind_layer("vein")
    assert vein.edge_color[-1][3] == pytest.approx(0.4)  # drawn faint: not a confirmed hazard
    assert bool(vein.features["suggested"].iloc[-1]) is True
    out = tmp_path / "again.plan.json"
    assert widget.save_plan(out) is not None, widget.status.text()
    a, b = plan_to_dict(plan_from_file(path)), plan_to_dict(plan_from_file(out))
    for x in (a, b):
        for k in ("findings", "metrics"):
            x.pop(k, None)
        x["image"].pop("path", None), x["image"].pop("pixel_sha256", None)
    assert _close(a, b), json.dumps({"before": a, "after": b})[:3000]


def plan_from_file(p):
    from needleplan.plan import load_plan

    return load_plan(p)


def test_panel_equals_needleplan_check_on_the_saved_plan(make_napari_viewer_proxy, tmp_path, capsys):
    """What the physician sees is what `needleplan check PLAN --image IMAGE --json` says."""
    from needleplan.cli import main

    viewer = make_napari_viewer_proxy()
    widget = _dock(viewer)
    _draw_full_plan(widget)
    path = tmp_path / "case.plan.json"
    assert widget.save_plan(path) is not None
    capsys.readouterr()
    assert main(["check", str(path), "--image", str(REAL / "RGB_IMAGE.dcm"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    label = {"block": "STOP", "warn": "WARNING", "info": "note"}
    from_cli = [f"{label[f['severity']]}: {f['message']} [{f['code']}]" for f in out["findings"]]
    assert sorted(widget.findings_shown()) == sorted(from_cli)
    m = widget.session.state.report.metrics
    for key in ("depth_mm", "path_length_mm", "angle_deg", "max_safe_insertion_mm"):
        assert out["metrics"][key] == pytest.approx(m[key], abs=1e-3), key
    # path length by hand: entry (0, -16) to tip (9, 0): hypot(9, 16) = 18.358 mm
    assert out["metrics"]["path_length_mm"] == pytest.approx(18.358, abs=1e-3)
