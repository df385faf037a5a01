"""The command's dispatcher: version, no subcommand, one-line errors, a closed pipe."""

from __future__ import annotations

import subprocess
import sys

from needleplan import __version__
from needleplan.cli import build_parser, main


def test_version_prints_without_loading_subcommands(capsys) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"needleplan {__version__}"


def test_no_subcommand_prints_help_and_exits_2(capsys) -> None:
    assert main([]) == 2
    assert "usage: needleplan" in capsys.readouterr().err


def test_every_subcommand_module_registers_a_parser_named_like_it() -> None:
    # The dispatcher imports only the module named by the first argument, so names must match.
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices  # noqa: SLF001
    for name in (
        "info",
        "check",
        "suggest",
        "synth",
        "view",
        "report",
        "review",
        "library",
        "history",
        "sr",
        "deid",
        "score",
        "case",
        "detect",
        "pacs",
    ):
        assert name in choices, name
        assert set(build_parser(only=name)._actions[-1].choices) == {name}  # noqa: SLF001


def test_missing_file_is_one_line_and_exit_2(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "needleplan", "info", str(tmp_path / "nope.dcm")], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("needleplan: error:")
    assert "Traceback" not in proc.stderr


def test_a_reader_that_closes_the_pipe_is_not_an_error() -> None:
    # `true` exits before the interpreter has started, so needleplan writes into a closed pipe.
    image = "tests/data/real_dicom/RGB_IMAGE.dcm"
    script = f"{sys.executable} -m needleplan info --json {image} | true; echo status=${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert "status=0" in proc.stdout
    assert "Broken pipe" not in proc.stderr and "Traceback" not in proc.stderr
