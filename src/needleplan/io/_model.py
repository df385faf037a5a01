"""The loaded-image values: :class:`ImageInfo`, :class:`LoadedImage` and :class:`LazyFrames`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from needleplan.calibration import Calibration, UltrasoundRegion
from needleplan.errors import ImageReadError

__all__ = ["ImageInfo", "LoadedImage", "LazyFrames", "FrameSource"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageInfo:
    """What the header says about an image; no pixel data is decoded to build it.

    ``frame_times_ms`` are cumulative (the first is 0); both timing fields are None for a single
    frame or when the file gives no timing.  ``notes`` are things a user should know about how the
    file was read (a recovered header, a timing fallback, a pydicom warning).
    """

    path: str
    modality: str | None
    rows: int
    columns: int
    frames: int
    samples_per_pixel: int
    photometric: str | None
    transfer_syntax_uid: str | None
    sop_instance_uid: str | None
    sop_class_uid: str | None
    frame_time_ms: float | None
    frame_times_ms: tuple[float, ...] | None
    regions: tuple[UltrasoundRegion, ...]
    calibration: Calibration
    notes: tuple[str, ...] = ()

    @property
    def is_rgb(self) -> bool:
        """Frames come out as (rows, cols, 3): colour samples or a palette."""
        return self.samples_per_pixel == 3 or (self.photometric or "").upper() == "PALETTE COLOR"


class FrameSource(Protocol):
    info: ImageInfo

    def decode(self, index: int) -> np.ndarray: ...

    def frame_sha256(self, index: int) -> str: ...


class LoadedImage:
    """An opened image; nothing is decoded until a frame is asked for.

    ``frame(i)`` is display-ready ((rows, cols) or (rows, cols, 3)); the last few decoded frames are
    kept so napari paging back and forth does not decode twice.
    """

    CACHE_FRAMES = 8

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self.info: ImageInfo = source.info
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.frames = LazyFrames(self)
        #: how many frames were decoded so far (cache misses); lets tests prove laziness
        self.decode_count = 0

    def _check(self, index: Any) -> int:
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise ImageReadError(f"frame index must be an integer, got {index!r}") from None
        if i != index or not 0 <= i < self.info.frames:
            raise ImageReadError(
                f"frame {index} does not exist: {self.info.path} has {self.info.frames} frame(s), "
                f"numbered 0 to {self.info.frames - 1}"
            )
        return i

    def frame(self, index: int) -> np.ndarray:
        """Display-ready frame ``index`` (0-based); read-only, shared with the cache."""
        i = self._check(index)
        with self._lock:
            cached = self._cache.get(i)
            if cached is not None:
                self._cache.move_to_end(i)
                return cached
        arr = np.asarray(self._source.decode(i))
        arr.setflags(write=False)
        with self._lock:
            self.decode_count += 1
            self._cache[i] = arr
            while len(self._cache) > self.CACHE_FRAMES:
                self._cache.popitem(last=False)
        return arr

    def frame_sha256(self, index: int) -> str:
        """Hex sha256 of the frame's stored bytes (fragments for compressed data, else native bytes)."""
        return self._source.frame_sha256(self._check(index))

    def __repr__(self) -> str:
        i = self.info
        return f"LoadedImage({i.path!r}, {i.frames} x {i.rows} x {i.columns}, {i.calibration.source})"


class LazyFrames:
    """Array-like ``(frames, rows, cols[, 3])`` view for napari; decodes only the frames indexed.

    Examples
    --------
    >>> import numpy as np
    >>> class Stub:  # a frame source of 3 frames of 2x2, frame i filled with i
    ...     info = ImageInfo(path="x", modality=None, rows=2, columns=2, frames=3, samples_per_pixel=1,
    ...                      photometric="MONOCHROME2", transfer_syntax_uid=None, sop_instance_uid=None,
    ...                      sop_class_uid=None, frame_time_ms=None, frame_times_ms=None, regions=(),
    ...                      calibration=Calibration(source="NONE", spacing_mm=None, origin_px=(0.0, 0.0),
    ...                                              region_index=None, region_box_px=None, reason="test"))
    ...     def decode(self, i): return np.full((2, 2), i, dtype=np.uint8)
    ...     def frame_sha256(self, i): return ""
    >>> img = LoadedImage(Stub())
    >>> img.frames.shape, img.frames[2, 0, 1], img.decode_count
    ((3, 2, 2), np.uint8(2), 1)
    """

    def __init__(self, image: LoadedImage) -> None:
        self._image = image
        info = image.info
        self.shape: tuple[int, ...] = (info.frames, info.rows, info.columns) + ((3,) if info.is_rgb else ())
        self.ndim = len(self.shape)
        self._dtype: np.dtype | None = None

    @property
    def dtype(self) -> np.dtype:
        """Decodes frame 0 the first time (which a viewer shows first anyway)."""
        if self._dtype is None:
            self._dtype = self._image.frame(0).dtype
        return self._dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if key and key[0] is Ellipsis:
            key = (slice(None),) * (self.ndim - len(key) + 1) + key[1:]
        first, rest = (key[0], key[1:]) if key else (slice(None), ())
        if isinstance(first, (int, np.integer)):
            i = int(first)
            if i < 0:
                i += self.shape[0]
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"frame index {first} out of range for {self.shape[0]} frames")
            return self._image.frame(i)[rest]
        indices = np.arange(self.shape[0])[first]
        stack = np.stack([self._image.frame(int(i)) for i in np.atleast_1d(indices)])
        return stack[(slice(None),) + rest]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self[:]
        return arr if dtype is None else arr.astype(dtype)

    def __repr__(self) -> str:
        return f"LazyFrames(shape={self.shape})"
