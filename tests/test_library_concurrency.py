"""Several people on one plan library at once, with real processes (issue 17).

Opening a library (every command does, the read-only ``needleplan review`` too) must never remove a
concurrent writer's in-flight files: before the fix, a reader listing plans removed the writer's
journal temp file and 75 of 200 saves failed with "cannot write .../journal/<uuid>.json".  The
workers below run as separate Python processes on the same folder; the assertions do not depend on
how the processes interleave (counts of saves, revisions, failures and the final files only).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from needleplan.errors import RevisionConflictError
from needleplan.library import Library, verify
from tests.test_library_faults import make_plan, write  # the library tests' plan

WORKER = textwrap.dedent("""
    # One worker process.  argv: root, plan.json, mode, name, count, done-file
    #   reader:  open the library read-only and list plans until the done-file exists
    #   writer:  keep one Library open, save `count` revisions of plan 1 (expected revision read first)
    #   reopen:  open the library afresh for every save of plan `name` (as a CLI command does)
    # Prints one JSON line: counts of saves, conflicts and other failures with the last messages.
    import json, sys, os, warnings
    warnings.simplefilter("error")   # a library warning would be a failure too
    from needleplan.library import Library
    from needleplan.errors import LibraryError, RevisionConflictError

    root, plan_path, mode, name, count, done = sys.argv[1:7]
    count, base = int(count), json.load(open(plan_path))
    out = {"mode": mode, "name": name, "saved": 0, "conflicts": 0, "failures": 0,
           "opens": 0, "failure": None, "conflict": None, "notes": []}

    def save(lib, plan_id, j):
        rev = lib.record(plan_id)["revision"]
        note = f"{name} {j}"
        try:
            lib.save(plan_id, dict(base, notes=note), expected_revision=rev)
        except RevisionConflictError as exc:
            out["conflicts"] += 1; out["conflict"] = str(exc)
            return
        out["saved"] += 1; out["notes"].append(note)

    try:
        if mode == "reader":
            while not os.path.exists(done):
                with Library(root, create=False) as lib:
                    lib.list_plans(limit=5)
                    out["opens"] += 1
        elif mode == "writer":
            with Library(root) as lib:
                for j in range(count):
                    try:
                        save(lib, 1, j)
                    except LibraryError as exc:
                        out["failures"] += 1; out["failure"] = str(exc)
        else:
            plan_id = int(mode.split(":")[1])
            for j in range(count):
                try:
                    with Library(root) as lib:
                        out["opens"] += 1
                        save(lib, plan_id, j)
                except LibraryError as exc:
                    out["failures"] += 1; out["failure"] = str(exc)
    except Exception as exc:  # anything else is a failure of the worker itself
        out["failures"] += 1; out["failure"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out), flush=True)
""")


def _library(tmp_path: Path, plans: int) -> tuple[Path, Path]:
    root = tmp_path / "lib"
    plan_path = write(tmp_path / "p.plan.json", make_plan())
    with Library(root) as lib:
        for i in range(plans):
            lib.add(make_plan(notes=f"plan {i + 1} rev 1"))
    return root, plan_path


def _run(
    tmp_path: Path, root: Path, plan_path: Path, workers: list[tuple[str, str, int]], readers: int = 0
) -> list[dict]:
    """Start the workers (and readers that run until every worker is done); return their lines."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    done = tmp_path / "writers-done"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def start(mode, name, count):
        return subprocess.Popen(
            [sys.executable, str(script), str(root), str(plan_path), mode, name, str(count), str(done)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    reading = [start("reader", f"r{i}", 0) for i in range(readers)]
    writing = [start(*w) for w in workers]
    lines = []
    try:
        for proc in writing:
            out, _ = proc.communicate(timeout=240)
            assert proc.returncode == 0
            lines.append(json.loads(out))
    finally:
        done.touch()
        for proc in reading:
            out, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0
            lines.append(json.loads(out))
    return lines


def _notes(root: Path, plan_id: int) -> list[str]:
    with Library(root, create=False) as lib:
        rev = lib.record(plan_id)["revision"]
        return [lib.load(plan_id, r)["notes"] for r in range(1, rev + 1)]


def _consistent(root: Path) -> None:
    with Library(root) as lib:
        assert verify(lib) == []
    assert list((root / "journal").iterdir()) == []


def test_a_writer_saving_200_revisions_never_fails_while_two_readers_open_the_library(tmp_path):
    root, plan_path = _library(tmp_path, 1)
    lines = _run(tmp_path, root, plan_path, [("writer", "w", 200)], readers=2)
    writer, readers = lines[0], lines[1:]
    assert (writer["saved"], writer["conflicts"], writer["failures"]) == (200, 0, 0), writer
    for reader in readers:
        assert reader["failures"] == 0, reader
        assert reader["opens"] >= 1  # each reader really opened the library while it ran
    # revision 1 from the add, then one revision per save, in order, none lost
    assert _notes(root, 1) == ["plan 1 rev 1"] + [f"w {j}" for j in range(200)]
    _consistent(root)


def test_two_writers_on_different_plans_never_fail(tmp_path):
    # each opens the library afresh for every save, as two people using the CLI would
    root, plan_path = _library(tmp_path, 2)
    lines = _run(tmp_path, root, plan_path, [("reopen:1", "a", 60), ("reopen:2", "b", 60)], readers=1)
    for line in lines[:2]:
        assert (line["saved"], line["conflicts"], line["failures"]) == (60, 0, 0), line
    assert lines[2]["failures"] == 0, lines[2]
    assert _notes(root, 1) == ["plan 1 rev 1"] + [f"a {j}" for j in range(60)]
    assert _notes(root, 2) == ["plan 2 rev 1"] + [f"b {j}" for j in range(60)]
    _consistent(root)


def test_two_writers_on_the_same_plan_lose_nothing_and_only_real_conflicts_are_refused(tmp_path):
    root, plan_path = _library(tmp_path, 1)
    lines = _run(tmp_path, root, plan_path, [("reopen:1", "a", 60), ("reopen:1", "b", 60)], readers=1)
    a, b, reader = lines
    for line in (a, b):
        assert line["failures"] == 0, line  # no spurious failure: only revision conflicts
        assert line["saved"] + line["conflicts"] == 60
        if line["conflicts"]:
            assert "saved by someone else" in line["conflict"], line["conflict"]
    assert reader["failures"] == 0, reader
    notes = _notes(root, 1)
    # every acknowledged save is a revision, each exactly once, and each writer's in its own order
    assert len(notes) == 1 + a["saved"] + b["saved"]
    assert sorted(notes[1:]) == sorted(a["notes"] + b["notes"])
    assert [n for n in notes if n.startswith("a ")] == a["notes"]
    assert [n for n in notes if n.startswith("b ")] == b["notes"]
    # the optimistic revision check still refuses a writer who started from an old revision
    with Library(root) as lib, pytest.raises(RevisionConflictError, match=r"saved by someone else after revision 1"):
        lib.save(1, make_plan(notes="stale"), expected_revision=1)
    assert _notes(root, 1) == notes
    _consistent(root)


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _dead_pid() -> int:
    """The id of a process that has exited (a writer killed mid-save)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_read_only_open_changes_nothing_even_with_a_dead_writers_leftovers(tmp_path):
    root, _ = _library(tmp_path, 1)
    journal = root / "journal"
    # what a writer killed mid-save leaves: its marker and a half-written temporary file
    write(journal / "0123abcd.json", {"plan_id": 1, "pid": _dead_pid()})
    (journal / ".0123abcd.json.ffff.tmp").write_text('{"plan_')
    (root / "plans" / "000001" / ".r0002.plan.json.eeee.tmp").write_text("{")
    before = _snapshot(root)
    with Library(root, create=False) as lib:
        assert lib.pending_recovery and lib.recovered == []
        assert [r["id"] for r in lib.list_plans()] == [1]
        problems = verify(lib)  # says what waits, and changes nothing either
        assert problems[0].startswith("interrupted save waiting for recovery (0123abcd.json)")
        assert "plan 1: leftover temporary files ['.r0002.plan.json.eeee.tmp']" in problems
    assert _snapshot(root) == before  # nothing deleted, nothing rewritten (the index included)
    with Library(root) as lib:  # a writable open recovers, under the write lock
        assert lib.recovered == [1] and not lib.pending_recovery
        assert verify(lib) == []
    assert list(journal.iterdir()) == []
    assert not list((root / "plans" / "000001").glob("*.tmp"))


def test_the_journal_race_script_idea_with_the_cli_reader(tmp_path):
    # `needleplan review` (the read-only list) in a loop beside a writer: the writer never fails
    root, plan_path = _library(tmp_path, 1)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import os
            from needleplan.cli import main
            while not os.path.exists({str(tmp_path / "writers-done")!r}):
                assert main(["review", "--library", {str(root)!r}]) == 0
        """),
        ],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    try:
        lines = _run(tmp_path, root, plan_path, [("writer", "w", 100)])
    finally:
        (tmp_path / "writers-done").touch()
        reader.wait(timeout=60)
    assert reader.returncode == 0
    assert (lines[0]["saved"], lines[0]["failures"]) == (100, 0), lines[0]
    _consistent(root)
