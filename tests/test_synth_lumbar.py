"""The lumbar paraspinal phantom (issue 18): layers, laminae and the interlaminar window, its ground
truth and a reference plan aimed at a knot over a lamina that the neuraxis rules accept."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from needleplan.synth import generate_case

NEURAXIS_CODES = {"NEURAXIS_MARGIN", "NEURAXIS_OVERSHOOT", "NEURAXIS_NOT_MARKED"}


@pytest.fixture(scope="module")
def cases():
    return {h: generate_case("lumbar_paraspinal", h, seed=3) for h in ("thin", "average", "obese")}


def _by_label(structures, start):
    return [s for s in structures if s["label"].startswith(start)]


def _top(s) -> float:
    return float(np.asarray(s["points_mm"])[:, 0].min())


def test_the_layers_and_the_window_are_in_the_truth(cases):
    truth = cases["average"].structures
    labels = " | ".join(s["label"] for s in truth)
    for word in (
        "subcutaneous fat",
        "thoracolumbar fascia / erector spinae",
        "multifidus",
        "lamina (caudal)",
        "lamina (cranial)",
        "ligamentum flavum",
        "dura",
    ):
        assert word in labels
    # Average habitus: epidural space 45 mm (1D Lee & Kim), lamina tops 45 - 6 = 39 mm, the ligamentum
    # flavum's top 45 - 3 = 42 mm (1.5 mm half-thickness either side of 43.5) (row 0 = skin at the centre).
    laminae = [s for s in truth if s["kind"] == "bone"]
    # (the cranial lamina runs off the image's left edge, where its rounded corner is cut: 0.2 mm)
    assert [_top(s) for s in laminae] == pytest.approx([39.0, 39.0], abs=0.2)
    flavum = _by_label(truth, "ligamentum flavum")[0]
    assert flavum["kind"] == "neuraxis" and _top(flavum) == pytest.approx(42.0, abs=0.05)
    # The window lies between the two laminae: the flavum's columns are inside the gap.
    cols = [np.asarray(s["points_mm"])[:, 1] for s in laminae]
    fc = np.asarray(flavum["points_mm"])[:, 1]
    gap = (min(c.max() for c in cols), max(c.min() for c in cols))
    assert gap[0] - 0.05 <= fc.min() and fc.max() <= gap[1] + 0.05


def test_depths_follow_the_habitus(cases):
    tops = [_top(_by_label(cases[h].structures, "ligamentum flavum")[0]) for h in ("thin", "average", "obese")]
    # 37 / 45 / 56 mm epidural depth, flavum top 3 mm above: 34, 42, 53.
    assert tops == pytest.approx([34.0, 42.0, 53.0], abs=0.05)


def test_the_reference_plan_ends_over_a_lamina_and_raises_no_neuraxis_finding(cases):
    for habitus, case in cases.items():
        plan = case.to_plan()
        report = check_plan(plan)
        assert plan.site == "lumbar_paraspinal"
        assert not NEURAXIS_CODES & set(report.codes), (habitus, report.codes)
        assert report.metrics["overshoot_first_hit"] in ("bone", None), habitus
        assert {s.kind for s in plan.structures} >= {"bone", "neuraxis", "target", "skin"}


def test_the_same_knot_reached_over_the_window_is_warned(cases):
    # Move the needle so it comes down vertically through the window's centre to the knot's depth:
    # the extension then reaches the flavum with no lamina in between.
    case = cases["thin"]
    plan = case.to_plan()
    flavum = _by_label(case.structures, "ligamentum flavum")[0]
    col = float(np.asarray(flavum["points_mm"])[:, 1].mean())
    depth = plan.needle.target_mm[0]
    needle = dataclasses.replace(plan.needle, entry_mm=(0.0, col), target_mm=(depth, col), length_mm=50.0)
    report = check_plan(
        dataclasses.replace(plan, needle=needle, structures=tuple(s for s in plan.structures if s.kind != "target"))
    )
    f = report.by_code("NEURAXIS_OVERSHOOT")[0]
    # Thin: flavum top at 34 mm, knot at 25.25 mm depth: 8.75 mm past the tip (the skin over the
    # window is within a wobble of row 0, so the tolerance is 0.3 mm); unused 50 - 25.25.
    assert f.values["neuraxis_beyond_tip_mm"] == pytest.approx(34.0 - depth, abs=0.3)
    assert f.values["unused_length_mm"] == pytest.approx(50.0 - depth, abs=0.3)


def test_the_cli_writes_a_lumbar_case(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "lumbar.dcm"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "needleplan",
            "synth",
            "--site",
            "lumbar_paraspinal",
            "--habitus",
            "obese",
            "--seed",
            "1",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    plan = plan_from_dict(__import__("json").loads((tmp_path / "lumbar.plan.json").read_text()))
    assert plan.needle.length_mm == 89.0  # the 50 mm needle cannot reach a knot 44 mm deep at this angle


def test_the_physical_model_draws_the_same_lumbar_case_with_its_shadows():
    pytest.importorskip("pymust")
    smooth = generate_case("lumbar_paraspinal", "average", seed=3)
    physical = generate_case("lumbar_paraspinal", "average", seed=3, model="physical")
    assert physical.structures == smooth.structures and physical.needle == smooth.needle
    frame = physical.frames[0].astype(np.float64)
    s, (o_r, o_c) = physical.spacing_mm[0], physical.origin_px
    # Under the caudal lamina (cortex 39 mm, 4 mm thick, centred near col -1.6 mm) from 45 mm down:
    # an acoustic shadow; in the window (cols 8-18 mm) the ligamentum flavum (42-45 mm) is brighter
    # than the multifidus 5-10 mm above the laminae.
    shadow = frame[int(45 / s + o_r) : physical.region_box_px[2], int(-4 / s + o_c) : int(2 / s + o_c)]
    flavum = frame[int(42 / s + o_r) : int(45 / s + o_r), int(10 / s + o_c) : int(16 / s + o_c)]
    muscle = frame[int(29 / s + o_r) : int(34 / s + o_r), int(10 / s + o_c) : int(16 / s + o_c)]
    assert shadow.mean() < 0.25 * muscle.mean()
    assert flavum.mean() > 1.5 * muscle.mean()
