"""``needleplan view [IMAGE | PLAN]``: napari with the Needle Plan widget docked.

With no argument the bundled sample opens.  This module only checks its argument; the window is
opened by the napari plugin (``needleplan_napari._launch``), so the headless core never imports a
GUI toolkit.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from needleplan.errors import NeedleplanError

__all__ = ["register", "run", "default_sample", "sample_folder"]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "view",
        help="open napari with the Needle Plan widget docked",
        description="Open an ultrasound DICOM (file or folder) or a plan file in napari with the "
        "Needle Plan widget docked; with no argument, the bundled sample.",
    )
    p.add_argument("path", nargs="?", help="a DICOM file or folder, or a .plan.json file")
    p.set_defaults(func=run)


def sample_folder() -> Path:
    """The repository's ``sample_dicom/`` folder (bundled synthetic cases with reference plans)."""
    return Path(__file__).resolve().parents[3] / "sample_dicom"


def default_sample() -> Path:
    """The bundled sample plan (``sample_dicom/*.plan.json``) opened when no path is given."""
    folder = sample_folder()
    plans = sorted(folder.glob("*.plan.json"))
    if not plans:
        raise NeedleplanError(f"no bundled sample found in {folder}; run `make samples`, or pass an image")
    preferred = [p for p in plans if "trapezius" in p.name]
    return (preferred or plans)[0]


def _is_plan(path: Path) -> bool:
    return path.is_file() and path.name.endswith(".json")


def run(args: argparse.Namespace) -> int:
    """Open the viewer, dock the widget, load the image or plan, and run the Qt event loop."""
    path = Path(args.path) if args.path else default_sample()
    if not path.exists():
        raise NeedleplanError(f"{path}: no such file or folder")
    if not _is_plan(path):
        from needleplan.io import read_info

        read_info(path)  # a bad file fails here, in one line, before a window opens
    try:
        from needleplan_napari._launch import launch
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise NeedleplanError("the napari plugin is not installed: pip install -e plugins/needleplan-napari") from exc
    return launch(path, is_plan=_is_plan(path))
