"""The library commands: library add/export/outcome/verify, review, review show, history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needleplan.cli import main
from needleplan.library import Library
from needleplan.synth import generate_case, write_case


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEEDLEPLAN_LIBRARY", str(tmp_path / "lib"))
    monkeypatch.setenv("NEEDLEPLAN_USER", "Dr Ada")
    return tmp_path


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("case")
    return write_case(generate_case("rhomboid_rib", "thin", seed=5), folder / "rh.dcm")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_review_approve_history_round(env, case, capsys):
    code, out, _ = run(capsys, "library", "add", str(case.plan_path), "--image", str(case.dicom_path))
    assert code == 0 and out.startswith("plan 1 revision 1 saved (draft)")
    code, out, _ = run(capsys, "review")
    header, rule, row = out.splitlines()[:3]
    assert header.split() == ["id", "date", "site", "author", "status", "worst", "finding"]
    assert row.split()[:3] == ["1", "2025-01-06", "rhomboid"] and "draft" in row
    assert run(capsys, "review", "submit", "1")[0] == 0
    code, out, _ = run(capsys, "review", "approve", "1", "--comment", "rib under the tip", "--reviewer", "Dr Bo")
    assert code == 0 and "approved (Dr Bo)" in out
    code, out, _ = run(capsys, "review", "--status", "approved", "--json")
    data = json.loads(out)
    assert data["count"] == 1 and data["plans"][0]["reviewer"] == "Dr Bo"
    assert json.loads(run(capsys, "review", "--status", "draft", "--json")[1])["count"] == 0
    code, out, _ = run(capsys, "history", "1")
    assert "submitted -> approved: rib under the tip" in out and "Dr Bo" in out
    events = json.loads(run(capsys, "history", "1", "--json")[1])["events"]
    assert [e["kind"] for e in events] == ["revision", "status", "status"]


def test_review_show_puts_saved_and_current_findings_side_by_side(env, case, capsys, tmp_path):
    d = json.loads(case.plan_path.read_text())
    # a plan saved under older rules: one finding worded and graded differently, one gone since
    d["findings"] = [
        {"code": "THIN_PATIENT", "severity": "info", "message": "old wording", "values": {}},
        {"code": "RETIRED_RULE", "severity": "warn", "message": "no longer given", "values": {}},
    ]
    old = tmp_path / "old.plan.json"
    old.write_text(json.dumps(d))
    assert run(capsys, "library", "add", str(old))[0] == 0
    code, out, _ = run(capsys, "review", "show", "1")
    assert code == 0
    assert "saved when the plan was written" in out and "current rules" in out
    assert "* RETIRED_RULE" in out and "WARN: no longer given" in out
    assert "* THIN_PATIENT" in out and "INFO: old wording" in out
    shown = json.loads(run(capsys, "review", "show", "1", "--json")[1])
    changes = {r["code"]: r["change"] for r in shown["recheck"]["findings"]}
    assert changes["RETIRED_RULE"] == "removed" and changes["THIN_PATIENT"] == "changed"
    assert shown["recheck"]["changed"] is True
    # the saved findings are kept as they were, never replaced
    with Library(env / "lib") as lib:
        assert [f["code"] for f in lib.load(1)["findings"]] == ["THIN_PATIENT", "RETIRED_RULE"]


def test_plan_without_findings_is_checked_when_added(env, case, capsys, tmp_path):
    d = json.loads(case.plan_path.read_text())
    d.pop("findings", None)
    d["structures"] = [s for s in d["structures"] if s["kind"] not in ("pleura", "rib")]
    bare = tmp_path / "bare.plan.json"
    bare.write_text(json.dumps(d))
    code, out, _ = run(capsys, "library", "add", str(bare))
    # rhomboid is thoracic: neither pleura nor rib marked -> PLEURA_NOT_MARKED blocks
    assert code == 0 and "worst finding: block PLEURA_NOT_MARKED" in out
    code, out, _ = run(capsys, "review", "--code", "PLEURA_NOT_MARKED")
    assert "BLOCK PLEURA_NOT_MARKED" in out


def test_export_edit_and_add_back_is_a_revision_checked_for_conflicts(env, case, capsys, tmp_path):
    run(capsys, "library", "add", str(case.plan_path))
    mine, theirs = tmp_path / "mine.json", tmp_path / "theirs.json"
    assert run(capsys, "library", "export", "1", "-o", str(mine))[0] == 0
    run(capsys, "library", "export", "1", "-o", str(theirs))
    for path, note in ((mine, "mine"), (theirs, "theirs")):
        d = json.loads(path.read_text())
        d["notes"] = note
        path.write_text(json.dumps(d))
    code, out, _ = run(capsys, "library", "add", str(mine))
    assert code == 0 and "plan 1 revision 2 saved" in out
    code, _, err = run(capsys, "library", "add", str(theirs))
    assert code == 2 and "not saved over it" in err
    with Library(env / "lib") as lib:
        assert lib.load(1, 2)["notes"] == "mine" and lib.record(1)["revision"] == 2
    code, out, _ = run(capsys, "library", "add", str(theirs), "--as-new")
    assert "plan 2 revision 1" in out


def test_approved_plan_change_needs_new_draft(env, case, capsys, tmp_path):
    run(capsys, "library", "add", str(case.plan_path))
    run(capsys, "review", "submit", "1")
    run(capsys, "review", "approve", "1", "--reviewer", "Dr Bo")
    edited = tmp_path / "e.json"
    run(capsys, "library", "export", "1", "-o", str(edited))
    code, _, err = run(capsys, "library", "add", str(edited))
    assert code == 2 and "approved and read-only" in err and "--new-draft 1" in err
    code, out, _ = run(capsys, "library", "add", str(edited), "--new-draft", "1")
    assert code == 0 and "revision 2 saved (draft)" in out


def test_outcome_then_new_plan_for_same_patient_and_site(env, case, capsys, tmp_path):
    d = json.loads(case.plan_path.read_text())
    d["patient"]["id"] = "MRN-55"
    p = tmp_path / "p.json"
    p.write_text(json.dumps(d))
    run(capsys, "library", "add", str(p))
    code, out, _ = run(
        capsys, "library", "outcome", "1", "--pain-before", "7", "--pain-after", "6", "--relief-days", "1"
    )
    # (7 - 6) / 7 = 14 % relief: poor
    assert code == 0 and "14% relief" in out and "poor" in out
    assert run(capsys, "library", "outcome", "1", "--pain-after", "12")[0] == 2
    run(capsys, "library", "add", str(p))
    code, out, _ = run(capsys, "review", "show", "2")
    assert "INFO PRIOR_POOR_OUTCOME" in out and "plan 1" in out


def test_verify_reports_and_repairs_a_hand_edited_library(env, case, capsys):
    run(capsys, "library", "add", str(case.plan_path))
    assert run(capsys, "library", "verify")[1].strip() == "library consistent"
    with Library(env / "lib") as lib:
        lib.conn.execute("DELETE FROM events WHERE plan_id=1")  # an index that lost rows
    code, out, _ = run(capsys, "library", "verify")
    assert code == 1 and "on disk but not in the index" in out
    code, out, _ = run(capsys, "library", "verify", "--repair")
    assert code == 0 and out.strip().endswith("library consistent")


def test_review_of_unknown_id_and_bad_status_exit_cleanly(env, case, capsys):
    run(capsys, "library", "add", str(case.plan_path))
    code, _, err = run(capsys, "review", "show", "9")
    assert code == 2 and "no plan with id 9" in err
    with pytest.raises(SystemExit):
        main(["review", "--status", "finished"])


def test_library_option_wins_over_the_environment(env, case, capsys, tmp_path):
    other = tmp_path / "other"
    run(capsys, "library", "add", str(case.plan_path), "--library", str(other))
    assert json.loads(run(capsys, "review", "--library", str(other), "--json")[1])["count"] == 1
    assert not Path(env / "lib").exists()


def test_a_plan_exported_from_another_library_is_added_as_a_new_plan(env, case, capsys, tmp_path):
    other = tmp_path / "other"
    run(capsys, "library", "add", str(case.plan_path), "--library", str(other))
    exported = tmp_path / "from_other.json"
    run(capsys, "library", "export", "1", "-o", str(exported), "--library", str(other))
    run(capsys, "library", "add", str(case.plan_path))  # this library's own plan 1
    code, out, _ = run(capsys, "library", "add", str(exported))
    assert code == 0 and out.startswith("plan 2 revision 1")  # not saved over plan 1
    with Library(env / "lib") as lib:
        assert lib.record(1)["revision"] == 1
