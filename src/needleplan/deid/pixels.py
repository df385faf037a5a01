"""Clean Pixel Data for ultrasound: keep the calibrated regions, blank everything else.

Ultrasound scanners burn the patient's name, ID and the date into the frame, outside the image
area (PS3.15 E.3.1: "Ultrasound images routinely do").  The image area is what the Sequence of
Ultrasound Regions calibrates, so the cleaning keeps exactly the usable length regions (2D tissue
or colour flow, cm on both axes, box inside the image; the usual off-by-one box edge is clamped)
and sets every other pixel of every frame to black.  This is the rule of deid's
``deid.dicom.ultrasound`` recipe ("keepcoordinates from:SequenceOfUltrasoundRegions").

Compressed input is decoded and the result is stored uncompressed (Explicit VR Little Endian),
since re-encoding lossy JPEG would add a generation of loss; YBR data is stored as the RGB that
pydicom decodes it to, with PhotometricInterpretation saying so; PALETTE COLOR keeps its indices
and its lookup table.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut

from needleplan.calibration import UltrasoundRegion
from needleplan.errors import DicomReadError, UnsupportedCodecError
from needleplan.io._pixel_module import check_pixel_module

__all__ = ["keep_mask", "kept_boxes", "decode_all_frames", "blank_value", "apply_mask", "store_uncompressed"]


def keep_mask(regions: tuple[UltrasoundRegion, ...], rows: int, cols: int) -> np.ndarray:
    """Boolean (rows, cols) mask of the pixels inside usable length regions.

    Region boxes are inclusive ``(min_row, min_col, max_row, max_col)``; a far edge one past the
    image (``max_col == cols``, seen on Philips CX50) is clamped.

    Examples
    --------
    A 4 x 6 image with one tissue region over rows 1-2, cols 2-6 (col 6 is one past the edge):

    >>> r = UltrasoundRegion(index=0, box_px=(1, 2, 2, 6), spatial_format=1, data_type=1, flags=0, units_row=3,
    ...                      units_col=3, delta_row=0.01, delta_col=0.01, reference_px=None)
    >>> keep_mask((r,), 4, 6).astype(int)
    array([[0, 0, 0, 0, 0, 0],
           [0, 0, 1, 1, 1, 1],
           [0, 0, 1, 1, 1, 1],
           [0, 0, 0, 0, 0, 0]])
    """
    mask = np.zeros((rows, cols), dtype=bool)
    for box in kept_boxes(regions, rows, cols):
        r0, c0, r1, c1 = box
        mask[r0 : r1 + 1, c0 : c1 + 1] = True
    return mask


def kept_boxes(regions: tuple[UltrasoundRegion, ...], rows: int, cols: int) -> tuple[tuple[int, int, int, int], ...]:
    """The clamped boxes of the usable length regions (those that calibrate lengths)."""
    out = []
    for region in regions:
        if region.is_usable:
            r0, c0, r1, c1 = region.box_px
            out.append((max(r0, 0), max(c0, 0), min(r1, rows - 1), min(c1, cols - 1)))
    return tuple(out)


def decode_all_frames(ds: Dataset, source: str) -> tuple[np.ndarray, str]:
    """Decode every frame; return the array and the photometric interpretation it is in.

    YBR_* is returned as RGB (pydicom converts it); PALETTE COLOR as indices.
    """
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    try:  # a C decoder (GDCM) aborts the process on an inconsistent header: check it first
        check_pixel_module(ds, str(ds.file_meta.get("TransferSyntaxUID", "")))
    except DicomReadError as exc:
        raise DicomReadError(f"{source}: {exc}") from None
    try:
        arr = ds.pixel_array
    except NotImplementedError as exc:
        raise UnsupportedCodecError(
            f"{source}: pixel data in transfer syntax {ds.file_meta.get('TransferSyntaxUID')} cannot "
            f"be decoded by the installed pydicom plugins ({_first_line(exc)}); convert it to an "
            "uncompressed or JPEG/J2K file first"
        ) from exc
    except RuntimeError as exc:  # pydicom: "... all plugins are missing dependencies"
        raise UnsupportedCodecError(
            f"{source}: no installed decoder for transfer syntax "
            f"{ds.file_meta.get('TransferSyntaxUID')} ({_first_line(exc)}); install pylibjpeg or python-gdcm"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - decoder plugins raise many types on damaged data
        raise DicomReadError(
            f"{source}: pixel data cannot be read ({_first_line(exc)}); the file is truncated or not an image"
        ) from exc
    if arr.dtype not in (np.uint8, np.uint16, np.int8, np.int16):
        raise DicomReadError(
            f"{source}: {arr.dtype} pixels are not supported for cleaning; only 8- and 16-bit integer images"
        )
    if photometric.startswith("YBR"):
        photometric = "RGB"  # pydicom's pixel_array converts YBR_* to RGB
    return np.array(arr, copy=True), photometric


def blank_value(ds: Dataset, photometric: str) -> int:
    """The stored value that displays black: 0 (the bottom of the range for signed MONOCHROME2),
    the top of the range for MONOCHROME1, or the darkest palette entry for PALETTE COLOR.

    Examples
    --------
    >>> ds = Dataset()
    >>> ds.BitsStored, ds.PixelRepresentation = 12, 0
    >>> blank_value(ds, "MONOCHROME2"), blank_value(ds, "MONOCHROME1"), blank_value(ds, "RGB")
    (0, 4095, 0)
    >>> ds.PixelRepresentation = 1
    >>> blank_value(ds, "MONOCHROME2"), blank_value(ds, "MONOCHROME1")
    (-2048, 2047)
    """
    signed = int(ds.get("PixelRepresentation", 0)) == 1
    bits = int(ds.get("BitsStored", 8))
    if photometric == "MONOCHROME1":  # low values display white: black is the top of the range
        return (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
    if photometric == "MONOCHROME2" and signed:
        return -(1 << (bits - 1))
    if photometric == "PALETTE COLOR":
        allocated = int(ds.get("BitsAllocated", 8))
        indices = np.arange(1 << allocated, dtype=np.uint16 if allocated > 8 else np.uint8)
        rgb = apply_color_lut(indices, ds).astype(np.int64)
        if rgb.ndim != 2:  # pragma: no cover - defensive
            return 0
        return int(np.argmin(rgb.sum(axis=-1)))
    return 0


def apply_mask(arr: np.ndarray, keep: np.ndarray, samples_per_pixel: int, value: int) -> int:
    """Blank every pixel outside ``keep`` in every frame, in place; return pixels per frame blanked."""
    outside = ~keep
    if samples_per_pixel > 1:
        arr[..., outside, :] = value
    else:
        arr[..., outside] = value
    return int(outside.sum())


def store_uncompressed(ds: Dataset, arr: np.ndarray, photometric: str) -> None:
    """Put ``arr`` back as native pixel data (Explicit VR Little Endian), keeping Bits Stored."""
    bits_stored = int(ds.get("BitsStored", arr.dtype.itemsize * 8))
    frames = ds.get("NumberOfFrames")
    ds.set_pixel_data(arr, photometric, bits_stored, generate_instance_uid=False)
    if frames is not None and "NumberOfFrames" not in ds:
        ds.NumberOfFrames = frames  # Type 1 in multi-frame IODs even for a single frame


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
