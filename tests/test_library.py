"""The plan library: revisions kept, optimistic revision check, review workflow, outcomes."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needleplan.errors import ImageBindingError, LibraryError, ReadOnlyPlanError, RevisionConflictError
from needleplan.library import PRIOR_POOR_OUTCOME, Library, Outcome, verify
from needleplan.plan import plan_from_dict


def make_plan(**overrides) -> dict:
    """A valid plan dict carrying its findings (so no safety engine is needed to add it)."""
    plan = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {
            "path": "case.dcm",
            "sop_instance_uid": "1.2.826.0.1.3680043.8.498.1",
            "frame_index": 0,
            "pixel_sha256": "a" * 64,
        },
        "calibration": {"source": "US_REGION", "spacing_mm": [0.2, 0.2], "origin_px": [36.0, 340.0], "region_index": 0},
        "site": "rhomboid",
        "approach": "in_plane",
        "patient": {"bmi": 21.0, "id": "P-001"},
        "structures": [{"kind": "pleura", "points_mm": [[14.8, -20.0], [15.1, 20.0]], "closed": False}],
        "needle": {"entry_mm": [0.0, -18.0], "target_mm": [9.5, 2.0], "length_mm": 38.0, "gauge": 25},
        "author": "Dr Ada",
        "created": "2026-03-01T10:00:00+00:00",
        "notes": "rev 1",
        "findings": [
            {
                "code": "PLEURA_MARGIN",
                "severity": "warn",
                "message": "tip 5.3 mm above the pleura; margin 5 mm",
                "values": {},
            }
        ],
        "metrics": {"depth_mm": 9.5},
    }
    plan.update(overrides)
    return plan


@pytest.fixture
def lib(tmp_path):
    with Library(tmp_path / "lib") as library:
        yield library


def test_saving_over_a_plan_keeps_every_earlier_revision_byte_for_byte(lib):
    row = lib.add(make_plan(), saved_by="ada")
    assert (row["id"], row["revision"], row["status"]) == (1, 1, "draft")
    first = lib.revision_path(1, 1).read_bytes()
    lib.save(1, make_plan(notes="rev 2"), expected_revision=1, saved_by="ada")
    lib.save(1, make_plan(notes="rev 3"), expected_revision=2, saved_by="ada")
    assert lib.revision_path(1, 1).read_bytes() == first
    assert [lib.load(1, r)["notes"] for r in (1, 2, 3)] == ["rev 1", "rev 2", "rev 3"]
    assert lib.record(1)["revision"] == 3
    # every revision file is still a valid plan file for the plan model
    plan_from_dict(dict(lib.load(1, 2)))
    assert verify(lib) == []


def test_second_person_saving_the_same_revision_gets_a_conflict_and_nothing_is_lost(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as setup:
        setup.add(make_plan())
    alice, bob = Library(root), Library(root)
    alice.save(1, make_plan(notes="alice"), expected_revision=1, saved_by="alice")
    with pytest.raises(RevisionConflictError, match="revision 2.*not saved over it"):
        bob.save(1, make_plan(notes="bob"), expected_revision=1, saved_by="bob")
    assert alice.load(1, 2)["notes"] == "alice"  # alice's save stands
    assert bob.load(1, 1)["notes"] == "rev 1"  # the common ancestor is intact
    assert bob.record(1)["revision"] == 2
    alice.close()
    bob.close()


def _save_from_process(root: str, notes: str, queue) -> None:
    try:
        with Library(root) as library:
            library.save(1, make_plan(notes=notes), expected_revision=1, saved_by=notes)
        queue.put(("ok", notes))
    except RevisionConflictError:
        queue.put(("conflict", notes))


def test_two_processes_saving_at_once_exactly_one_wins(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as setup:
        setup.add(make_plan())
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_save_from_process, args=(str(root), n, queue)) for n in ("p1", "p2", "p3")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert [r[0] for r in results].count("ok") == 1
    assert [r[0] for r in results].count("conflict") == 2
    winner = next(n for status, n in results if status == "ok")
    with Library(root) as library:
        assert library.record(1)["revision"] == 2
        assert library.load(1, 2)["notes"] == winner
        assert verify(library) == []


def test_review_workflow_records_reviewer_time_and_comment(lib):
    lib.add(make_plan())
    with pytest.raises(LibraryError, match="submit it for review first"):
        lib.approve(1, reviewer="Dr Bo")
    lib.submit(1, by="ada")
    row = lib.request_changes(1, reviewer="Dr Bo", comment="mark the rib below the target")
    assert row["status"] == "changes_requested" and row["reviewer"] == "Dr Bo"
    with pytest.raises(LibraryError, match="save a changed revision first"):
        lib.submit(1)
    lib.save(1, make_plan(notes="rib marked"), expected_revision=1)
    assert lib.record(1)["status"] == "draft"
    lib.submit(1, by="ada")
    row = lib.approve(1, reviewer="Dr Bo", comment="good", expected_revision=2)
    assert row["status"] == "approved"
    events = lib.history(1)
    kinds = [(e["kind"], e.get("action")) for e in events]
    assert kinds == [
        ("revision", None),
        ("status", "submit"),
        ("status", "request_changes"),
        ("revision", None),
        ("status", "submit"),
        ("status", "approve"),
    ]
    sent_back = events[2]
    assert sent_back["by"] == "Dr Bo" and sent_back["comment"] == "mark the rib below the target"
    assert sent_back["at"].endswith("+00:00") and sent_back["revision"] == 1


def test_request_changes_needs_a_comment_and_a_reviewer(lib):
    lib.add(make_plan())
    lib.submit(1)
    with pytest.raises(LibraryError, match="--comment is required"):
        lib.request_changes(1, reviewer="Dr Bo", comment="  ")
    with pytest.raises(LibraryError, match="reviewer's name"):
        lib.approve(1, reviewer="")
    assert lib.record(1)["status"] == "submitted"


def test_approved_plan_is_read_only_and_a_change_makes_a_new_draft(lib):
    lib.add(make_plan())
    lib.submit(1)
    lib.approve(1, reviewer="Dr Bo", comment="ok")
    approved = lib.revision_path(1, 1).read_bytes()
    with pytest.raises(ReadOnlyPlanError, match="approved and read-only"):
        lib.save(1, make_plan(notes="tweak"), expected_revision=1)
    assert lib.record(1)["revision"] == 1
    row = lib.new_draft(1, make_plan(notes="tweak"), expected_revision=1)
    assert (row["revision"], row["status"]) == (2, "draft")
    assert lib.revision_path(1, 1).read_bytes() == approved


def test_approval_of_a_revision_that_changed_since_is_refused(lib):
    lib.add(make_plan())
    lib.save(1, make_plan(notes="rev 2"), expected_revision=1)
    lib.submit(1)
    with pytest.raises(RevisionConflictError, match="revision 2, not revision 1"):
        lib.approve(1, reviewer="Dr Bo", expected_revision=1)


def test_a_plan_for_another_image_is_refused_as_a_revision(lib):
    lib.add(make_plan())
    other = make_plan(image={"sop_instance_uid": "9.9.9", "frame_index": 0, "pixel_sha256": "b" * 64})
    with pytest.raises(ImageBindingError, match="another image"):
        lib.save(1, other, expected_revision=1)
    assert lib.record(1)["revision"] == 1
    assert not lib.revision_path(1, 2).exists()


def test_poor_outcome_gives_an_info_finding_on_the_next_plan_for_that_patient_and_site(lib):
    lib.add(make_plan())
    # 8 -> 7 on the 0-10 scale: (8 - 7) / 8 = 12.5 % relief, below the 30 % cut-off
    row = lib.set_outcome(1, Outcome(pain_before=8, pain_after=7, relief_days=2), by="ada")
    assert row["outcome_poor"] == 1 and "12% relief" in row["outcome_summary"]
    same = lib.add(make_plan(created="2026-04-01T10:00:00+00:00"))
    assert PRIOR_POOR_OUTCOME in same["finding_codes"].split()
    finding = lib.load(same["id"])["library"]["findings"][0]
    assert finding["severity"] == "info" and "plan 1" in finding["message"]
    assert "diagnosis may need review" in finding["message"]
    other_site = lib.add(make_plan(site="gluteus_medius"))
    other_patient = lib.add(make_plan(patient={"id": "P-002"}))
    for row in (other_site, other_patient):
        assert PRIOR_POOR_OUTCOME not in row["finding_codes"].split()
    # the worst finding stays the planner's WARN, not the library's INFO
    assert same["worst_code"] == "PLEURA_MARGIN"


def test_good_outcome_gives_no_finding_and_outcome_is_allowed_on_approved_plans(lib):
    lib.add(make_plan())
    lib.submit(1)
    lib.approve(1, reviewer="Dr Bo")
    # 8 -> 2: (8 - 2) / 8 = 75 % relief
    assert lib.set_outcome(1, Outcome(pain_before=8, pain_after=2))["outcome_poor"] == 0
    assert PRIOR_POOR_OUTCOME not in lib.add(make_plan())["finding_codes"]


def test_a_complication_makes_an_outcome_poor_even_with_relief():
    outcome = Outcome(pain_before=8, pain_after=1, complications=("pneumothorax",))
    assert outcome.is_poor and "pneumothorax" in outcome.summary()


@pytest.mark.parametrize(
    "kwargs, match", [({"pain_before": 11}, "0-10"), ({"pain_after": -1}, "0-10"), ({"relief_days": -2}, "negative")]
)
def test_outcome_values_out_of_range_are_refused(kwargs, match):
    with pytest.raises(LibraryError, match=match):
        Outcome(**kwargs)


def test_listing_filters_use_the_index(lib):
    lib.add(make_plan())
    lib.add(
        make_plan(
            site="gluteus_medius",
            findings=[{"code": "STEEP_ANGLE", "severity": "warn", "message": "52 deg", "values": {}}],
        )
    )
    lib.submit(2)
    assert [r["id"] for r in lib.list_plans()] == [2, 1]
    assert [r["id"] for r in lib.list_plans(status="submitted")] == [2]
    assert [r["id"] for r in lib.list_plans(site="rhomboid")] == [1]
    assert [r["id"] for r in lib.list_plans(code="PLEURA_MARGIN")] == [1]
    assert [r["id"] for r in lib.list_plans(patient_id="P-001")] == [2, 1]


def test_unknown_plan_id_says_how_to_list(lib):
    with pytest.raises(LibraryError, match="no plan with id 42.*needleplan review"):
        lib.record(42)


def test_revision_file_is_a_plan_file_plus_a_library_block(lib):
    lib.add(make_plan(), saved_by="ada")
    body = json.loads(lib.revision_path(1, 1).read_text())
    assert body["format"] == "needleplan.plan" and body["version"] == 1
    assert body["library"]["plan_id"] == 1 and body["library"]["saved_by"] == "ada"
    assert body["patient"]["id"] == "P-001"  # unknown fields kept through the plan model


def test_default_library_dir_honours_the_environment(monkeypatch, tmp_path):
    from needleplan.library import default_library_dir

    monkeypatch.setenv("NEEDLEPLAN_LIBRARY", str(tmp_path / "x"))
    assert default_library_dir() == tmp_path / "x"
    monkeypatch.delenv("NEEDLEPLAN_LIBRARY")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_library_dir() == Path(tmp_path / "data" / "needleplan" / "library")


ACTIONS = ("save", "submit", "approve", "request_changes", "new_draft", "outcome")
#: the workflow as a table: action -> (statuses it is allowed from, status after)
MODEL = {
    "save": ({"draft", "submitted", "changes_requested"}, "draft"),
    "new_draft": ({"draft", "submitted", "changes_requested", "approved"}, "draft"),
    "submit": ({"draft"}, "submitted"),
    "approve": ({"submitted"}, "approved"),
    "request_changes": ({"submitted"}, "changes_requested"),
    "outcome": ({"draft", "submitted", "changes_requested", "approved"}, None),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=12))
def test_any_sequence_of_actions_follows_the_workflow_and_keeps_files_and_index_agreeing(tmp_path_factory, actions):
    root = tmp_path_factory.mktemp("lib")
    with Library(root) as lib:
        lib.add(make_plan(notes="rev 1"))
        status, revision = "draft", 1
        for action in actions:
            allowed, after = MODEL[action]
            try:
                if action in ("save", "new_draft"):
                    getattr(lib, action)(1, make_plan(notes=f"rev {revision + 1}"), expected_revision=revision)
                elif action == "submit":
                    lib.submit(1)
                elif action == "outcome":
                    lib.set_outcome(1, Outcome(pain_before=5, pain_after=2))
                else:
                    getattr(lib, action)(1, reviewer="Dr Bo", comment="c")
            except LibraryError:
                assert status not in allowed, (action, status)
                continue
            assert status in allowed, (action, status)
            if action in ("save", "new_draft"):
                revision += 1
            status = after or status
            assert (lib.record(1)["status"], lib.record(1)["revision"]) == (status, revision)
        assert verify(lib) == []
        assert [lib.load(1, r)["notes"] for r in range(1, revision + 1)] == [f"rev {r}" for r in range(1, revision + 1)]
    # the index rebuilt from the files alone gives the same state
    (root / "index.sqlite").unlink()
    with Library(root) as lib:
        assert (lib.record(1)["status"], lib.record(1)["revision"]) == (status, revision)
