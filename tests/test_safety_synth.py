"""Every synthetic preset's reference plan gives the findings its anatomy implies.

The phantom (needleplan.synth) knows its anatomy to the millimetre; its reference plan is drawn
the way a physician would (in-plane, needle clear of every marked hazard).  So: no crossing, no
missing mark, no region problem; the pneumothorax class exactly at thoracic presets; an
intercostal target exactly where no rib lies under the target; a thin patient flagged at thin
thoracic presets.
"""

from __future__ import annotations

import json

import pytest

from needleplan.cli import main
from needleplan.clinical import site_profile
from needleplan.plan import load_plan, plan_from_dict
from needleplan.safety import check_plan

synth = pytest.importorskip("needleplan.synth")

PRESETS = [(site, habitus) for site in synth.SITE_PRESETS for habitus in synth.HABITUS]
NEVER = {
    "UNCALIBRATED",
    "CROSS_REGION",
    "TARGET_MISSED",
    "PLEURA_NOT_MARKED",
    "PLEURA_UNMEASURED",
    "NERVE_NOT_MARKED",
    "VISCERA_NOT_MARKED",
    "VESSEL_CROSSED",
    "NERVE_CROSSED",
    "VISCERA_CROSSED",
    "PLEURA_MARGIN",
    "RIB_IN_PATH",
    "SUGGESTION_UNCONFIRMED",
}
#: Presets whose target lies over an intercostal space or the lung apex with no rib below it.
NO_RIB_BELOW = {"upper_trapezius", "rhomboid_intercostal"}


@pytest.mark.parametrize("site, habitus", PRESETS, ids=[f"{s}-{h}" for s, h in PRESETS])
def test_reference_plan_findings_follow_the_anatomy(site, habitus):
    _assert_findings_follow_the_anatomy(synth.generate_case(site, habitus), site, habitus)


@pytest.mark.parametrize("site, habitus", PRESETS, ids=[f"{s}-{h}" for s, h in PRESETS])
def test_reference_plan_still_follows_a_pressed_bowed_anatomy(site, habitus):
    """With the probe pressed in, the fasciae arched and B-lines, the reference plan (made from the
    changed anatomy) still crosses nothing and keeps every class of finding its site implies."""
    variation = synth.Variation(pressure=0.4, fascia_bow_mm=5.0, b_lines=3)
    _assert_findings_follow_the_anatomy(synth.generate_case(site, habitus, variation=variation), site, habitus)


def _assert_findings_follow_the_anatomy(case, site, habitus):
    plan = plan_from_dict(case.plan)
    report = check_plan(plan)
    codes = report.codes
    assert not codes & NEVER, [f.message for f in report.findings if f.code in NEVER]
    thoracic = site_profile(plan.site).pneumothorax_class
    assert ("PNEUMOTHORAX_SITE" in codes) == thoracic
    if thoracic:
        assert ("INTERCOSTAL_TARGET" in codes) == (site in NO_RIB_BELOW)
        if habitus == "thin":
            assert "THIN_PATIENT" in codes
    if site == "rhomboid_rib":  # the rib is the backstop: the needle cannot reach the pleura
        assert not codes & {"PLEURA_OVERSHOOT", "NEEDLE_REACHES_PLEURA"}
    if site in ("piriformis", "gluteus_medius"):
        assert "DOPPLER_ADVISED" not in codes  # the artery is marked
    m = report.metrics
    assert m["calibrated"] and m["depth_mm"] > 0 and m["max_safe_insertion_mm"] > 0
    # the planned tip is inside the safe insertion unless the needle length is what limits it
    assert m["remaining_insertion_mm"] >= 0 or m["max_safe_insertion_limited_by"] == "needle_length"


@pytest.mark.parametrize("site", ["rhomboid_intercostal", "piriformis"])
def test_truth_plan_agrees_on_crossings(site):
    case = synth.generate_case(site, "average")
    truth = check_plan(plan_from_dict(case.plan_dict(truth=True)))
    assert not truth.codes & {"VESSEL_CROSSED", "NERVE_CROSSED", "VISCERA_CROSSED", "CROSS_REGION"}


def test_written_case_checks_with_its_image(tmp_path, capsys):
    case = synth.generate_case("rhomboid_intercostal", "thin")
    written = synth.write_case(case, tmp_path / "case.dcm")
    code = main(["check", str(written.plan_path), "--image", str(written.dicom_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["image"]["binding_mismatches"] == []
    codes = {f["code"] for f in out["findings"]}
    assert "INTERCOSTAL_TARGET" in codes and "CROSS_REGION" not in codes
    assert out["findings"] == check_plan(load_plan(written.plan_path)).to_dict()["findings"]
