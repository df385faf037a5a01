"""Bad input on the command line: exit 2, ONE line on stderr that says what is wrong and what to do.

Each test here is a defect found by running the commands the way a physician or reviewer would
(docs/contracts.md §6): argparse's multi-line usage errors, raw ``[Errno 2]`` texts naming temporary
files, pydicom's "Use force=True" advice, a typo'd site silently dropping the site's rules, an empty
folder "de-identified" with exit 0, a traceback on an impossible frame count.  Every test also
checks that nothing was written where the command failed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from needleplan.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DCM = ROOT / "sample_dicom" / "upper_trapezius_thin_frame.dcm"
SAMPLE_PLAN = ROOT / "sample_dicom" / "upper_trapezius_thin_frame.plan.json"


def _run(capsys: pytest.CaptureFixture, *argv: str | Path) -> tuple[int, str, str]:
    """Run ``needleplan argv``; argparse errors exit through SystemExit, so catch that too."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(err: str) -> str:
    assert err.count("\n") == 1, err  # exactly one line, newline-terminated
    assert err.startswith("needleplan: error: "), err
    assert "Traceback" not in err and "usage:" not in err and "[Errno" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("synth", "--site", "piriformis", "-o", "x.dcm", "--frames", "x"), ("--frames", "'x'", "synth --help")),
        (("synth", "--site", "nowhere", "-o", "x.dcm"), ("--site", "nowhere", "upper_trapezius")),
        (("review", "show", "abc"), ("'abc'", "not a local library plan id", "--archive URL")),
        (("library", "export", "1", "-o", "x.json", "-r", "q"), ("--revision", "'q'")),
        (("score", "history"), ("ATTEMPT REFERENCE", "score --help")),
        (("detect", str(SAMPLE_DCM), "--frame", "x"), ("--frame", "'x'")),
    ],
)
def test_usage_errors_are_one_line_not_argparse_usage_block(capsys, tmp_path, argv, words) -> None:
    # argparse printed its multi-line usage block before the error (6 lines for synth --site)
    code, out, err = _run(capsys, *argv, "--library", tmp_path) if argv[0] in ("review",) else _run(capsys, *argv)
    assert code == 2 and out == ""
    _one_error_line(err)
    for word in words:
        assert word in err, (word, err)


def test_missing_plan_and_folder_as_plan_are_worded(capsys, tmp_path) -> None:
    # was "[Errno 2] No such file or directory: '...'" and "[Errno 21] Is a directory: '...'"
    code, _, err = _run(capsys, "check", tmp_path / "missing.plan.json")
    assert code == 2 and "missing.plan.json: no such file or folder; check the path" in _one_error_line(err)
    code, _, err = _run(capsys, "check", tmp_path)
    assert code == 2 and "is a folder; give a file path" in _one_error_line(err)


def test_suggest_output_in_a_missing_folder_or_onto_a_folder(capsys, tmp_path) -> None:
    # was "[Errno 2] No such file or directory: '.../nodir/.new.plan.json.d9cfl7ml.tmp'": a temp name
    code, _, err = _run(capsys, "suggest", SAMPLE_PLAN, "-o", tmp_path / "nodir" / "new.plan.json")
    assert code == 2
    assert "folder" in err and "nodir" in err and "does not exist" in _one_error_line(err) and ".tmp" not in err
    assert not (tmp_path / "nodir").exists()
    folder = tmp_path / "out"
    folder.mkdir()
    code, _, err = _run(capsys, "suggest", SAMPLE_PLAN, "-o", folder)
    assert code == 2 and "is a folder" in _one_error_line(err) and ".tmp" not in err
    assert list(folder.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_out_of_memory_is_one_line(capsys, tmp_path, monkeypatch) -> None:
    # `synth --frames 100000` asked numpy for 32.7 GiB and printed a MemoryError traceback.  The
    # real allocation is not made here (it could succeed lazily and swap a shared machine).
    import needleplan.synth

    def _too_big(*_a, **_k):
        raise MemoryError("Unable to allocate 32.7 GiB")

    monkeypatch.setattr(needleplan.synth, "generate_case", _too_big)
    code, _, err = _run(capsys, "synth", "--site", "piriformis", "--frames", "100000", "-o", tmp_path / "c.dcm")
    assert code == 2 and "not enough memory" in _one_error_line(err) and "fewer frames" in err
    assert list(tmp_path.iterdir()) == []


def test_synth_negative_seed_and_folder_output(capsys, tmp_path) -> None:
    # was "expected non-negative integer" (no flag named) and "[Errno 21] Is a directory"
    code, _, err = _run(capsys, "synth", "--site", "piriformis", "--seed", "-5", "-o", tmp_path / "c.dcm")
    assert code == 2 and "--seed must be 0 or more, got -5" in _one_error_line(err)
    code, _, err = _run(capsys, "synth", "--site", "piriformis", "-o", tmp_path)
    assert code == 2 and "is a folder" in _one_error_line(err) and "case.dcm" in err
    assert list(tmp_path.iterdir()) == []


def test_detect_unknown_site_is_refused(capsys) -> None:
    # a typo'd site ran with the generic 'other' profile and exit 0: no rib/bone shadow named
    code, out, err = _run(capsys, "detect", SAMPLE_DCM, "--site", "rhomboyd", "--json")
    assert code == 2 and out == ""
    assert "unknown site 'rhomboyd'" in _one_error_line(err) and "rhomboid" in err


def _library_with_the_sample(capsys, tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    code, out, _ = _run(capsys, "library", "add", SAMPLE_PLAN, "--json", "--library", lib)
    assert code == 0 and json.loads(out)["id"] == 1
    return lib


def test_library_export_bad_outputs_and_overwrite(capsys, tmp_path) -> None:
    lib = _library_with_the_sample(capsys, tmp_path)
    # missing folder: was "...; check the library folder (--library DIR)", the wrong folder to check
    code, _, err = _run(capsys, "library", "export", "1", "-o", tmp_path / "nodir" / "x.json", "--library", lib)
    assert code == 2 and "folder" in _one_error_line(err) and "nodir" in err and "does not exist" in err
    assert "--library" not in err and not (tmp_path / "nodir").exists()
    code, _, err = _run(capsys, "library", "export", "1", "-o", tmp_path, "--library", lib)
    assert code == 2 and "is a folder" in _one_error_line(err)
    # an existing file is replaced by the complete export (it was deleted before the write)
    out_file = tmp_path / "mine.json"
    out_file.write_text("keep me\n")
    code, _, err = _run(capsys, "library", "export", "1", "-o", out_file, "-r", "99", "--library", lib)
    assert code == 2 and "no revision" in _one_error_line(err)
    assert out_file.read_text() == "keep me\n"
    code, _, _ = _run(capsys, "library", "export", "1", "-o", out_file, "--library", lib)
    assert code == 0
    assert json.loads(out_file.read_text())["format"] == "needleplan.plan"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine.json")]  # no staged copy left


def test_deid_of_an_empty_folder_is_an_error(capsys, tmp_path) -> None:
    # exited 0 with "files": [] and created the output folder: nothing was de-identified
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = _run(capsys, "deid", empty, tmp_path / "out", "--json")
    assert code == 2 and out == ""
    assert "no DICOM file found" in _one_error_line(err)
    assert not (tmp_path / "out").exists()


def test_deid_and_sr_import_of_a_text_file_give_no_pydicom_advice(capsys, tmp_path) -> None:
    # was "... (File is missing DICOM File Meta Information header ... Use force=True to force reading.)"
    text = tmp_path / "notes.dcm"
    text.write_text("hello\n")
    code, _, err = _run(capsys, "deid", text, tmp_path / "clean.dcm")
    assert code == 2 and "not a DICOM file" in _one_error_line(err) and "force" not in err
    code, _, err = _run(capsys, "sr", "import", text, "-o", tmp_path / "back.plan.json")
    assert code == 2 and "no DICOM header" in _one_error_line(err) and "force" not in err
    code, _, err = _run(capsys, "sr", "import", tmp_path / "missing.dcm", "-o", tmp_path / "back.plan.json")
    assert code == 2 and "missing.dcm: no such file or folder" in _one_error_line(err)
    assert "SR" not in err  # it did say "not a DICOM SR file ([Errno 2] ...)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.dcm"]


def test_sr_import_of_a_cut_off_report_names_the_file(capsys, tmp_path) -> None:
    sr = tmp_path / "plan.sr.dcm"
    code, _, _ = _run(capsys, "sr", "export", SAMPLE_PLAN, "-o", sr)
    assert code == 0
    cut = tmp_path / "cut.sr.dcm"
    cut.write_bytes(sr.read_bytes()[:2000])
    code, _, err = _run(capsys, "sr", "import", cut, "-o", tmp_path / "back.plan.json")
    assert code == 2 and str(cut) in _one_error_line(err) and "copy it again" in err
    assert not (tmp_path / "back.plan.json").exists()


def test_score_reference_file_missing_is_not_called_a_case(capsys, tmp_path) -> None:
    # was "no teaching case 'ref.plan.json' (looked for .../cases/ref.plan.json/case.json)"
    attempt = tmp_path / "attempt.plan.json"
    shutil.copy(SAMPLE_PLAN, attempt)
    code, _, err = _run(
        capsys,
        "score",
        attempt,
        tmp_path / "ref.plan.json",
        "--cases",
        tmp_path / "cases",
        "--library",
        tmp_path / "lib",
    )
    assert code == 2 and "ref.plan.json: no such plan file" in _one_error_line(err)


def test_suggest_refuses_to_write_over_the_plan_it_reads(capsys, tmp_path) -> None:
    # `suggest mine.plan.json -o mine.plan.json` replaced the physician's drawn needle, exit 0
    mine = tmp_path / "mine.plan.json"
    shutil.copy(SAMPLE_PLAN, mine)
    before = mine.read_bytes()
    code, out, err = _run(capsys, "suggest", mine, "-o", tmp_path / "." / "mine.plan.json", "--json")
    assert code == 2 and out == ""
    assert "is the plan being read" in _one_error_line(err) and "new file" in err
    assert mine.read_bytes() == before


def test_sr_export_and_import_refuse_to_write_over_their_inputs(capsys, tmp_path) -> None:
    # `sr export plan -o image.dcm` overwrote the ultrasound image with the SR (and -o plan the plan)
    image, plan = tmp_path / "img.dcm", tmp_path / "p.plan.json"
    shutil.copy(SAMPLE_DCM, image)
    shutil.copy(SAMPLE_PLAN, plan)
    originals = {p: p.read_bytes() for p in (image, plan)}
    code, _, err = _run(capsys, "sr", "export", plan, "--image", image, "-o", image)
    assert code == 2 and "is the ultrasound image itself" in _one_error_line(err)
    code, _, err = _run(capsys, "sr", "export", plan, "--image", image, "-o", plan)
    assert code == 2 and "is the plan itself" in _one_error_line(err)
    assert {p: p.read_bytes() for p in originals} == originals
    sr = tmp_path / "p_sr.dcm"
    code, _, _ = _run(capsys, "sr", "export", plan, "--image", image, "-o", sr)
    assert code == 0
    sr_bytes = sr.read_bytes()
    code, _, err = _run(capsys, "sr", "import", sr, "-o", sr)
    assert code == 2 and "is the SR being read" in _one_error_line(err)
    assert sr.read_bytes() == sr_bytes


def test_pacs_search_limit_below_one_is_refused_before_any_request(capsys) -> None:
    # --limit -2 asked the PACS nothing and printed "no studies found", exit 0 (nobody listens on port 9)
    code, out, err = _run(
        capsys, "pacs", "search", "--url", "http://127.0.0.1:9/dicom-web", "--timeout", "1", "--limit", "-2", "--json"
    )
    assert code == 2 and out == ""
    assert "--limit must be 1 or more, got -2" in _one_error_line(err)


def test_deid_into_its_own_input_folder_is_refused(capsys, tmp_path) -> None:
    # `deid dd dd` skipped every file (they are inside OUT) and exited 0 having done nothing
    folder = tmp_path / "dd"
    folder.mkdir()
    shutil.copy(SAMPLE_DCM, folder / "scan.dcm")
    code, _, err = _run(capsys, "deid", folder, folder)
    assert code == 2 and "is the input folder" in _one_error_line(err) and "another OUT" in err
    assert [p.name for p in folder.iterdir()] == ["scan.dcm"]


def test_a_damaged_index_says_how_to_repair_and_verify_repair_does_it(capsys, tmp_path) -> None:
    # listing said "file is not a database; check the folder is writable", and `library verify
    # --repair`, the command meant to fix it, failed with the same message
    lib = _library_with_the_sample(capsys, tmp_path)
    (lib / "index.sqlite").write_text("garbage\n")
    code, _, err = _run(capsys, "review", "--library", lib)
    assert code == 2 and "is damaged" in _one_error_line(err) and "library verify --repair" in err
    code, out, err = _run(capsys, "library", "verify", "--repair", "--library", lib)
    assert code == 0 and err == "" and "rebuilt from the plan files" in out and "library consistent" in out
    code, out, _ = _run(capsys, "review", "--json", "--library", lib)
    assert code == 0 and [p["id"] for p in json.loads(out)["plans"]] == [1]
    # --repair where there is no library creates none
    code, _, err = _run(capsys, "library", "verify", "--repair", "--library", tmp_path / "typo")
    assert code == 2 and "no plan library" in _one_error_line(err) and not (tmp_path / "typo").exists()


def test_synth_writes_nothing_when_a_companion_file_cannot_be_written(capsys, tmp_path) -> None:
    # with case.plan.json a folder, case.dcm and case.truth.json were written before the error
    (tmp_path / "case.plan.json").mkdir()
    code, _, err = _run(capsys, "synth", "--site", "piriformis", "-o", tmp_path / "case.dcm")
    assert code == 2 and "case.plan.json: is a folder" in _one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.plan.json"]


def test_library_verify_json_is_one_object(capsys, tmp_path) -> None:
    # verify reports (consistent or not) but took no --json (docs/contracts.md §6)
    lib = _library_with_the_sample(capsys, tmp_path)
    (lib / "index.sqlite").write_text("garbage\n")
    code, out, err = _run(capsys, "library", "verify", "--repair", "--json", "--library", lib)
    report = json.loads(out)
    assert code == 0 and err == "" and report["consistent"] is True and report["problems"] == []
    assert Path(report["damaged_index_kept_as"]).read_text() == "garbage\n"


def test_library_outcome_with_nothing_given_keeps_the_recorded_one(capsys, tmp_path) -> None:
    # `library outcome 1` with no option replaced "pain 7 -> 2" by "no outcome recorded", exit 0
    lib = _library_with_the_sample(capsys, tmp_path)
    code, out, _ = _run(
        capsys, "library", "outcome", "1", "--pain-before", "7", "--pain-after", "2", "--json", "--library", lib
    )
    assert code == 0 and json.loads(out)["outcome_summary"].startswith("pain 7 -> 2")
    code, out, err = _run(capsys, "library", "outcome", "1", "--json", "--library", lib)
    assert code == 2 and out == "" and "no outcome given" in _one_error_line(err) and "--pain-after" in err
    code, out, _ = _run(capsys, "review", "--json", "--library", lib)
    assert json.loads(out)["plans"][0]["outcome_summary"].startswith("pain 7 -> 2")
