"""Plain PNG/JPEG frames (screenshots, exported stills): uncalibrated until the user calibrates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from needleplan.calibration import Calibration
from needleplan.errors import ImageReadError
from needleplan.io._model import ImageInfo

__all__ = ["PlainSource", "looks_like_plain_image", "file_head"]

_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
PLAIN_REASON = (
    "a plain {fmt} image carries no calibration; calibrate with two points of known "
    "distance (e.g. two 1 cm ticks of the depth ruler)"
)


def file_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of a file (fewer for a short one, none if it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError:
        return b""


def looks_like_plain_image(path: Path) -> str | None:
    """'PNG' or 'JPEG' by the file's magic bytes, else None."""
    head = file_head(path, 8)
    return next((fmt for magic, fmt in _MAGIC.items() if head.startswith(magic)), None)


class PlainSource:
    """A PNG/JPEG file; each frame (one, or several for an animated PNG) is decoded on demand."""

    def __init__(self, path: Path, fmt: str) -> None:
        from PIL import Image, UnidentifiedImageError

        self.path = path
        try:
            with Image.open(path) as im:
                columns, rows = im.size
                frames = int(getattr(im, "n_frames", 1) or 1)
                mode = im.mode
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise ImageReadError(f"{path.name}: not a readable {fmt} image ({' '.join(str(exc).split())})") from None
        self._grey = mode in ("L", "I;16", "I;16B", "I;16L", "I", "1")
        cal = Calibration(
            source="NONE",
            spacing_mm=None,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason=PLAIN_REASON.format(fmt=fmt),
        )
        self.info = ImageInfo(
            path=str(path),
            modality=None,
            rows=rows,
            columns=columns,
            frames=frames,
            samples_per_pixel=1 if self._grey else 3,
            photometric="MONOCHROME2" if self._grey else "RGB",
            transfer_syntax_uid=None,
            sop_instance_uid=None,
            sop_class_uid=None,
            frame_time_ms=None,
            frame_times_ms=None,
            regions=(),
            calibration=cal,
        )

    def decode(self, index: int) -> np.ndarray:
        from PIL import Image

        try:
            with Image.open(self.path) as im:
                im.seek(index)
                if im.mode in ("L", "1"):
                    return np.asarray(im.convert("L"))
                if self._grey:
                    return np.asarray(im).astype(np.uint16)
                return np.asarray(im.convert("RGB"))
        except (OSError, ValueError, EOFError) as exc:
            raise ImageReadError(f"{self.path.name}: frame {index} could not be decoded ({exc})") from None

    def frame_sha256(self, index: int) -> str:
        """For a plain image the decoded pixels are what is stored (PNG) or the only stable form."""
        arr = np.ascontiguousarray(self.decode(index))
        return hashlib.sha256(arr.tobytes()).hexdigest()
