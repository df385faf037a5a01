"""Bad input and faults: corrupt plan files, another image, a read-only place, a kill mid-save.

Tests run as root, and root ignores file permissions, so ``chmod`` cannot make a folder read-only
here.  A place that cannot be written is simulated instead by (a) a library path whose parent is a
file, (b) a folder where the index file should be (SQLite cannot open it), (c) a file where the
``plans`` folder should be, and (d) an index connection switched to ``PRAGMA query_only`` (SQLite
then refuses every write exactly as on a read-only disk: "attempt to write a readonly database").
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from needleplan.cli import main
from needleplan.errors import ImageBindingError, LibraryError, PlanFormatError
from needleplan.library import Library, verify

DATA = Path(__file__).parent / "data" / "real_dicom"


def make_plan(**overrides) -> dict:
    plan = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"sop_instance_uid": "1.2.3.4", "frame_index": 0, "pixel_sha256": "c" * 64},
        "calibration": {"source": "MANUAL", "spacing_mm": [0.25, 0.25], "origin_px": [0, 0]},
        "site": "upper_trapezius",
        "patient": {"id": "P-7"},
        "structures": [],
        "needle": {"entry_mm": [0.0, 0.0], "target_mm": [8.0, 6.0], "length_mm": 25.0},
        "author": "Dr Kim",
        "created": "2026-05-01T09:00:00+00:00",
        "notes": "rev 1",
        "findings": [
            {
                "code": "PLEURA_NOT_MARKED",
                "severity": "block",
                "message": "thoracic site and neither pleura nor rib is marked",
                "values": {},
            }
        ],
    }
    plan.update(overrides)
    return plan


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


# -- corrupt plan files ---------------------------------------------------------------------------


def test_truncated_plan_file_is_refused_with_one_line_and_the_library_is_unchanged(tmp_path, capsys):
    lib_dir = tmp_path / "lib"
    good = write(tmp_path / "good.plan.json", make_plan())
    assert main(["library", "add", str(good), "--library", str(lib_dir)]) == 0
    bad = tmp_path / "bad.plan.json"
    bad.write_text(good.read_text()[:120], encoding="utf-8")  # cut off mid-object
    capsys.readouterr()
    assert main(["library", "add", str(bad), "--library", str(lib_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("needleplan: error:") and "not valid JSON" in err
    assert len(err.strip().splitlines()) == 1
    with Library(lib_dir) as lib:
        assert [r["id"] for r in lib.list_plans()] == [1]
        assert verify(lib) == []


def test_plan_with_a_bad_field_names_the_field_and_writes_nothing(tmp_path):
    with Library(tmp_path / "lib") as lib:
        with pytest.raises(PlanFormatError, match="needle.length_mm|length_mm"):
            lib.add(make_plan(needle={"entry_mm": [0, 0], "target_mm": [8, 6], "length_mm": "long"}))
        assert lib.list_plans() == []
        assert list((tmp_path / "lib" / "plans").iterdir()) == []


def test_a_damaged_revision_file_in_the_library_is_named_and_listing_still_works(tmp_path):
    with Library(tmp_path / "lib") as lib:
        lib.add(make_plan())
        lib.save(1, make_plan(notes="rev 2"), expected_revision=1)
        lib.revision_path(1, 2).write_text("{ not json", encoding="utf-8")  # bit rot
        with pytest.raises(LibraryError, match="r0002.plan.json is damaged"):
            lib.load(1)
        assert lib.load(1, 1)["notes"] == "rev 1"
        assert [r["id"] for r in lib.list_plans()] == [1]
        assert any("r0002.plan.json" in p for p in verify(lib))


def test_a_damaged_index_is_rebuilt_from_the_files_and_kept_aside(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as lib:
        lib.add(make_plan())
        lib.submit(1)
        lib.approve(1, reviewer="Dr Bo", comment="ok")
        lib.add(make_plan(site="rhomboid"))
    (root / "index.sqlite").write_bytes(b"this is not an sqlite database" * 100)
    with Library(root) as lib:
        assert lib.rebuilt_from is not None and lib.rebuilt_from.exists()
        rows = {r["id"]: r for r in lib.list_plans()}
        assert rows[1]["status"] == "approved" and rows[1]["reviewer"] == "Dr Bo"
        assert rows[2]["site"] == "rhomboid"
        assert verify(lib) == []


def test_a_deleted_index_is_rebuilt_from_the_files(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as lib:
        lib.add(make_plan())
        lib.save(1, make_plan(notes="rev 2"), expected_revision=1)
    (root / "index.sqlite").unlink()
    with Library(root) as lib:
        assert lib.record(1)["revision"] == 2


# -- a plan for another image ---------------------------------------------------------------------


def test_library_add_with_an_image_the_plan_was_not_made_on_is_refused(tmp_path, capsys):
    plan = write(tmp_path / "p.plan.json", make_plan())
    code = main(
        ["library", "add", str(plan), "--image", str(DATA / "RGB_IMAGE.dcm"), "--library", str(tmp_path / "lib")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "not the one the plan was made on" in err
    assert not (tmp_path / "lib").exists()  # refused before the library was even created


def test_a_revision_for_another_frame_is_refused(tmp_path):
    with Library(tmp_path / "lib") as lib:
        lib.add(make_plan())
        with pytest.raises(ImageBindingError, match="frame_index"):
            lib.save(
                1,
                make_plan(image={"sop_instance_uid": "1.2.3.4", "frame_index": 3, "pixel_sha256": "c" * 64}),
                expected_revision=1,
            )
        assert verify(lib) == [] and lib.record(1)["revision"] == 1


# -- a place that cannot be written (simulated: tests run as root) ------------------------------


def test_library_under_a_file_says_so(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(LibraryError, match="a file is in the way.*--library DIR"):
        Library(blocker / "lib")


def test_index_that_cannot_be_opened_says_so(tmp_path):
    root = tmp_path / "lib"
    (root / "index.sqlite").mkdir(parents=True)
    with pytest.raises(LibraryError, match="cannot open the library index"):
        Library(root)


def test_plans_folder_that_cannot_be_written_leaves_the_index_unchanged(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as lib:
        lib.add(make_plan())
        (root / "plans").rename(tmp_path / "moved")
        (root / "plans").write_text("blocked")  # the plans folder is no longer writable
        with pytest.raises(LibraryError, match="cannot create a plan folder"):
            lib.add(make_plan())
        with pytest.raises(LibraryError, match="cannot write"):
            lib.submit(1)
        assert [(r["id"], r["status"]) for r in lib.list_plans()] == [(1, "draft")]
    with pytest.raises(LibraryError, match="a file is in the way"):
        Library(root)


def test_read_only_index_refuses_writes_before_any_file_is_written(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as lib:
        lib.add(make_plan())
        before = sorted(p.name for p in (root / "plans" / "000001").iterdir())
        lib.conn.execute("PRAGMA query_only=ON")  # as a read-only disk would
        with pytest.raises(LibraryError, match="cannot write to the library index"):
            lib.save(1, make_plan(notes="rev 2"), expected_revision=1)
        with pytest.raises(LibraryError):
            lib.submit(1)
        assert sorted(p.name for p in (root / "plans" / "000001").iterdir()) == before
        assert lib.list_plans()[0]["revision"] == 1  # reading still works


def test_review_of_a_missing_library_says_how_to_start(tmp_path, capsys):
    assert main(["review", "--library", str(tmp_path / "none")]) == 2
    assert "needleplan library add" in capsys.readouterr().err


# -- killed mid-save ------------------------------------------------------------------------------

DRIVER = textwrap.dedent("""
    # Runs outside pytest.  For each kill point k, a forked child saves revision after revision
    # and is killed (SIGKILL) at its k-th file or index operation; the driver then reopens the
    # library (which recovers) and prints what it finds, one JSON line per kill.
    import json, os, signal, sys
    from needleplan.library import Library, verify

    root, plan_path = sys.argv[1], sys.argv[2]
    kills = [int(k) for k in sys.argv[3].split(",")]
    base = json.load(open(plan_path))

    def child(kill_at):
        lib = Library(root)
        steps = [0]

        def step():
            steps[0] += 1
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

        for name in ("fsync", "link", "unlink", "mkdir", "write", "rmdir"):
            real = getattr(os, name)
            def wrapped(*a, _real=real, **k):
                step()
                return _real(*a, **k)
            setattr(os, name, wrapped)

        class Conn:  # every SQL statement is a point to be killed at, COMMIT included
            def __init__(self, real): self.real = real
            def execute(self, *a): step(); return self.real.execute(*a)
            def __getattr__(self, name): return getattr(self.real, name)

        lib._conn = Conn(lib._conn)
        while True:
            rows = lib.list_plans()
            if not rows:
                lib.add(dict(base, notes="rev 1"))
            else:
                pid, rev = rows[0]["id"], rows[0]["revision"]
                lib.save(pid, dict(base, notes=f"rev {rev + 1}"), expected_revision=rev)
                if rev % 2 == 0:
                    lib.submit(pid, by="child")
            row = lib.list_plans()[0]
            print(json.dumps({"saved": row["revision"]}), flush=True)

    if kills == [0]:  # no kill point: save until killed from outside, in this very process
        child(0)
    for k in kills:
        pid = os.fork()
        if pid == 0:
            child(k)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        with Library(root) as lib:  # opening recovers interrupted saves from the journal
            rows = lib.list_plans()
            notes = []
            if rows:
                notes = [lib.load(rows[0]["id"], r)["notes"]
                         for r in range(1, rows[0]["revision"] + 1)]
            print(json.dumps({"kill_at": k, "signal": os.WTERMSIG(status)
                              if os.WIFSIGNALED(status) else None,
                              "plans": len(rows), "problems": verify(lib),
                              "journal": os.listdir(os.path.join(root, "journal")),
                              "folders": os.listdir(os.path.join(root, "plans")),
                              "revision": rows[0]["revision"] if rows else 0,
                              "notes": notes}), flush=True)
""")


def _run_driver(tmp_path: Path, kills: list[int]) -> list[dict]:
    root = tmp_path / "lib"
    plan_path = write(tmp_path / "p.plan.json", make_plan())
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    proc = subprocess.run(
        [sys.executable, str(script), str(root), str(plan_path), ",".join(map(str, kills))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line]


def test_a_save_killed_at_every_step_leaves_the_library_consistent(tmp_path):
    # kill at the k-th file or index operation of the child: every point of an add, of a save
    # over it and of a submit is hit, some of them several times
    lines = _run_driver(tmp_path, list(range(1, 61)) + [61, 75, 90, 120])
    acknowledged, reports = 0, 0
    for line in lines:
        if "saved" in line:
            acknowledged = max(acknowledged, line["saved"])
            continue
        reports += 1
        assert line["signal"] == signal.SIGKILL, line
        assert line["problems"] == [], line
        assert line["journal"] == [], line  # every interrupted save was recovered
        assert line["plans"] <= 1 and len(line["folders"]) == line["plans"], line
        # no earlier revision lost or half-written, and no acknowledged save lost
        assert line["notes"] == [f"rev {r}" for r in range(1, line["revision"] + 1)], line
        assert line["revision"] >= acknowledged, line
    assert reports == 64
    assert acknowledged >= 3  # the kills reached saves over saves, not only the first add


def test_a_save_killed_at_random_moments_leaves_the_library_consistent(tmp_path):
    root = tmp_path / "lib"
    plan_path = write(tmp_path / "p.plan.json", make_plan())
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    rng = random.Random(20260301)
    acknowledged = 0
    for _ in range(4):
        # kill point 0 never fires: the driver saves until the signal comes from here
        proc = subprocess.Popen(
            [sys.executable, str(script), str(root), str(plan_path), "0"], stdout=subprocess.PIPE, text=True
        )
        # kill after the first acknowledged save, however slow the machine is at importing, then
        # at a seeded moment within the saves that follow (the assertions do not depend on it)
        first = proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.5))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        saved = [json.loads(line)["saved"] for line in (first + out).splitlines() if '"saved"' in line]
        acknowledged = max([acknowledged, *saved])
        with Library(root) as lib:
            assert verify(lib) == []
            assert not list((root / "journal").iterdir())
            rows = lib.list_plans()
            revision = rows[0]["revision"] if rows else 0
            assert revision >= acknowledged
            for r in range(1, revision + 1):
                assert lib.load(rows[0]["id"], r)["notes"] == f"rev {r}"
    assert acknowledged >= 1
