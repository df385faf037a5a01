"""The thresholds table: every number has a unit and a docs/clinical-rules.md source; overrides work."""

from __future__ import annotations

import re

import pytest

from needleplan.clinical import SITE_PROFILES, STRICT_FORMULARY, THRESHOLDS, resolve_thresholds, threshold_source
from needleplan.errors import NeedleplanError
from needleplan.safety import Finding, SafetyReport

SOURCE = re.compile(r"\b(R\d{1,2}|1[A-I])\b|\[inference\]")


@pytest.mark.parametrize("key", sorted(THRESHOLDS))
def test_every_threshold_cites_a_row(key):
    t = THRESHOLDS[key]
    assert t.unit and SOURCE.search(t.source), (key, t.source)


def test_site_overrides_cite_rows_and_name_real_thresholds():
    for site in SITE_PROFILES.values():
        for key, (value, source) in site.threshold_overrides.items():
            assert key in THRESHOLDS and SOURCE.search(source) and value > 0
    assert resolve_thresholds("upper_trapezius")["THIN_SPD_MM"] == 15.0
    assert "Chen 2018" in threshold_source("THIN_SPD_MM", "upper_trapezius")
    assert resolve_thresholds("rhomboid")["THIN_SPD_MM"] == 30.0
    assert resolve_thresholds("piriformis")["THIN_SPD_MM"] == THRESHOLDS["THIN_SPD_MM"].value


def test_strict_formulary_and_unknown_override():
    assert resolve_thresholds("other", strict_formulary=True)["DOSE_LIDOCAINE_PLAIN_MAX_MG"] == 200.0
    assert all(SOURCE.search(src) for _v, src in STRICT_FORMULARY.values())
    with pytest.raises(NeedleplanError, match="unknown threshold"):
        resolve_thresholds("other", {"PLEURA_MARGIN": 3})


def test_report_values():
    r = SafetyReport(
        (
            Finding(code="A", severity="info", message="m"),
            Finding(code="B", severity="block", message="n", values={"x": 1}),
        ),
        {"depth_mm": 1.0},
    )
    assert r.worst_severity == "block" and r.codes == {"A", "B"}
    assert r.to_dict()["findings"][1] == {"code": "B", "severity": "block", "message": "n", "values": {"x": 1}}
    assert SafetyReport(()).worst_severity is None
    with pytest.raises(ValueError):
        Finding(code="C", severity="fatal", message="m")
