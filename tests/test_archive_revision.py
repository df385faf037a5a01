"""SR revision steps without a server: flags per status, round trip of the header, chain checks, rules."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from hypothesis import given
from hypothesis import strategies as st

from needleplan.archive import check_may_act, read_step, revision_uid
from needleplan.archive.revision import build_step, chain_problems, library_block_of
from needleplan.errors import LibraryError, PlanFormatError
from needleplan.plan import load_plan
from needleplan.sr import plan_to_sr

SAMPLES = Path(__file__).parent.parent / "sample_dicom"
PLAN_ID = "2.25.1111"
AT = "2026-12-04T17:30:05+00:00"


@pytest.fixture(scope="module")
def sr():
    plan = load_plan(SAMPLES / "upper_trapezius_thin_frame.plan.json")
    source = pydicom.dcmread(SAMPLES / "upper_trapezius_thin_frame.dcm", stop_before_pixels=True)
    return plan_to_sr(plan, source)


def _chain(sr, statuses):
    import copy

    steps, previous = [], None
    for seq, status in enumerate(statuses, start=1):
        actor = "attending1" if status in ("approved", "changes_requested") else "resident1"
        ds = build_step(
            copy.deepcopy(sr),
            plan_id=PLAN_ID,
            seq=seq,
            status=status,
            actor=actor,
            author="resident1",
            at=AT,
            predecessor=previous,
            organization="Pain clinic",
        )
        previous = read_step(ds)
        steps.append(previous)
    return steps


@pytest.mark.parametrize(
    ("status", "completion", "verification"),
    [
        ("draft", "PARTIAL", "UNVERIFIED"),
        ("submitted", "COMPLETE", "UNVERIFIED"),
        ("changes_requested", "PARTIAL", "UNVERIFIED"),
        ("approved", "COMPLETE", "VERIFIED"),
    ],
)
def test_each_status_has_dicom_flags_and_reads_back(sr, status, completion, verification):
    step = _chain(sr, ["draft", status])[-1] if status != "draft" else _chain(sr, ["draft"])[0]
    assert (step.status, step.completion_flag, step.verification_flag) == (status, completion, verification)
    assert step.verifying_observer == ("attending1" if status == "approved" else None)
    assert step.at == AT and step.author == "resident1"
    assert step.sop_instance_uid == revision_uid(PLAN_ID, step.seq)


def test_a_verified_step_written_to_disk_keeps_observer_time_and_predecessor(sr, tmp_path):
    import copy

    first = read_step(
        build_step(
            copy.deepcopy(sr),
            plan_id=PLAN_ID,
            seq=1,
            status="submitted",
            actor="resident1",
            author="resident1",
            at=AT,
            predecessor=None,
            organization="x",
        )
    )
    ds = build_step(
        copy.deepcopy(sr),
        plan_id=PLAN_ID,
        seq=2,
        status="approved",
        actor="attending1",
        author="resident1",
        at=AT,
        predecessor=first,
        organization="Pain clinic",
    )
    ds.save_as(tmp_path / "step.dcm", enforce_file_format=True)
    back = pydicom.dcmread(tmp_path / "step.dcm")
    observer = back.VerifyingObserverSequence[0]
    assert (str(observer.VerifyingObserverName), observer.VerifyingOrganization, observer.VerificationDateTime) == (
        "attending1",
        "Pain clinic",
        "20261204173005+0000",
    )
    assert read_step(back).predecessor_uid == first.sop_instance_uid
    assert back.file_meta.MediaStorageSOPInstanceUID == back.SOPInstanceUID == revision_uid(PLAN_ID, 2)
    assert library_block_of(back) == {}  # a bare SR export carries no library block


def test_chain_problems_finds_gaps_wrong_predecessors_and_foreign_uids(sr):
    steps = _chain(sr, ["draft", "submitted", "approved"])
    assert chain_problems(steps) == []
    assert chain_problems(steps[::-1]) == []  # order of reading does not matter
    assert chain_problems([steps[0], steps[2]]) == ["step 2 is missing (found step 3 next)"]
    forked = replace(steps[2], predecessor_uid=steps[0].sop_instance_uid)
    assert chain_problems([*steps[:2], forked]) == [
        f"step 3 names predecessor {steps[0].sop_instance_uid}, expected {steps[1].sop_instance_uid}"
    ]
    foreign = replace(steps[1], sop_instance_uid="2.25.42")
    problems = chain_problems([steps[0], foreign, steps[2]])
    assert "step 2 has SOP Instance UID 2.25.42, not the chain's own" in problems


def test_step_one_has_no_predecessor_and_later_steps_must_name_one(sr):
    import copy

    with pytest.raises(PlanFormatError, match="must name its predecessor"):
        build_step(
            copy.deepcopy(sr),
            plan_id=PLAN_ID,
            seq=2,
            status="draft",
            actor="a",
            author="a",
            at=AT,
            predecessor=None,
            organization="x",
        )
    with pytest.raises(PlanFormatError, match="unknown review status"):
        build_step(
            copy.deepcopy(sr),
            plan_id=PLAN_ID,
            seq=1,
            status="signed",
            actor="a",
            author="a",
            at=AT,
            predecessor=None,
            organization="x",
        )


@given(st.text(alphabet="0123456789.", min_size=1, max_size=64), st.integers(1, 10_000), st.integers(1, 10_000))
def test_step_uids_are_valid_the_same_for_everyone_and_distinct_per_step(plan_id, a, b):
    uid = revision_uid(plan_id, a)
    assert uid == revision_uid(plan_id, a) and len(uid) <= 64 and uid.startswith("2.25.")
    assert pydicom.uid.UID(uid).is_valid
    assert (revision_uid(plan_id, b) == uid) == (a == b)


def test_rules_author_never_approves_and_only_reviewers_review():
    check_may_act("submit", "resident1", "resident1", ["attending1"])  # anyone submits their own plan
    check_may_act("request_changes", "attending1", "resident1", None)  # list unknown here: the server checks
    with pytest.raises(LibraryError, match="resident1 authored this plan and cannot request changes"):
        check_may_act("request_changes", "resident1", "resident1", None)
    with pytest.raises(LibraryError, match="nurse1 is not on the department's reviewer list"):
        check_may_act("approve", "nurse1", "resident1", ["attending1"])
