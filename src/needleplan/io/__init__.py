"""Loading images: DICOM (ultrasound single frame and cine, CT/MR, ...), plain PNG/JPEG, video, folders.

:func:`read_info` reads the header only; :func:`open_image` returns a :class:`LoadedImage` whose
frames are decoded one at a time when asked for (opening a 1,000-frame cine and showing frame 0
decodes one frame).  Frames are display-ready: YBR converted to RGB, PALETTE COLOR through its
lookup table (8-bit RGB), MONOCHROME1 inverted; other values are the stored ones (CT stays int16,
no rescale or window).  Calibration comes from :mod:`needleplan.calibration`; plain images are
uncalibrated (source ``NONE``).  Video (MP4/MOV/AVI, and DICOM with an MPEG-2, H.264 or HEVC
transfer syntax) is decoded through PyAV from the key frame before the frame asked for
(:mod:`needleplan.io._video`).

Bad input raises :class:`~needleplan.errors.ImageReadError` (not an image, folder without one),
:class:`~needleplan.errors.DicomReadError` (no or truncated pixel data, file cut off) or
:class:`~needleplan.errors.UnsupportedCodecError` (naming the transfer syntax and what to install).
"""

from __future__ import annotations

import os
from pathlib import Path

from needleplan.errors import ImageReadError
from needleplan.io._model import FrameSource, ImageInfo, LazyFrames, LoadedImage

__all__ = ["ImageInfo", "LoadedImage", "LazyFrames", "read_info", "open_image", "find_first_image"]


def _source(path: Path) -> FrameSource:
    from needleplan.io._dicom import DicomSource, looks_like_dicom
    from needleplan.io._plain import PlainSource, looks_like_plain_image
    from needleplan.io._video import DicomVideoSource, PlainVideoSource, is_video_dicom, looks_like_video

    if looks_like_dicom(path):
        return DicomVideoSource(path) if is_video_dicom(path) else DicomSource(path)
    fmt = looks_like_plain_image(path)
    if fmt is not None:
        return PlainSource(path, fmt)
    fmt = looks_like_video(path)
    if fmt is not None:
        return PlainVideoSource(path, fmt)
    return DicomSource(path)  # a DICOM file without preamble is recovered there, or refused


def _resolve(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.exists():
        raise ImageReadError(f"{p}: no such file or folder")
    if p.is_dir():
        return find_first_image(p)
    return p


def find_first_image(folder: str | os.PathLike[str]) -> Path:
    """The first file (sorted by name, hidden files skipped, not recursive) that reads as an image."""
    folder = Path(folder)
    candidates = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    first_error = None
    for candidate in candidates:
        try:
            _source(candidate)
        except ImageReadError as exc:
            first_error = first_error or str(exc)
            continue
        return candidate
    detail = f" (first problem: {first_error})" if first_error else ""
    raise ImageReadError(
        f"{folder}: no readable DICOM, PNG or JPEG image in this folder ({len(candidates)} file(s) tried){detail}"
    )


def read_info(path: str | os.PathLike[str]) -> ImageInfo:
    """Header, calibration and timing of an image; decodes no pixels.

    The pixel data's structure is checked (present, long enough, not cut off) and a decoder for its
    transfer syntax must be installed, so a file that ``read_info`` accepts can be opened.
    """
    return _source(_resolve(path)).info


def open_image(path: str | os.PathLike[str]) -> LoadedImage:
    """Open a DICOM file, a PNG/JPEG image, an MP4/MOV/AVI video, or a folder (its first readable image), lazily."""
    return LoadedImage(_source(_resolve(path)))
