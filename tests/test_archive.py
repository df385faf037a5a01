"""A department's plans on a real Orthanc (issue 13): SR chains, DICOM review state, sign-off rules.

One Orthanc for the module on 127.0.0.1, with HTTP basic authentication and the shipped review
rules (``needleplan-review.lua``) for reviewers ``attending1`` and ``attending2``.  The PostgreSQL
department setup and the two-process race are in ``test_archive_department.py``.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest

from needleplan import pacs
from needleplan.archive import ArchiveLibrary, chain_problems, review_lua, revision_uid
from needleplan.archive.revision import build_step, read_step
from needleplan.cli import main
from needleplan.errors import LibraryError, PacsError, RevisionConflictError
from needleplan.pacs.testserver import LocalOrthanc, find_orthanc
from needleplan.plan import load_plan

pytestmark = pytest.mark.skipif(
    find_orthanc() is None, reason="Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)"
)

SAMPLES = Path(__file__).parent.parent / "sample_dicom"
IMAGE = SAMPLES / "upper_trapezius_thin_frame.dcm"
PLAN = SAMPLES / "upper_trapezius_thin_frame.plan.json"
USERS = {"resident1": "r-secret-1", "attending1": "a-secret-1", "attending2": "a-secret-2", "nurse1": "n-secret-1"}
REVIEWERS = ["attending1", "attending2"]
FAST = pacs.RetryPolicy(attempts=2, base_delay_s=0.05)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LocalOrthanc(tmp_path_factory.mktemp("archive") / "orthanc", users=USERS, lua=review_lua(REVIEWERS)).start()
    try:
        srv.upload(IMAGE)
        yield srv
    finally:
        srv.stop()


def _archive(server, user: str, *, reviewers=None) -> ArchiveLibrary:
    settings = pacs.PacsSettings(url=server.dicomweb_url, user=user, password=USERS[user])
    return ArchiveLibrary(pacs.connect(settings, retry=FAST), reviewers=reviewers)


@pytest.fixture()
def cli_as(server, monkeypatch, tmp_path):
    """Run the command line as one archive user (credentials in the environment, as a user would)."""
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("NEEDLEPLAN_LIBRARY", str(tmp_path / "library"))

    def run(user: str, *argv: str) -> int:
        monkeypatch.setenv("NEEDLEPLAN_PACS_USER", user)
        monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", USERS[user])
        return main(list(argv))

    return run


def _submitted_plan(server) -> str:
    resident = _archive(server, "resident1")
    plan_id = resident.add(load_plan(PLAN))["id"]
    resident.submit(plan_id)
    return plan_id


def _instances(server, plan_id: str) -> list[pydicom.Dataset]:
    archive = _archive(server, "attending1")
    return [archive.rest.instance(oid) for _, oid in archive._steps_raw(plan_id)]


def test_resident_submits_attending_approves_every_step_is_an_sr_in_the_image_study(server):
    resident = _archive(server, "resident1")
    row = resident.add(load_plan(PLAN))
    assert (row["status"], row["revision"], row["seq"], row["author"]) == ("draft", 1, 1, "resident1")
    plan_id = row["id"]
    resident.submit(plan_id)
    approved = _archive(server, "attending1", reviewers=REVIEWERS).approve(plan_id, comment="good angle")
    assert (approved["status"], approved["reviewer"], approved["seq"]) == ("approved", "attending1", 3)

    image = pydicom.dcmread(IMAGE, stop_before_pixels=True)
    steps = _instances(server, plan_id)
    assert [int(ds.InstanceNumber) for ds in steps] == [1, 2, 3]
    for ds in steps:  # all in the image's study, one series per plan, a TID 1500 Comprehensive SR
        assert ds.StudyInstanceUID == image.StudyInstanceUID
        assert ds.SeriesInstanceUID == plan_id
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"
    assert [(ds.CompletionFlag, ds.VerificationFlag) for ds in steps] == [
        ("PARTIAL", "UNVERIFIED"),
        ("COMPLETE", "UNVERIFIED"),
        ("COMPLETE", "VERIFIED"),
    ]
    observer = steps[2].VerifyingObserverSequence[0]
    assert (str(observer.VerifyingObserverName), observer.VerifyingOrganization) == (
        "attending1",
        "needleplan department",
    )
    assert "VerifyingObserverSequence" not in steps[1]
    assert "PredecessorDocumentsSequence" not in steps[0]
    for before, after in itertools.pairwise(steps):  # each names the one it replaces, nothing overwritten
        ref = after.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
        assert ref.ReferencedSOPInstanceUID == before.SOPInstanceUID
    assert chain_problems([read_step(ds) for ds in steps]) == []
    assert [str(ds.AuthorObserverSequence[0].PersonName) for ds in steps] == ["resident1"] * 3
    assert [str(ds.ParticipantSequence[0].PersonName) for ds in steps] == ["resident1", "resident1", "attending1"]


def test_the_plan_json_in_the_sr_carries_status_and_history_like_the_local_library(server):
    plan_id = _submitted_plan(server)
    _archive(server, "attending2").request_changes(plan_id, comment="needle over the rib, not the space")
    body = _archive(server, "resident1").load(plan_id)
    block = body["library"]
    assert (block["plan_id"], block["revision"], block["seq"], block["status"]) == (plan_id, 1, 3, "changes_requested")
    assert [(e["kind"], e.get("action"), e["by"]) for e in block["history"]] == [
        ("revision", None, "resident1"),
        ("status", "submit", "resident1"),
        ("status", "request_changes", "attending2"),
    ]
    assert block["history"][-1]["comment"] == "needle over the rib, not the space"
    assert body["author"] == "resident1"  # the authenticated user, whatever the file said


def test_author_cannot_approve_refused_by_client_and_by_server(server):
    plan_id = _submitted_plan(server)
    resident = _archive(server, "resident1", reviewers=REVIEWERS)
    with pytest.raises(LibraryError, match="resident1 authored this plan and cannot approve it"):
        resident.approve(plan_id)
    # A client without the check (reviewer list unknown, author check skipped): the server refuses.
    ds = _instances(server, plan_id)[-1]
    forged = build_step(
        ds,
        plan_id=plan_id,
        seq=3,
        status="approved",
        actor="resident1",
        author="resident1",
        at="2026-01-01T00:00:00+00:00",
        predecessor=read_step(ds),
        organization="x",
    )
    assert resident.rest.store(forged) == "FilteredOut"
    # ... also when the forger writes someone else as the author of the approved revision
    forged.AuthorObserverSequence[0].PersonName = "attending2"
    assert resident.rest.store(forged) == "FilteredOut"
    assert _archive(server, "attending1").record(plan_id)["status"] == "submitted"
    assert len(_instances(server, plan_id)) == 2


def test_server_refuses_non_reviewers_and_names_that_are_not_the_authenticated_user(server):
    plan_id = _submitted_plan(server)
    nurse = _archive(server, "nurse1")
    with pytest.raises(PacsError, match="archive refused this changes requested revision"):
        nurse.request_changes(plan_id, comment="I think so")
    ds = _instances(server, plan_id)[-1]
    step = read_step(ds)
    # attending1's name written by the nurse: refused, the enterer must be who authenticated
    forged = build_step(
        ds,
        plan_id=plan_id,
        seq=3,
        status="approved",
        actor="attending1",
        author="resident1",
        at="2026-01-01T00:00:00+00:00",
        predecessor=step,
        organization="x",
    )
    assert nurse.rest.store(forged) == "FilteredOut"
    # a verified SR that is not a plan revision: still only from a reviewer
    other = build_step(
        pydicom.dcmread(pydicom.filebase.DicomBytesIO(_bytes(ds))),
        plan_id=plan_id,
        seq=3,
        status="approved",
        actor="nurse1",
        author="resident1",
        at="2026-01-01T00:00:00+00:00",
        predecessor=step,
        organization="x",
    )
    other.SeriesDescription = "not a plan"
    other.SOPInstanceUID = other.file_meta.MediaStorageSOPInstanceUID = "2.25.1234567"
    assert nurse.rest.store(other) == "FilteredOut"
    assert _archive(server, "attending2").approve(plan_id)["status"] == "approved"


def _bytes(ds: pydicom.Dataset) -> bytes:
    buffer = pydicom.filebase.DicomBytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_acting_on_a_step_that_is_no_longer_the_latest_is_told_it_changed(server):
    plan_id = _submitted_plan(server)
    first, second = _archive(server, "attending1"), _archive(server, "attending2")
    seen = first.record(plan_id)["seq"]
    assert second.request_changes(plan_id, comment="steeper", expected_seq=seen)["seq"] == seen + 1
    with pytest.raises(RevisionConflictError, match="changed since you read it"):
        first.approve(plan_id, expected_seq=seen)
    assert _archive(server, "resident1").record(plan_id)["status"] == "changes_requested"


def test_a_step_stored_by_someone_else_under_the_same_uid_is_a_conflict_not_a_success(server):
    """The race the archive decides: both build step 3; the second store finds it AlreadyStored."""
    plan_id = _submitted_plan(server)
    winner, loser = _archive(server, "attending1"), _archive(server, "attending2")
    stale = _instances(server, plan_id)[-1]  # what the loser read
    winner.approve(plan_id)
    latest = loser._latest
    loser._latest = lambda pid: (stale, read_step(stale))  # the loser read before the winner stored
    try:
        with pytest.raises(RevisionConflictError, match="step 3 was stored by attending1 first"):
            loser.request_changes(plan_id, comment="late")
    finally:
        loser._latest = latest
    steps = [read_step(ds) for ds in _instances(server, plan_id)]
    assert [s.status for s in steps] == ["draft", "submitted", "approved"]
    assert steps[2].sop_instance_uid == revision_uid(plan_id, 3)


def test_queue_json_lists_one_row_per_plan_with_its_latest_step(server, cli_as, capsys):
    plan_id = _submitted_plan(server)
    capsys.readouterr()
    assert cli_as("attending1", "review", "--archive", server.dicomweb_url, "--status", "submitted", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in listed["plans"]}
    assert listed["count"] == len(listed["plans"]) and plan_id in rows
    assert (rows[plan_id]["status"], rows[plan_id]["seq"], rows[plan_id]["author"]) == ("submitted", 2, "resident1")
    assert {"id", "status", "revision", "site", "author", "worst_severity", "worst_code", "reviewer"} <= set(
        rows[plan_id]
    )
    assert all(r["status"] == "submitted" for r in listed["plans"])
    assert (
        cli_as(
            "attending1", "review", "approve", plan_id, "--archive", server.dicomweb_url, "--comment", "fine", "--json"
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["status"] == "approved"
    assert cli_as("attending1", "review", "--archive", server.dicomweb_url, "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)["plans"]}
    assert (rows[plan_id]["status"], rows[plan_id]["seq"]) == ("approved", 3)  # one row, latest step


def test_history_comes_from_the_sr_chain(server, cli_as, capsys):
    plan_id = _submitted_plan(server)
    _archive(server, "attending1").request_changes(plan_id, comment="use the 38 mm needle")
    capsys.readouterr()
    assert cli_as("nurse1", "history", plan_id, "--archive", server.dicomweb_url, "--json") == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert [(e["seq"], e["by"], e.get("action") or e["kind"]) for e in events] == [
        (1, "resident1", "revision"),
        (2, "resident1", "submit"),
        (3, "attending1", "request_changes"),
    ]
    assert [e["sop_instance_uid"] for e in events] == [revision_uid(plan_id, k) for k in (1, 2, 3)]
    assert cli_as("nurse1", "history", plan_id, "--archive", server.dicomweb_url) == 0
    table = capsys.readouterr().out
    assert "submitted -> changes_requested: use the 38 mm needle" in table and "attending1" in table


def test_by_is_refused_in_archive_mode(server, cli_as, capsys):
    plan_id = _submitted_plan(server)
    capsys.readouterr()
    code = cli_as("attending1", "review", "approve", plan_id, "--archive", server.dicomweb_url, "--by", "Dr X")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--by is refused with --archive" in err
    assert _archive(server, "attending1").record(plan_id)["status"] == "submitted"


def test_wrong_password_one_line_exit_2_no_secret(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NEEDLEPLAN_PACS_USER", "attending1")
    monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", "wrong-horse-battery")
    code = main(["review", "--archive", server.dicomweb_url, "--json"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "refused the credentials (HTTP 401)" in err
    assert "wrong-horse-battery" not in err and "a-secret-1" not in err


def test_expired_token_one_line_exit_2_no_secret(server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NEEDLEPLAN_PACS_USER", "attending1")
    monkeypatch.delenv("NEEDLEPLAN_PACS_PASSWORD", raising=False)
    monkeypatch.setenv("NEEDLEPLAN_PACS_TOKEN", "expired.eyJleHAiOjF9.sig")
    code = main(["review", "--archive", server.dicomweb_url])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "HTTP 401" in err and "eyJleHAiOjF9" not in err


def test_plan_whose_image_is_not_on_the_archive_is_refused_with_the_reason(server, cli_as, tmp_path, capsys):
    plan = load_plan(PLAN)
    elsewhere = replace(plan, image=replace(plan.image, sop_instance_uid="2.25.999999999999"))
    with pytest.raises(PacsError, match=r"image \(SOP Instance UID 2.25.999999999999\) is not on the archive"):
        _archive(server, "resident1").add(elsewhere)
    # the same through the command line: one line, exit 2
    from needleplan.plan import save_plan

    save_plan(elsewhere, tmp_path / "elsewhere.plan.json")
    capsys.readouterr()
    assert (
        cli_as("resident1", "library", "add", str(tmp_path / "elsewhere.plan.json"), "--archive", server.dicomweb_url)
        == 2
    )
    assert "is not on the archive" in capsys.readouterr().err


def test_library_add_to_archive_as_the_authenticated_user(server, cli_as, capsys):
    capsys.readouterr()
    assert cli_as("resident1", "library", "add", str(PLAN), "--archive", server.dicomweb_url, "--json") == 0
    row = json.loads(capsys.readouterr().out)
    assert (row["author"], row["status"], row["seq"]) == ("resident1", "draft", 1)
    assert cli_as("resident1", "library", "add", str(PLAN), "--archive", server.dicomweb_url, "--by", "x") == 2


def test_archive_down_mid_action_stores_nothing_and_the_next_try_works(server):
    plan_id = _submitted_plan(server)
    attending = _archive(server, "attending1")
    server.kill()
    try:
        with pytest.raises(PacsError, match="cannot reach"):
            attending.approve(plan_id)
    finally:
        server.start()
    assert [s.status for s in map(read_step, _instances(server, plan_id))] == ["draft", "submitted"]
    assert attending.approve(plan_id)["seq"] == 3
    assert chain_problems([read_step(ds) for ds in _instances(server, plan_id)]) == []


def test_push_then_pull_round_trip_and_conflicts_are_reported_not_merged(server, tmp_path):
    from needleplan.archive.sync import pull, push
    from needleplan.library import Library

    resident, attending = _archive(server, "resident1"), _archive(server, "attending1")
    with Library(tmp_path / "offline") as offline:
        local_id = offline.add(load_plan(PLAN), saved_by="resident1")["id"]
        pushed = push(offline, resident, local_id)
        assert (pushed["outcome"], pushed["revision"], pushed["author"]) == ("added", 1, "resident1")
        assert push(offline, resident, local_id)["outcome"] == "up to date"
        offline.save(local_id, load_plan(PLAN), expected_revision=1, saved_by="resident1")  # worked offline
        again = push(offline, resident, local_id)
        assert (again["outcome"], again["id"], again["revision"]) == ("revised", pushed["id"], 2)
        # someone changes it on the archive; a later local change cannot be pushed over it
        attending.save(pushed["id"], load_plan(PLAN))
        offline.save(local_id, load_plan(PLAN), expected_revision=2, saved_by="resident1")
        with pytest.raises(RevisionConflictError, match="changed on the archive"):
            push(offline, resident, local_id)
        assert attending.record(pushed["id"])["revision"] == 3  # nothing was pushed

    with Library(tmp_path / "attending-laptop") as laptop:
        first = pull(attending, laptop, pushed["id"], by="attending1")
        assert first["outcome"] == "added"
        assert pull(attending, laptop, pushed["id"])["outcome"] == "up to date"
        resident.save(pushed["id"], load_plan(PLAN))  # archive revision 4
        assert pull(attending, laptop, pushed["id"])["outcome"] == "revised"
        laptop.save(first["id"], load_plan(PLAN), expected_revision=2, saved_by="attending1")  # local change
        resident.save(pushed["id"], load_plan(PLAN))  # archive revision 5
        with pytest.raises(RevisionConflictError, match="changed since it was pulled"):
            pull(attending, laptop, pushed["id"])
        assert laptop.record(first["id"])["revision"] == 3  # nothing was pulled over the local change


def test_push_and_pull_commands(server, cli_as, tmp_path, capsys):
    from needleplan.library import Library

    with Library(tmp_path / "lib") as lib:
        local_id = lib.add(load_plan(PLAN), saved_by="resident1")["id"]
    url = server.dicomweb_url
    capsys.readouterr()
    assert (
        cli_as(
            "resident1",
            "library",
            "push",
            str(local_id),
            "--library",
            str(tmp_path / "lib"),
            "--archive",
            url,
            "--json",
        )
        == 0
    )
    pushed = json.loads(capsys.readouterr().out)
    assert (pushed["outcome"], pushed["author"]) == ("added", "resident1")
    assert (
        cli_as("attending1", "library", "pull", pushed["id"], "--library", str(tmp_path / "other"), "--archive", url)
        == 0
    )
    assert "on the local library: added" in capsys.readouterr().out
    assert cli_as("resident1", "library", "push", str(local_id), "--library", str(tmp_path / "lib")) == 2
    assert "needs --archive" in capsys.readouterr().err


def test_fetch_plan_writes_the_latest_step_beside_its_retrieved_image(server, tmp_path):
    from needleplan.io import open_image
    from needleplan.pacs.cache import InstanceCache
    from needleplan.plan import verify_binding

    plan_id = _submitted_plan(server)
    path = _archive(server, "attending1").fetch_plan(
        plan_id, tmp_path / "plans", cache=InstanceCache(tmp_path / "pacs")
    )
    plan = load_plan(path)
    assert plan.extra["library"]["status"] == "submitted" and plan.extra["library"]["plan_id"] == plan_id
    image = open_image(plan.image.path)
    assert Path(plan.image.path).is_relative_to(tmp_path / "pacs")
    assert verify_binding(plan, image) == ()  # the very frame the plan was made on
    original = load_plan(PLAN)
    assert plan.needle.length_mm == original.needle.length_mm
    assert plan.needle.entry_mm == pytest.approx(original.needle.entry_mm, abs=1e-4)


def test_review_show_on_the_archive_rechecks_and_lists_comments(server, cli_as, capsys):
    plan_id = _submitted_plan(server)
    _archive(server, "attending2").request_changes(plan_id, comment="aim 5 mm shallower")
    capsys.readouterr()
    assert cli_as("resident1", "review", "show", plan_id, "--archive", server.dicomweb_url, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["plan"]["id"], shown["plan"]["status"], shown["plan"]["seq"]) == (plan_id, "changes_requested", 3)
    assert shown["recheck_error"] is None and shown["recheck"] is not None
    assert [e["by"] for e in shown["history"]] == ["resident1", "resident1", "attending2"]
    assert cli_as("resident1", "review", "show", plan_id, "--archive", server.dicomweb_url) == 0
    text = capsys.readouterr().out
    assert f"plan {plan_id} revision 1 (archive step 3)" in text
    assert "attending2 (request_changes, revision 1): aim 5 mm shallower" in text
    # a local library id is a number: an archive id without --archive is refused with the hint
    assert cli_as("resident1", "review", "show", plan_id) == 2
    assert "add --archive URL" in capsys.readouterr().err


def test_archive_down_during_push_keeps_the_local_plan_and_pushes_later(server, tmp_path):
    from needleplan.archive.sync import push
    from needleplan.library import Library, verify

    resident = _archive(server, "resident1")
    before = {r["id"] for r in resident.list_plans()}
    with Library(tmp_path / "offline") as offline:
        local_id = offline.add(load_plan(PLAN), saved_by="resident1")["id"]
        server.kill()
        try:
            with pytest.raises(PacsError, match="cannot reach"):
                push(offline, resident, local_id)
        finally:
            server.start()
        assert offline.record(local_id)["revision"] == 1 and verify(offline) == []  # the local copy is kept
        assert {r["id"] for r in resident.list_plans()} == before  # nothing half-stored on the archive
        pushed = push(offline, resident, local_id)
    assert pushed["outcome"] == "added"
    assert chain_problems([s for s, _ in resident.steps(pushed["id"])]) == []
