"""Detection at the lumbar paraspinal site: laminae (bright cortex with shadow, like a rib) and the
interlaminar window's bright line (the neuraxis), on the phantom whose ground truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from needleplan.calibration import Calibration
from needleplan.detect import detect_frame
from needleplan.synth import generate_case


def _calibration(case) -> Calibration:
    return Calibration(
        source="MANUAL",
        spacing_mm=case.spacing_mm,
        origin_px=case.origin_px,
        region_index=None,
        region_box_px=case.region_box_px,
        reason="phantom",
    )


def _mm(case, det) -> np.ndarray:
    return (np.asarray(det.points_px) - np.asarray(case.origin_px)) * np.asarray(case.spacing_mm)


@pytest.mark.parametrize(
    ("habitus", "model"), [("thin", "smooth"), ("average", "smooth"), ("obese", "smooth"), ("average", "physical")]
)
def test_the_laminae_and_the_window_are_suggested_where_the_truth_has_them(habitus, model):
    if model == "physical":
        pytest.importorskip("pymust")
    case = generate_case("lumbar_paraspinal", habitus, seed=5, model=model)
    result = detect_frame(case.frames[0], _calibration(case), site="lumbar_paraspinal")
    laminae = [d for d in result.detections if d.kind == "bone"]
    windows = [d for d in result.detections if d.kind == "neuraxis"]
    assert len(laminae) == 2 and {d.label for d in laminae} == {"lamina"}
    assert len(windows) == 1
    flavum = next(s for s in case.structures if s["label"].startswith("ligamentum flavum"))
    f = np.asarray(flavum["points_mm"])
    w = _mm(case, windows[0])
    # The suggested line lies in the ligamentum flavum's 3 mm band (with 0.5 mm for the wobble and the
    # block-averaged working grid) and inside the window's columns.
    assert f[:, 0].min() - 0.5 <= np.median(w[:, 0]) <= f[:, 0].max() + 0.5
    assert f[:, 1].min() - 0.5 <= w[:, 1].min() and w[:, 1].max() <= f[:, 1].max() + 0.5
    assert "below the cortex of two laminae" in windows[0].evidence


def test_no_window_is_suggested_at_a_thoracic_site():
    case = generate_case("thoracic_paraspinal", "average", seed=5)
    result = detect_frame(case.frames[0], _calibration(case), site="thoracic_paraspinal")
    assert not [d for d in result.detections if d.kind == "neuraxis"]
    assert not [d for d in result.detections if d.label == "lamina"]
