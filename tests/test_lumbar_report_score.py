"""A lumbar paraspinal plan is reported and scored like the other sites (issue 18)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from needleplan.io import open_image
from needleplan.plan import load_plan
from needleplan.report import write_report
from needleplan.training import score_plans

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicom" / "lumbar_paraspinal_average_frame"


@pytest.fixture(scope="module")
def lumbar():
    """The bundled lumbar sample's reference plan."""
    return load_plan(SAMPLE.with_suffix(".plan.json"))


def _over_the_window(plan):
    """The same knot depth reached vertically through the window's centre with a 50 mm needle."""
    flavum = next(s for s in plan.structures if s.kind == "neuraxis" and "flavum" in (s.label or ""))
    col = float(np.asarray(flavum.points_mm)[:, 1].mean())
    depth = plan.needle.target_mm[0]
    needle = dataclasses.replace(plan.needle, entry_mm=(0.0, col), target_mm=(depth, col), length_mm=50.0)
    return dataclasses.replace(plan, needle=needle)


def test_the_report_names_the_neuraxis_and_its_warning(lumbar, tmp_path):
    out = tmp_path / "lumbar.html"
    frame = open_image(SAMPLE.with_suffix(".dcm")).frame(0)
    pages = write_report(_over_the_window(lumbar), out, frame=frame)
    assert pages >= 1
    html = out.read_text(encoding="utf-8")
    assert "NEURAXIS_OVERSHOOT" in html
    assert "between the laminae" in html
    assert "Needle plan: lumbar paraspinals (erector spinae / multifidus)" in html
    assert "collapsed lung" not in html  # the thoracic after-care warning (R19) is not for this site


def test_scoring_a_resident_who_missed_the_window(lumbar):
    # The resident aims through the window and does not mark the neuraxis: the expert's two neuraxis
    # marks are missed and the overshoot into the neuraxis is a finding the expert's plan lacks.
    attempt = _over_the_window(lumbar)
    attempt = dataclasses.replace(attempt, structures=tuple(s for s in attempt.structures if s.kind != "neuraxis"))
    score = score_plans(attempt, lumbar)
    assert not score.passed
    missed = [h for h in score.hazards if h.kind == "neuraxis"]
    assert [h.status for h in missed] == ["missed", "missed"]
    assert any("neuraxis" in r for r in score.reasons)
    # The expert's own plan scores a pass against itself, with both neuraxis marks found.
    same = score_plans(lumbar, lumbar)
    assert same.passed
    assert [h.status for h in same.hazards if h.kind == "neuraxis"] == ["found", "found"]


def test_the_neuraxis_marks_survive_a_dicom_sr_round_trip(lumbar):
    import pydicom

    from needleplan.sr import plan_to_sr, sr_to_plan

    back = sr_to_plan(plan_to_sr(lumbar, pydicom.dcmread(SAMPLE.with_suffix(".dcm"), stop_before_pixels=True)))
    kinds = [s.kind for s in back.structures]
    assert kinds.count("neuraxis") == 2
    assert back.site == "lumbar_paraspinal"
    original = next(s for s in lumbar.structures if s.kind == "neuraxis")
    returned = next(s for s in back.structures if s.kind == "neuraxis")
    # the SR stores image pixel centres: the points come back to within a hundredth of a millimetre
    assert np.allclose(np.asarray(returned.points_mm), np.asarray(original.points_mm), atol=0.01)
