"""The ``needleplan`` command.

Each subcommand lives in its own module in this package, named like the subcommand, and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code).  Modules are discovered, so adding a
subcommand never edits this file.  When the first argument names a subcommand, only that module
is imported: ``needleplan info`` does not pay for importing napari-free but heavy modules such as
the phantom or the PACS client.

Bad input exits non-zero with one line on stderr (``needleplan: error: ...``), never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from needleplan import __version__
from needleplan.errors import NeedleplanError

__all__ = ["main", "build_parser"]

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr, like every other error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("needleplan").strip()
        where = f"{command}: " if command else ""
        self.exit(
            EXIT_BAD_INPUT,
            f"needleplan: error: {where}{_one_line_text(message)} "
            f"(see 'needleplan {command + ' ' if command else ''}--help')\n",
        )


def _subcommand_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with the discovered subcommands registered (or just ``only``)."""
    parser = _Parser(
        prog="needleplan",
        description="Plan ultrasound-guided needle procedures in calibrated millimetres.",
    )
    parser.add_argument("--version", action="version", version=f"needleplan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = _subcommand_names()
    if only is not None and only in names:
        names = [only]
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        print(f"needleplan {__version__}")
        return 0
    parser = build_parser(only=argv[0] if argv else None)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return _run_worded(func, args)
    except BrokenPipeError:  # `needleplan review | head`: the reader left; not an error of ours
        _silence_stdout()
        return 0
    except NeedleplanError as exc:
        print(f"needleplan: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, ValueError) as exc:  # a file that is not there, a number that is not one
        print(f"needleplan: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except MemoryError:
        print(
            "needleplan: error: not enough memory for this request; ask for fewer frames or a smaller "
            "image, or close other programs",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("needleplan: interrupted", file=sys.stderr)
        return 130


def _run_worded(func: Any, args: argparse.Namespace) -> int:
    """Run a subcommand; the libraries' Python warnings become one worded note line each.

    Deprecation warnings (pydantic's, numpy's) concern the program, not the image or plan, and are
    not shown; pydicom's warnings about the file (a value of the wrong length, an unknown VR) are
    said once each as ``needleplan: note: the file ...`` after the command's output.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return int(func(args) or 0)
        finally:
            _print_notes(caught)


def _print_notes(caught: list[warnings.WarningMessage]) -> None:
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        text = _one_line_text(str(w.message))
        if text in seen:
            continue
        seen.add(text)
        source = "the DICOM reader" if "pydicom" in (w.filename or "") else "a library needleplan uses"
        print(
            f"needleplan: note: {source} reported a problem with the input (it was read anyway; check "
            f"the result): {text[:200]}",
            file=sys.stderr,
        )


def _silence_stdout() -> None:
    """Point stdout at devnull so the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# What a user does about a file-system error the code did not word itself (errno -> advice).
_OS_ADVICE = {
    errno.ENOENT: "no such file or folder; check the path",
    errno.EISDIR: "is a folder; give a file path",
    errno.ENOTDIR: "a part of this path is a file, not a folder; check the path",
    errno.EEXIST: "a file is in the way; choose another path",
    errno.EACCES: "permission denied; choose a file or folder you may use",
    errno.EPERM: "permission denied; choose a file or folder you may use",
    errno.EROFS: "the disk is read-only; choose a writable folder",
    errno.ENOSPC: "the disk is full; free space and try again",
}


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.errno in _OS_ADVICE:
        # str() of a raw OSError is "[Errno 2] No such file or directory: 'x'": say it in words
        worded = exc.strerror if exc.strerror and exc.strerror != os.strerror(exc.errno) else None
        return _one_line_text(f"{exc.filename}: {worded or _OS_ADVICE[exc.errno]}")
    return _one_line_text(str(exc) or exc.__class__.__name__)


def _one_line_text(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
