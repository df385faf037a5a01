"""``needleplan view [IMAGE | PLAN]``: napari with the Needle Plan widget docked.

With no argument the bundled sample opens (generated on first use by :mod:`needleplan.samples`).
This module only checks its argument; the window is opened by the napari plugin, found through its
napari entry point, so the headless core never imports a GUI toolkit or the plugin by name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from needleplan.errors import NeedleplanError

__all__ = ["register", "run", "default_sample", "PLUGIN"]

PLUGIN = "needleplan-napari"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "view",
        help="open napari with the Needle Plan widget docked",
        description="Open an ultrasound DICOM (file or folder) or a plan file in napari with the "
        "Needle Plan widget docked; with no argument, the bundled sample.",
    )
    p.add_argument("path", nargs="?", help="a DICOM file or folder, or a .plan.json file")
    p.set_defaults(func=run)


def default_sample() -> Path:
    """The sample plan opened when no path is given (generated on first use, no clone needed)."""
    from needleplan.samples import DEFAULT_SAMPLE, sample_plan

    return sample_plan(DEFAULT_SAMPLE)


def _launcher() -> Callable[..., Any]:
    """The plugin's ``launch`` function, found through napari's plugin entry point.

    The core never imports the plugin by name: it asks the installed distributions which one
    declares the ``needleplan-napari`` napari manifest.
    """
    from importlib import import_module
    from importlib.metadata import entry_points

    found = entry_points(group="napari.manifest", name=PLUGIN)
    if not found:
        raise NeedleplanError(
            f"the napari plugin is not installed: pip install {PLUGIN} and a Qt binding (for example PyQt6)"
        )
    module = next(iter(found)).module
    try:
        return import_module(f"{module}._launch").launch
    except ImportError as exc:  # napari or Qt missing
        raise NeedleplanError(
            f"the {PLUGIN} plugin cannot start ({exc}); install napari with a Qt binding: pip install {PLUGIN} PyQt6"
        ) from exc


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
    return _launcher()(path, is_plan=_is_plan(path))
