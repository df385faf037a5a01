"""Build small synthetic DICOM datasets with pydicom, for tests (no real patient data).

Everything returns a :class:`pydicom.Dataset` that :func:`write` saves as a proper DICOM file
(preamble + File Meta).  Coordinates are ``(row, col)``, deltas in cm as DICOM stores them.

    from tests.dicom_factory import region, us_dataset, write, jpeg_baseline, QUIRKS
    ds = us_dataset(rows=200, cols=300, regions=[region(10, 20, 190, 280, delta_cm=(0.025, 0.02),
                                                        ref_px=(-4, 130))])
    path = write(ds, tmp_path / "us.dcm")

``frame_pattern(i, rows, cols, rgb)`` is the pixel content of frame ``i`` (each frame differs), so a
test can check that frame ``i`` really is frame ``i``.  ``QUIRKS`` holds ready-made datasets for the
ultrasound quirks that have no real file (docs/ultrasound-calibration.md §6).
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
)

__all__ = [
    "region",
    "us_dataset",
    "ct_dataset",
    "jpeg_baseline",
    "write",
    "frame_pattern",
    "fixed_length_uid",
    "QUIRKS",
    "US_IMAGE",
    "US_MULTIFRAME",
    "CT_IMAGE",
]

US_IMAGE = UID("1.2.840.10008.5.1.4.1.1.6.1")
US_MULTIFRAME = UID("1.2.840.10008.5.1.4.1.1.3.1")
CT_IMAGE = UID("1.2.840.10008.5.1.4.1.1.2")


def region(
    min_row: int,
    min_col: int,
    max_row: int,
    max_col: int,
    *,
    delta_cm: tuple[float, float] = (0.02, 0.02),
    ref_px: tuple[int, int] | None = (0, 0),
    spatial_format: int = 1,
    data_type: int = 1,
    units: tuple[int, int] = (3, 3),
    flags: int = 0,
) -> Dataset:
    """One Sequence of Ultrasound Regions item; ``delta_cm`` and ``units`` are (row/Y, col/X)."""
    item = Dataset()
    item.RegionSpatialFormat = spatial_format
    item.RegionDataType = data_type
    item.RegionFlags = flags
    item.RegionLocationMinX0, item.RegionLocationMinY0 = min_col, min_row
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = max_col, max_row
    if ref_px is not None:
        item.ReferencePixelX0, item.ReferencePixelY0 = int(ref_px[1]), int(ref_px[0])
    item.PhysicalUnitsXDirection, item.PhysicalUnitsYDirection = units[1], units[0]
    item.PhysicalDeltaX, item.PhysicalDeltaY = float(delta_cm[1]), float(delta_cm[0])
    return item


def fixed_length_uid(name: str | None = None) -> str:
    """A ``2.25.`` UID of always 44 characters: derived from ``name``, or unique when none is given.

    pydicom's ``generate_uid()`` varies in length (leading zeros of a random number are dropped), so
    two otherwise equal files differ in size from run to run; a test must never depend on that.

    >>> fixed_length_uid("study") == fixed_length_uid("study"), len(fixed_length_uid())
    (True, 44)
    """
    bits = int(hashlib.sha256(name.encode()).hexdigest()[:30], 16) if name is not None else secrets.randbits(120)
    return f"2.25.{10**38 + bits}"  # 10**38 + (< 2**120 = 1.3e36): always 39 digits


def frame_pattern(i: int, rows: int, cols: int, rgb: bool = False) -> np.ndarray:
    """A smooth, frame-specific uint8 pattern (JPEG keeps it within a few grey levels)."""
    r = np.arange(rows, dtype=np.int32)[:, None]
    c = np.arange(cols, dtype=np.int32)[None, :]
    grey = ((r // 4 + c // 4 + 23 * i) % 200 + 20).astype(np.uint8)
    if not rgb:
        return grey
    return np.stack([grey, np.full_like(grey, (40 + 10 * i) % 256), 255 - grey], axis=-1)


def _base(ds: Dataset, sop_class: UID, modality: str) -> Dataset:
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = fixed_length_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality = modality
    ds.PatientName = "Synthetic^Phantom"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = fixed_length_uid(), fixed_length_uid()
    return ds


def us_dataset(
    rows: int = 240,
    cols: int = 320,
    *,
    frames: int = 1,
    rgb: bool = False,
    regions: Sequence[Dataset] = (),
    pixel_spacing: tuple[float, float] | None = None,
    frame_time_ms: float | None = None,
    frame_time_vector: Sequence[float] | None = None,
    cine_rate: float | None = None,
    frame_increment_pointer: Sequence[int] | None = None,
    photometric: str | None = None,
    pixels: np.ndarray | None = None,
) -> Dataset:
    """An uncompressed ultrasound image (multi-frame when ``frames > 1``) with the given regions."""
    multi = frames > 1
    ds = _base(Dataset(), US_MULTIFRAME if multi else US_IMAGE, "US")
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if rgb else "MONOCHROME2")
    if rgb:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    if multi:
        ds.NumberOfFrames = frames
    if regions:
        ds.SequenceOfUltrasoundRegions = DicomSequence(list(regions))
    if pixel_spacing is not None:
        ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    if frame_time_ms is not None:
        ds.FrameTime = frame_time_ms
    if frame_time_vector is not None:
        ds.FrameTimeVector = list(frame_time_vector)
    if cine_rate is not None:
        ds.CineRate = int(cine_rate)
    if frame_increment_pointer is not None:
        ds.FrameIncrementPointer = list(frame_increment_pointer)
    elif multi and frame_time_ms is not None:
        ds.FrameIncrementPointer = 0x00181063
    if pixels is None:
        pixels = np.stack([frame_pattern(i, rows, cols, rgb) for i in range(frames)])
        pixels = pixels if multi else pixels[0]
    ds.PixelData = np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()
    return ds


def ct_dataset(rows: int = 64, cols: int = 64, *, pixel_spacing: tuple[float, float] = (0.5, 0.5)) -> Dataset:
    """A small CT slice (int16, MONOCHROME2) with PixelSpacing."""
    ds = _base(Dataset(), CT_IMAGE, "CT")
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    arr = frame_pattern(0, rows, cols).astype(np.int16) - 1000
    ds.PixelData = arr.tobytes()
    return ds


def jpeg_baseline(
    ds: Dataset, frames: np.ndarray | None = None, *, quality: int = 95, corrupt_after: int | None = None
) -> Dataset:
    """Re-encode ``ds``'s frames (or ``frames``) as JPEG Baseline with Pillow, one fragment per frame.

    RGB frames are stored as YBR_FULL_422, as scanners do.  ``corrupt_after=k`` replaces the
    fragments of frames ``k+1...`` with bytes that no JPEG decoder accepts (to prove a loader
    decodes only the frames it is asked for).
    """
    from PIL import Image

    if frames is None:
        frames = np.frombuffer(ds.PixelData, dtype=np.uint8).reshape(
            int(ds.get("NumberOfFrames") or 1), ds.Rows, ds.Columns, *((3,) if ds.SamplesPerPixel == 3 else ())
        )
    encoded = []
    for i, frame in enumerate(frames):
        if corrupt_after is not None and i > corrupt_after:
            encoded.append(b"\xff\xd8" + b"\x00" * 62)
            continue
        buf = io.BytesIO()
        Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
        encoded.append(buf.getvalue())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    if ds.SamplesPerPixel == 3:
        ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    return ds


def write(ds: Dataset, path: str | Path, *, implicit: bool = False) -> Path:
    """Save ``ds`` as a DICOM Part 10 file (``implicit`` for Implicit VR Little Endian)."""
    path = Path(path)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def _anisotropic() -> Dataset:
    # Issue16-like: 0.02857 cm down the rows, 0.02286 cm across -> 0.2857 x 0.2286 mm/px
    return us_dataset(200, 300, regions=[region(10, 20, 190, 280, delta_cm=(0.02857, 0.02286), ref_px=(0, 130))])


def _negative_delta() -> Dataset:
    # DIRW0007-like: Physical Delta X negative
    return us_dataset(200, 300, regions=[region(10, 20, 190, 280, delta_cm=(0.05248, -0.05248), ref_px=(0, 130))])


def _dual_view() -> Dataset:
    # gdcm-US-ALOKA-16-like: two views side by side, each with ref (21, 154) relative to its box,
    # plus a gray-bar region inside view 0
    return us_dataset(
        240,
        640,
        regions=[
            region(20, 10, 230, 309, delta_cm=(0.03, 0.03), ref_px=(21, 154)),
            region(20, 330, 230, 629, delta_cm=(0.03, 0.03), ref_px=(21, 154)),
            region(40, 12, 200, 20, spatial_format=5, data_type=13, units=(0, 0), delta_cm=(1.0, 1.0)),
        ],
    )


def _negative_reference_pixel() -> Dataset:
    # Issue16 / JPEGExtended-like: the skin line (Y0 = -4) above the box; a sector apex far above
    return us_dataset(200, 300, regions=[region(40, 20, 190, 280, delta_cm=(0.025, 0.025), ref_px=(-4, 130))])


def _whole_screen_none() -> Dataset:
    # DIRW0007-like: a 'none' region covering the screen (units 0, delta 1.0) listed first,
    # overlapping the tissue region
    return us_dataset(
        200,
        300,
        regions=[
            region(0, 0, 199, 299, spatial_format=0, data_type=0, units=(0, 0), delta_cm=(1.0, 1.0), ref_px=None),
            region(30, 40, 180, 260, delta_cm=(0.02, 0.02), ref_px=(0, 110)),
        ],
    )


QUIRKS: dict[str, Callable[[], Dataset]] = {
    "anisotropic": _anisotropic,
    "negative_delta": _negative_delta,
    "dual_view": _dual_view,
    "negative_reference_pixel": _negative_reference_pixel,
    "whole_screen_none": _whole_screen_none,
}
