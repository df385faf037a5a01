"""Reader contribution: ultrasound DICOM (file or series folder) or a video cine as an image layer,
and plan files (``*.plan.json``) as their image with the plan's marks and needle.

DICOM opens in millimetres when calibrated; an MP4/MOV/AVI cine (decoded lazily through PyAV by the
core) opens in pixels, uncalibrated, until a two-point calibration; a plan opens in the plan's
millimetres.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#readers

``get_reader`` is cheap and never raises: it reads at most 132 bytes of a few files and returns
``None`` for anything that is neither DICOM, a video nor a plan file (and for an empty folder); a plan
file is recognised by its name (:func:`needleplan.viewing.is_plan_path`).  The function it returns does
the real work through :func:`needleplan.io.open_image`, which decodes frames lazily; errors from
there are typed ``NeedleplanError``\\ s with a one-line message that napari shows to the user.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["get_reader", "read_dicom", "read_plan", "looks_like_dicom"]

_SUFFIXES = (".dcm", ".dicom")
_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")  # also in napari.yaml's filename_patterns
_MAX_DIR_ENTRIES = 200  # a series folder is judged by its first entries only (cheap)


def looks_like_dicom(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` is a file that starts like DICOM; reads at most 132 bytes, never raises.

    Policy: a file is claimed if it has the ``DICM`` magic at byte 128 (a conformant file), or if
    its name ends in ``.dcm``/``.dicom`` and it is not empty (preamble-less data sets such as
    ``no_meta.dcm``: the core recovers them, or the reader raises a one-line ``DicomReadError``
    that napari shows).  Extensionless files need the magic.
    """
    try:
        p = Path(path)
        if not p.is_file():
            return False
        with p.open("rb") as fh:
            head = fh.read(132)
    except (OSError, ValueError, TypeError):
        return False
    if len(head) == 132 and head[128:132] == b"DICM":
        return True
    return p.suffix.lower() in _SUFFIXES and len(head) > 0


def _folder_has_dicom(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            for n, entry in enumerate(entries):
                if n >= _MAX_DIR_ENTRIES:
                    return False
                if entry.is_file() and looks_like_dicom(entry.path):
                    return True
    except OSError:
        return False
    return False


def _accepts(path: Any) -> bool:
    try:
        p = Path(path)
    except TypeError:
        return False
    try:
        if p.is_dir():
            return _folder_has_dicom(p)
    except OSError:
        return False
    return looks_like_dicom(p) or _looks_like_video(p)


def _looks_like_video(p: Path) -> bool:
    """A non-empty file named like a video; the core reads its content (or refuses in one line)."""
    try:
        return p.suffix.lower() in _VIDEO_SUFFIXES and p.is_file() and p.stat().st_size > 0
    except OSError:
        return False


def _is_plan_file(path: Any) -> bool:
    from needleplan.viewing import is_plan_path

    try:
        return is_plan_path(path) and Path(path).is_file()
    except (OSError, TypeError, ValueError):
        return False


def get_reader(path: Any) -> Callable[[Any], list[tuple]] | None:
    """Return :func:`read_plan` if every path is a plan file, :func:`read_dicom` if every path is
    DICOM (or a folder holding DICOM) or a video, else ``None``.

    Never raises: napari reports its own "no reader" error when this returns ``None``.
    """
    try:
        paths: Sequence[Any] = path if isinstance(path, (list, tuple)) else [path]
        if paths and all(_is_plan_file(p) for p in paths):
            return read_plan
        if not paths or not all(_accepts(p) for p in paths):
            return None
    except Exception:  # noqa: BLE001 - the npe2 contract: get_reader never raises
        return None
    return read_dicom


def read_dicom(path: Any) -> list[tuple]:
    """Open each DICOM path as one image layer whose world coordinates are millimetres.

    Raises
    ------
    needleplan.errors.ImageReadError
        If the file cannot be decoded (napari shows the one-line message).
    """
    from needleplan.io import open_image
    from needleplan_napari._layers import image_layer_data

    paths = path if isinstance(path, (list, tuple)) else [path]
    return [image_layer_data(open_image(p)) for p in paths]


def read_plan(path: Any) -> list[tuple]:
    """Open each plan file as its image (in mm, with the plan's calibration), its marks and needle.

    Raises
    ------
    needleplan.errors.NeedleplanError
        An invalid plan, a missing image, or an image that is not the one the plan was made on
        (napari shows the one-line message).
    """
    from needleplan_napari._plan_layers import plan_layers

    paths = path if isinstance(path, (list, tuple)) else [path]
    return [layer for p in paths for layer in plan_layers(p)]
