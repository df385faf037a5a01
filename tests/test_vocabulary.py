"""The core's vocabulary: each list of words defined once, and the tables that use it agree with it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from needleplan.clinical import FAMILY_MARGINS, HAZARD_FAMILIES, SITE_PROFILES, THRESHOLDS, resolve_thresholds
from needleplan.errors import PlanFormatError
from needleplan.plan import plan_from_dict
from needleplan.vocabulary import (
    NEEDLE_PRESETS_MM,
    STANDARD_NEEDLE_LENGTHS_MM,
    CalibrationSource,
    Drug,
    Severity,
    SiteId,
    StructureKind,
    drug_of,
    severity_rank,
)
from tests.scenarios.plans import lido, plan

SRC = Path(__file__).resolve().parents[1] / "src" / "needleplan"

WORD_LISTS = {
    "site ids": {s.value for s in SiteId},
    "structure kinds": {k.value for k in StructureKind},
    "drugs": {d.value for d in Drug},
    "severities": {s.value for s in Severity},
    "calibration sources": {c.value for c in CalibrationSource},
}


def test_site_profiles_are_exactly_the_site_ids() -> None:
    assert set(SITE_PROFILES) == set(SiteId)
    assert all(profile.id == sid for sid, profile in SITE_PROFILES.items())


def test_hazard_kinds_and_expected_hazards_are_structure_kinds() -> None:
    kinds = set(StructureKind)
    assert set(HAZARD_FAMILIES) <= kinds
    assert all(set(p.expected_hazards) <= kinds for p in SITE_PROFILES.values())


def test_every_hazard_family_has_its_margin_thresholds() -> None:
    assert set(FAMILY_MARGINS) == set(HAZARD_FAMILIES.values())
    for keys in FAMILY_MARGINS.values():
        assert keys.same_frame in THRESHOLDS and (keys.other_frame is None or keys.other_frame in THRESHOLDS)
    # R3: 5 mm as marked, 10 mm on another frame
    assert THRESHOLDS[FAMILY_MARGINS["pleura"].same_frame].value == 5.0
    assert THRESHOLDS[FAMILY_MARGINS["pleura"].other_frame].value == 10.0


def test_every_drug_has_its_four_dose_thresholds() -> None:
    for drug in Drug:
        for form in ("PLAIN", "EPI"):
            assert f"DOSE_{drug.name}_{form}_MG_PER_KG" in THRESHOLDS
            assert f"DOSE_{drug.name}_{form}_MAX_MG" in THRESHOLDS


def test_drug_names_and_synonyms() -> None:
    assert drug_of("lignocaine") is Drug.LIDOCAINE and drug_of("naropin") is Drug.ROPIVACAINE
    assert drug_of("aspirin") is None


def test_a_synonym_is_dosed_as_its_drug() -> None:
    from needleplan.safety import check_plan

    th = resolve_thresholds("other")
    # 10 mL of 1% lignocaine = 100 mg; no weight: plain lidocaine cap 300 mg -> 33% of the maximum
    report = check_plan(plan_from_dict(plan(injectate=[lido(10.0, drug="lignocaine")])))
    (f,) = report.by_code("DOSE_WEIGHT_UNKNOWN")
    assert f.values["drugs"][0]["drug"] == "lidocaine"
    assert f.values["drugs"][0]["limit_mg"] == th["DOSE_LIDOCAINE_PLAIN_MAX_MG"] == 300.0
    assert f.values["fraction_of_max"] == pytest.approx(100 / 300, abs=1e-3)  # reported to 0.001


def test_needle_presets_are_standard_lengths_in_order() -> None:
    assert NEEDLE_PRESETS_MM == (25.0, 38.0, 50.0, 89.0)  # 1, 1.5, 2, 3.5 inch
    assert set(NEEDLE_PRESETS_MM) <= set(STANDARD_NEEDLE_LENGTHS_MM)
    assert list(STANDARD_NEEDLE_LENGTHS_MM) == sorted(STANDARD_NEEDLE_LENGTHS_MM)


def test_severity_order_is_worst_first() -> None:
    assert [severity_rank(s) for s in ("block", "warn", "info", "fatal")] == [0, 1, 2, 3]


def test_plan_validation_accepts_exactly_the_structure_kinds() -> None:
    for kind in StructureKind:
        plan_from_dict(plan(structures=[{"kind": kind.value, "points_mm": [[1, 1], [2, 2]], "closed": False}]))
    with pytest.raises(PlanFormatError, match="kind"):
        plan_from_dict(plan(structures=[{"kind": "kidney", "points_mm": [[1, 1], [2, 2]], "closed": False}]))


def _literal_word_collections() -> list[tuple[str, set[str]]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                words = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                if len(words) >= 3:
                    out.append((f"{path.relative_to(SRC)}:{node.lineno}", words))
    return out


@pytest.mark.parametrize("name", sorted(WORD_LISTS))
def test_no_second_copy_of_a_word_list(name: str) -> None:
    # A tuple/list/set literal holding most of one vocabulary's words (at least three, and at least
    # half) is a second copy of it; a short subset with a meaning of its own ("vessel kinds") is not.
    vocab = WORD_LISTS[name]
    least = max(3, (len(vocab) + 1) // 2)
    copies = [where for where, words in _literal_word_collections() if len(words & vocab) >= least]
    assert copies == [], f"{name} listed again at {copies}; import them from needleplan.vocabulary"
