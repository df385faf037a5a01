"""Finding codes and the rule registry: one enumeration, its generated document, self-registering families."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import FindingCode, check_plan, registry
from needleplan.safety.codes import finding_codes_markdown
from needleplan.vocabulary import Severity
from tests.scenarios.plans import box, plan, pleura
from tests.test_safety_scenarios import CASES

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "needleplan"
CODES_FILE = SRC / "safety" / "codes.py"


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """Docstrings (their examples may name codes) and ``__all__`` entries (names, not codes)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            out.update(id(n) for n in ast.walk(node.value))
    return out


def _code_literals() -> dict[str, list[str]]:
    """Every string constant of the source (docstrings and their examples left out) that is a code."""
    words = {c.value for c in FindingCode}
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                if node.value in words:
                    found.setdefault(node.value, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_the_document_is_the_registry() -> None:
    doc = (ROOT / "docs" / "finding-codes.md").read_text(encoding="utf-8")
    assert doc == finding_codes_markdown(), "regenerate: python scripts/make_finding_codes_doc.py"


def test_the_document_lists_every_code_once() -> None:
    rows = [line for line in finding_codes_markdown().splitlines() if line.startswith("| `")]
    # 43 codes of issues 2-9, four IMPLAUSIBLE_* of issue 17, three NEURAXIS_* of issue 18
    assert len(rows) == len(FindingCode) == 50
    assert "| `PLEURA_MARGIN` | block/warn | R3 |" in finding_codes_markdown()
    assert "| `VESSEL_CROSSED` | block/warn | R10 |" in finding_codes_markdown()


def test_every_code_is_written_once_in_the_source() -> None:
    found = _code_literals()
    assert set(found) == {c.value for c in FindingCode}
    for code, places in found.items():
        assert places == [p for p in places if p.startswith("safety/codes.py")] and len(places) == 1, (code, places)


def test_codes_are_str_members_so_json_is_unchanged() -> None:
    import json

    assert FindingCode.VESSEL_CROSSED == "VESSEL_CROSSED"
    assert json.dumps({"code": FindingCode.VESSEL_CROSSED}) == '{"code": "VESSEL_CROSSED"}'
    assert all(c.rows and c.when and c.severities for c in FindingCode)
    assert all(isinstance(s, Severity) for c in FindingCode for s in c.severities)


def test_every_code_has_a_rule_and_every_rule_code_is_a_member() -> None:
    declared = {c for r in registry.RULES for c in r.codes}
    assert all(isinstance(c, FindingCode) for c in declared)
    # UNCALIBRATED is the engine's own finding (it lists what the rules could not check);
    # PRIOR_POOR_OUTCOME is added by the plan library.
    assert set(FindingCode) - declared == {FindingCode.UNCALIBRATED, FindingCode.PRIOR_POOR_OUTCOME}


def test_a_code_given_as_a_plain_string_is_refused() -> None:
    with pytest.raises(TypeError, match="FindingCode members"):
        registry.rule("typo", codes=("PLEURA_MARGN",), rows=("R3",))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_findings_have_a_severity_their_code_allows(case) -> None:
    for f in check_plan(plan_from_dict(case.plan)).findings:
        assert f.severity in FindingCode(f.code).severities, (f.code, f.severity)


def test_families_are_ordered_by_the_registry() -> None:
    ordered = [r.family.rsplit(".", 1)[-1] for r in registry.rules_in_order()]
    families = list(dict.fromkeys(ordered))
    # implausible plans first (issue 17: a plan that describes no procedure says so before anything else)
    assert families[:8] == [
        "rules_plausibility",
        "rules_regions",
        "rules_pleura",
        "rules_neuraxis",
        "rules_structures",
        "rules_needle",
        "rules_patient",
        "rules_dose",
    ]
    # Every rule module found on disk registered its family.
    on_disk = {p.stem for p in (SRC / "safety").glob("rules_*.py")}
    assert {f.rsplit(".", 1)[-1] for f in registry.FAMILIES} == on_disk


def test_a_new_family_registers_itself_from_its_one_file(tmp_path, monkeypatch) -> None:
    # A family module is the only file a new family needs: dropped into a package, it is found,
    # imported, and its rules take the place its order gives them.
    pkg = tmp_path / "extra_rules_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "rules_demo.py").write_text(
        textwrap.dedent("""
        from needleplan.safety.codes import FindingCode
        from needleplan.safety.registry import rule, rule_family
        from needleplan.safety.report import Finding

        rule_family(__name__, order=15, title="demo")

        @rule("demo", codes=(FindingCode.TARGET_NOT_MARKED,), rows=("R1",))
        def demo(ctx):
            yield Finding(code=FindingCode.TARGET_NOT_MARKED, severity="info", message="demo")
    """)
    )
    (pkg / "not_a_family.py").write_text("raise RuntimeError('must not be imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = list(registry.RULES)
    try:
        assert registry.load_rule_families("extra_rules_pkg") == ("extra_rules_pkg.rules_demo",)
        families = list(dict.fromkeys(r.family for r in registry.rules_in_order()))
        # order 15: after the regions (10), before the pleura (20)
        assert families.index("extra_rules_pkg.rules_demo") == families.index("needleplan.safety.rules_regions") + 1
    finally:
        registry.RULES[:] = before
        registry.FAMILIES.pop("extra_rules_pkg.rules_demo", None)
        for name in ("extra_rules_pkg.rules_demo", "extra_rules_pkg"):
            sys.modules.pop(name, None)
    assert "extra_rules_pkg.rules_demo" not in {r.family for r in registry.RULES}


# --- the margins a check applied (what a viewer must draw) ---------------------------------------


def _margins(p: dict) -> dict[int, tuple[str, float, str, bool]]:
    report = check_plan(plan_from_dict(p))
    return {m.structure_index: (m.family, m.margin_mm, m.threshold, m.other_frame) for m in report.applied_margins}


def test_applied_margin_is_5_mm_for_a_pleura_on_this_frame() -> None:
    p = plan("upper_trapezius", structures=[box("target", 10, -2, 13, 2), pleura(14)], entry=(0, 0), tip=(12, 0))
    # structure 0 is the target (no margin); structure 1 the pleura: PLEURA_MARGIN_MM = 5 mm
    assert _margins(p) == {1: ("pleura", 5.0, "PLEURA_MARGIN_MM", False)}


def test_applied_margin_is_10_mm_for_a_pleura_marked_on_another_frame() -> None:
    other = {**pleura(14), "frame_index": 3}
    p = plan("upper_trapezius", structures=[box("target", 10, -2, 13, 2), other], entry=(0, 0), tip=(12, 0))
    # marked on frame 3, planned on frame 0: PLEURA_MARGIN_OTHER_FRAME_MM = 10 mm (R3), not 5
    assert _margins(p) == {1: ("pleura", 10.0, "PLEURA_MARGIN_OTHER_FRAME_MM", True)}
    report = check_plan(plan_from_dict(p))
    # the rule used the same number: tip 2 mm above the pleura, margin 10 mm
    assert report.by_code("PLEURA_MARGIN")[0].values["margin_mm"] == 10.0
    assert report.margin_for(1).margin_mm == 10.0 and report.margin_for(0) is None


def test_applied_margin_of_a_vessel_and_none_uncalibrated() -> None:
    artery = box("artery", 5, 5, 7, 7)
    p = plan("gluteus_maximus", structures=[artery], entry=(0, 0), tip=(12, 0))
    assert _margins(p) == {0: ("vessel", 5.0, "VESSEL_MARGIN_MM", False)}  # VESSEL_MARGIN_MM = 5 mm (R10)
    uncal = {**p, "calibration": {"source": "NONE", "origin_px": [0, 0]}}
    assert _margins(uncal) == {}  # nothing is checked in mm without a calibration
