"""Preparing a frame for the detectors: grey levels, the calibrated region, the working scale.

The detectors work in pixels of a *working grid*: the calibrated region of the frame, converted to
grey and, when the pixels are much finer than the detectors need, averaged down by an integer
factor.  :class:`FrameView` keeps the mapping back to image indices so every result is reported in
image ``(row, col)`` pixels, and only :mod:`needleplan.detect.results` turns pixels into world
millimetres through the image's calibration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi

from needleplan.calibration._plausible import spacing_problem
from needleplan.errors import CalibrationError, ImageReadError

__all__ = [
    "FrameView",
    "prepare_frame",
    "to_gray",
    "ASSUMED_FIELD_DEPTH_MM",
    "WORK_SPACING_MM",
    "MIN_FRAME_PX",
    "MIN_WORK_PX",
]

#: Working resolution: finer pixels are block-averaged to about this size.  0.2 mm is below the
#: ~0.3-0.5 mm axial resolution of a 10-15 MHz linear probe (docs/clinical-rules.md 1I, Nerve row:
#: "10-15 MHz resolves fascicles"), so nothing a physician marks is lost.
WORK_SPACING_MM = 0.2

#: The smallest frame (or calibrated region) the detectors analyse, pixels per axis: a 16-pixel strip
#: holds no ultrasound anatomy, and the filters need a few pixels on each side of a line.
MIN_FRAME_PX = 16

#: Block averaging never shrinks the working grid below this many pixels per axis, whatever the
#: mm/px: the filters' sizes then stay a bounded number of pixels and the work follows the pixel count.
MIN_WORK_PX = 32

#: Without a length calibration the detectors still need a size scale for their filters; they assume
#: the frame is this deep.  Results are then reported in pixels only, never in millimetres.
ASSUMED_FIELD_DEPTH_MM = 40.0


def to_gray(frame: Any) -> np.ndarray:
    """Return a float32 grey-level copy of a display-ready frame.

    Parameters
    ----------
    frame : array_like
        ``(rows, cols)`` grey or ``(rows, cols, 3|4)`` colour pixels.

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` float32 luminance (ITU-R BT.601 weights for colour).

    Examples
    --------
    >>> float(to_gray(np.full((2, 3, 3), 100, np.uint8))[0, 0])
    100.0
    """
    arr = np.asarray(frame)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):
        out = arr[..., 0].astype(np.float32)
        out *= np.float32(0.299)
        out += np.float32(0.587) * arr[..., 1]
        out += np.float32(0.114) * arr[..., 2]
        return out
    if arr.ndim != 2:
        raise ImageReadError(
            f"expected one frame of shape (rows, cols) or (rows, cols, 3), got {arr.shape}; pick a frame with --frame"
        )
    return arr.astype(np.float32)


@dataclass(frozen=True, slots=True)
class FrameView:
    """One frame on the detectors' working grid.

    Attributes
    ----------
    image : numpy.ndarray
        Working-grid grey levels, float32, scaled so the tissue's bright speckle is about 1.
    box_px : tuple of int
        ``(min_row, min_col, max_row, max_col)`` inclusive: the part of the image analysed.
    factor : int
        Block-averaging factor from image pixels to working pixels.
    spacing_mm : tuple of float
        Working-pixel size ``(row, col)`` in mm (assumed when ``calibrated`` is False).
    calibrated : bool
        Whether ``spacing_mm`` comes from a real length calibration.
    scale : float
        The grey level that was mapped to 1.
    """

    image: np.ndarray
    box_px: tuple[int, int, int, int]
    factor: int
    spacing_mm: tuple[float, float]
    calibrated: bool
    scale: float

    def mm_to_work(self, length_mm: float, axis: int = 0) -> float:
        """A length in mm as working pixels along ``axis`` (0 rows, 1 columns)."""
        return float(length_mm) / self.spacing_mm[axis]

    def work_to_image(self, rc_work: Any) -> np.ndarray:
        """Map working-grid ``(row, col)`` points (N, 2) to image indices (N, 2).

        Examples
        --------
        >>> v = FrameView(np.zeros((2, 2), np.float32), (10, 20, 13, 23), 2, (0.2, 0.2), True, 1.0)
        >>> v.work_to_image([[0.0, 1.0]]).tolist()
        [[10.5, 22.5]]
        """
        pts = np.asarray(rc_work, dtype=float).reshape(-1, 2)
        offset = np.array([self.box_px[0], self.box_px[1]], dtype=float)
        return pts * self.factor + (self.factor - 1) / 2.0 + offset

    def image_to_work(self, rc_image: Any) -> np.ndarray:
        """Inverse of :meth:`work_to_image`."""
        pts = np.asarray(rc_image, dtype=float).reshape(-1, 2)
        offset = np.array([self.box_px[0], self.box_px[1]], dtype=float)
        return (pts - offset - (self.factor - 1) / 2.0) / self.factor


def _analysis_box(shape: tuple[int, int], calibration: Any) -> tuple[int, int, int, int]:
    rows, cols = shape
    box = getattr(calibration, "region_box_px", None) if calibration is not None else None
    if box is None:
        return (0, 0, rows - 1, cols - 1)
    r0, c0, r1, c1 = (int(v) for v in box)
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(r1, rows - 1), min(c1, cols - 1)
    if r1 - r0 < 8 or c1 - c0 < 8:
        return (0, 0, rows - 1, cols - 1)
    return (r0, c0, r1, c1)


def spacing_of(calibration: Any, shape: tuple[int, int]) -> tuple[tuple[float, float], bool]:
    """Pixel size ``(row, col)`` in mm and whether it is a real calibration."""
    if calibration is not None and getattr(calibration, "is_calibrated", False):
        sr, sc = calibration.spacing_mm
        implausible = spacing_problem((sr, sc))
        if implausible:  # a hand-made or plan calibration: the readers already refuse these
            raise CalibrationError(
                f"the calibration is not used: {implausible}; calibrate the image again "
                "with two points of known distance"
            )
        return (float(sr), float(sc)), True
    assumed = ASSUMED_FIELD_DEPTH_MM / max(shape[0], 1)
    return (assumed, assumed), False


def prepare_frame(frame: Any, calibration: Any = None, *, scale: float | None = None) -> FrameView:
    """Crop a frame to its calibrated region, convert to grey and reduce to the working grid.

    Parameters
    ----------
    frame : array_like
        A display-ready frame ``(rows, cols)`` or ``(rows, cols, 3)``.
    calibration : Calibration or None
        The image's calibration; ``None`` or an uncalibrated one means pixel-only results.
    scale : float, optional
        Grey level mapped to 1; by default the 95th percentile of the region (pass the value of the
        first frame to analyse a cine with one scale).

    Examples
    --------
    >>> v = prepare_frame(np.full((100, 120), 50, np.uint8))
    >>> v.image.shape, v.calibrated
    ((100, 120), False)
    """
    arr = np.asarray(frame)
    shape = arr.shape[:2]
    box = _analysis_box(shape, calibration)
    spacing, calibrated = spacing_of(calibration, shape)
    crop = to_gray(arr[box[0] : box[2] + 1, box[1] : box[3] + 1])
    if min(crop.shape) < MIN_FRAME_PX:
        raise ImageReadError(
            f"the frame (or its calibrated region) is {crop.shape[0]}x{crop.shape[1]} pixels; "
            f"detect needs at least {MIN_FRAME_PX}x{MIN_FRAME_PX}: open the full ultrasound image"
        )
    factor = max(1, int(np.floor(WORK_SPACING_MM / max(min(spacing), 1e-6))))
    factor = min(factor, max(1, min(crop.shape) // MIN_WORK_PX))
    if factor > 1:
        rows = (crop.shape[0] // factor) * factor
        cols = (crop.shape[1] // factor) * factor
        crop = crop[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    if scale is None:
        scale = float(np.percentile(crop, 95)) if crop.size else 1.0
    scale = scale if scale > 1e-6 else 1.0
    work = np.ascontiguousarray(crop / np.float32(scale), dtype=np.float32)
    return FrameView(
        image=work,
        box_px=box,
        factor=factor,
        spacing_mm=(spacing[0] * factor, spacing[1] * factor),
        calibrated=calibrated,
        scale=scale,
    )


def smooth(view: FrameView, sigma_mm: float) -> np.ndarray:
    """Gaussian-smoothed working image with an isotropic ``sigma_mm``."""
    sig = (view.mm_to_work(sigma_mm, 0), view.mm_to_work(sigma_mm, 1))
    return ndi.gaussian_filter(view.image, sig, mode="nearest")
