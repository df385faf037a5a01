"""Every real ultrasound file: spacing worked out by hand from its attributes, and decoding checked.

mm/px = |PhysicalDelta| (cm) x 10, row spacing from Delta Y, column spacing from Delta X;
origin_px = (RegionLocationMinY0 + ReferencePixelY0, RegionLocationMinX0 + ReferencePixelX0),
or the box min when the region has no reference pixel.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_color_lut

from needleplan.calibration import calibration_from_dataset
from needleplan.io import open_image, read_info

DATA = Path(__file__).parent / "data" / "real_dicom"

# file: (source, spacing_mm (row, col), origin_px, region_box_px (clamped), frame shape, lossy)
CALIBRATED = {
    # Philips CX50: dX = dY = 0.02622878766196998 cm -> 0.2622878766196998 mm/px;
    # box (MinY0 60, MinX0 120, MaxY1 518, MaxX1 800 = Columns -> 799); ref (Y 36, X 340) -> (96, 460)
    "OBXXXX1A_rle.dcm": (
        (0.2622878766196998, 0.2622878766196998),
        (96.0, 460.0),
        (60, 120, 518, 799),
        (600, 800, 3),
        False,
    ),
    # cornerstone: d = 0.03305420890260027 cm -> 0.3305420890260027 mm/px; ref (4, 340) -> (64, 460); MaxX1 800 -> 799
    "no-pixel-spacing.dcm": (
        (0.3305420890260027, 0.3305420890260027),
        (64.0, 460.0),
        (60, 120, 518, 799),
        (600, 800, 3),
        False,
    ),
    # Philips EPIQ: d = 0.0064904689685088305 cm -> 0.064904689685 mm/px; no ref pixel -> origin = box min (38, 14)
    "GREYSCALE_IMAGE.dcm": (
        (0.064904689685088305, 0.064904689685088305),
        (38.0, 14.0),
        (38, 14, 758, 1010),
        (768, 1024),
        False,
    ),
    # d = 0.025476696592378157 cm -> 0.25476696592 mm/px; origin = box min (38, 14); JPEG Lossless (gdcm)
    "JPGLosslessP14SV1_1s_1f_8b.dcm": (
        (0.25476696592378157, 0.25476696592378157),
        (38.0, 14.0),
        (38, 14, 758, 1010),
        (768, 1024),
        False,
    ),
    # Siemens S2000: d = 0.02378716878592968 cm -> 0.2378716878592968 mm/px; ref (31, 504) + min (60, 0) -> (91, 504);
    # PixelSpacing 0.237872 mm agrees (0.0001 % off), so no disagreement note
    "RGB_IMAGE.dcm": (
        (0.2378716878592968, 0.2378716878592968),
        (91.0, 504.0),
        (60, 0, 764, 1008),
        (768, 1024, 3),
        False,
    ),
    # d = 0.0061599999666213994 cm -> 0.061599999666 mm/px; no ref pixel -> (75, 184)
    "US-YBR_FULL_422-EVRLE.dcm": (
        (0.061599999666213994, 0.061599999666213994),
        (75.0, 184.0),
        (75, 184, 554, 799),
        (555, 800, 3),
        False,
    ),
}


@pytest.mark.parametrize("name", sorted(CALIBRATED))
def test_calibrated_ultrasound_file(name: str) -> None:
    spacing, origin, box, shape, _ = CALIBRATED[name]
    info = read_info(DATA / name)
    cal = info.calibration
    assert cal.source == "US_REGION" and cal.region_index == 0
    assert cal.spacing_mm == pytest.approx(spacing, rel=1e-9)
    assert cal.origin_px == origin and cal.region_box_px == box
    assert info.modality == "US" and info.frames == 1 and info.frame_time_ms is None
    assert not any("disagrees" in n for n in cal.notes)
    assert ("PixelSpacing agrees" in cal.reason) == (name == "RGB_IMAGE.dcm")
    if box[3] == 799 and name != "US-YBR_FULL_422-EVRLE.dcm":
        assert any("off by one" in n for n in cal.notes)


@pytest.mark.parametrize("name", sorted(CALIBRATED) + ["US1_J2KR.dcm", "CT_small.dcm", "SC_rgb_jpeg.dcm"])
def test_decoded_frame_matches_pydicom(name: str) -> None:
    image = open_image(DATA / name)
    frame = image.frame(0)
    ds = pydicom.dcmread(DATA / name)
    expected = ds.pixel_array
    if ds.PhotometricInterpretation == "PALETTE COLOR":
        expected = apply_color_lut(expected, ds)
        # 16-bit palette entries (descriptor bits 16): display keeps the top byte, 3328 -> 13
        assert ds.RedPaletteColorLookupTableDescriptor[2] == 16
        expected = (expected >> 8).astype(np.uint8)
    assert frame.shape == expected.shape and frame.dtype == expected.dtype
    if name in CALIBRATED:
        assert frame.shape == CALIBRATED[name][3]
    lossy = ds.file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
    diff = np.abs(frame.astype(np.int32) - expected.astype(np.int32)).max()
    assert diff <= (8 if lossy else 0)


def test_palette_file_comes_out_as_rgb_colours_not_indices() -> None:
    frame = open_image(DATA / "OBXXXX1A_rle.dcm").frame(0)
    indices = pydicom.dcmread(DATA / "OBXXXX1A_rle.dcm").pixel_array
    assert frame.ndim == 3 and indices.ndim == 2
    assert not np.array_equal(frame[..., 0], indices)  # the palette really was applied


def test_ybr_full_422_is_converted_to_rgb() -> None:
    frame = open_image(DATA / "US-YBR_FULL_422-EVRLE.dcm").frame(0)
    raw = pydicom.pixels.pixel_array(DATA / "US-YBR_FULL_422-EVRLE.dcm", raw=True)
    # YCbCr chroma sits near 128 on a grey ultrasound image; RGB channels follow the luma instead
    assert abs(float(raw[..., 1].mean()) - 128) < 5
    assert abs(float(frame[..., 1].mean()) - float(frame[..., 0].mean())) < 5


def test_resized_cine_is_refused_for_lengths_but_decodes_every_frame() -> None:
    name = "examples_ybr_color.dcm"
    image = open_image(DATA / name)
    info = image.info
    # region box cols 84-595, rows 31-414 does not fit the 240 x 320 image
    assert info.calibration.source == "NONE" and "outside the 240x320 image" in info.calibration.reason
    # FrameIncrementPointer -> FrameTime 33.333 ms: frame 29 at 29 * 33.333 = 966.657 ms
    assert info.frames == 30 and info.frame_time_ms == pytest.approx(33.333)
    assert info.frame_times_ms[29] == pytest.approx(966.657)
    full = pydicom.dcmread(DATA / name).pixel_array
    for i in (0, 17, 29):
        assert np.abs(image.frame(i).astype(int) - full[i].astype(int)).max() <= 8
    assert image.frames.shape == (30, 240, 320, 3) and image.frames.dtype == np.uint8


def test_uncalibrated_ultrasound_without_regions() -> None:
    info = read_info(DATA / "US1_J2KR.dcm")
    assert info.calibration.source == "NONE"
    assert info.calibration.reason == "no Sequence of Ultrasound Regions and no PixelSpacing"


def test_ct_uses_pixel_spacing() -> None:
    cal = read_info(DATA / "CT_small.dcm").calibration
    # PixelSpacing [0.661468, 0.661468] mm, origin (0, 0)
    assert cal.source == "PIXEL_SPACING" and cal.spacing_mm == (0.661468, 0.661468) and cal.origin_px == (0.0, 0.0)


def test_jpeg_xl_file_calibration_from_its_colour_flow_region() -> None:
    # the pixels cannot be decoded (see test_io_bad_input), but its header calibrates:
    # colour-flow region, d = 0.027239 cm -> 0.27239 mm/px; ref (1, 359) + min (70, 149) -> (71, 508)
    ds = pydicom.dcmread(DATA / "will-jxl.dcm", stop_before_pixels=True)
    cal = calibration_from_dataset(ds)
    assert cal.source == "US_REGION" and cal.spacing_mm == pytest.approx((0.27239, 0.27239))
    assert cal.origin_px == (71.0, 508.0)


def test_sc_rgb_jpeg_declared_explicit_but_stored_implicit_still_loads() -> None:
    image = open_image(DATA / "SC_rgb_jpeg.dcm")
    assert image.info.calibration.source == "NONE" and image.frame(0).shape == (256, 256, 3)
    assert any("implicit VR" in n for n in image.info.notes)


def test_frame_sha256_hashes_the_stored_bytes() -> None:
    import hashlib

    ds = pydicom.dcmread(DATA / "RGB_IMAGE.dcm")
    assert open_image(DATA / "RGB_IMAGE.dcm").frame_sha256(0) == hashlib.sha256(ds.PixelData).hexdigest()
    from pydicom.encaps import generate_frames

    ds = pydicom.dcmread(DATA / "examples_ybr_color.dcm")
    frames = list(generate_frames(ds.PixelData, number_of_frames=30))
    image = open_image(DATA / "examples_ybr_color.dcm")
    assert image.frame_sha256(7) == hashlib.sha256(frames[7]).hexdigest()
    assert image.frame_sha256(7) != image.frame_sha256(8)
