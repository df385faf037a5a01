"""Loading synthetic files: quirks through disk, cine timing, laziness, plain images, folders."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from needleplan.errors import DicomReadError
from needleplan.io import open_image, read_info
from tests.dicom_factory import QUIRKS, ct_dataset, frame_pattern, jpeg_baseline, us_dataset, write


@pytest.mark.parametrize(
    ("quirk", "spacing", "origin", "region_index"),
    [
        # dY 0.02857 cm, dX 0.02286 cm; origin (10 + 0, 20 + 130)
        ("anisotropic", (0.2857, 0.2286), (10.0, 150.0), 0),
        # |dX| = |-0.05248| cm -> 0.5248 mm/px
        ("negative_delta", (0.5248, 0.5248), (10.0, 150.0), 0),
        # two views of equal area: view 0, origin (20 + 21, 10 + 154)
        ("dual_view", (0.3, 0.3), (41.0, 164.0), 0),
        # ref Y0 = -4 above box min row 40 -> row 36
        ("negative_reference_pixel", (0.25, 0.25), (36.0, 150.0), 0),
        # the whole-screen 'none' region (index 0) is skipped; tissue region 1: (30 + 0, 40 + 110)
        ("whole_screen_none", (0.2, 0.2), (30.0, 150.0), 1),
    ],
)
def test_quirk_files_through_disk(tmp_path: Path, quirk: str, spacing, origin, region_index) -> None:
    info = read_info(write(QUIRKS[quirk](), tmp_path / f"{quirk}.dcm"))
    cal = info.calibration
    assert cal.source == "US_REGION" and cal.region_index == region_index
    assert cal.spacing_mm == pytest.approx(spacing) and cal.origin_px == origin


@pytest.mark.parametrize("implicit", [False, True])
def test_native_multiframe_frames_are_the_right_frames(tmp_path: Path, implicit: bool) -> None:
    path = write(us_dataset(48, 64, frames=6, rgb=True, frame_time_ms=25.0), tmp_path / "c.dcm", implicit=implicit)
    image = open_image(path)
    for i in (0, 3, 5):
        assert np.array_equal(image.frame(i), frame_pattern(i, 48, 64, rgb=True))
    # Frame Time 25 ms: cumulative 0, 25, ..., 125
    assert image.info.frame_time_ms == 25.0 and image.info.frame_times_ms == (0.0, 25.0, 50.0, 75.0, 100.0, 125.0)


def test_jpeg_baseline_cine_decodes_within_lossy_tolerance(tmp_path: Path) -> None:
    path = write(jpeg_baseline(us_dataset(64, 80, frames=4, rgb=True)), tmp_path / "j.dcm")
    image = open_image(path)
    assert image.info.photometric == "YBR_FULL_422"
    for i in range(4):
        diff = np.abs(image.frame(i).astype(int) - frame_pattern(i, 64, 80, rgb=True).astype(int))
        assert diff.max() <= 12 and diff.mean() < 2


def test_frame_time_vector_named_with_a_private_tag_in_the_pointer(tmp_path: Path) -> None:
    ds = us_dataset(
        16, 16, frames=4, frame_time_vector=[0, 57.9671, 40.0, 42.0], frame_increment_pointer=[0x00181065, 0xFB843290]
    )
    info = read_info(write(ds, tmp_path / "ftv.dcm"))
    # cumulative: 0, 57.9671, 97.9671, 139.9671; mean increment 139.9671 / 3 = 46.6557
    assert info.frame_times_ms == pytest.approx((0.0, 57.9671, 97.9671, 139.9671))
    assert info.frame_time_ms == pytest.approx(46.6557, abs=1e-4)


def test_cine_rate_fallback(tmp_path: Path) -> None:
    info = read_info(write(us_dataset(16, 16, frames=3, cine_rate=18), tmp_path / "rate.dcm"))
    # 1000 / 18 fps = 55.5556 ms
    assert info.frame_time_ms == pytest.approx(55.5556, abs=1e-4)
    assert any("CineRate" in n for n in info.notes)
    assert read_info(write(us_dataset(16, 16, frames=3), tmp_path / "none.dcm")).frame_time_ms is None


def test_reading_frame_0_never_decodes_the_other_frames(tmp_path: Path) -> None:
    # frames 2..39 are not JPEG at all: any attempt to decode them raises
    ds = jpeg_baseline(us_dataset(64, 64, frames=40, rgb=True), corrupt_after=1)
    image = open_image(write(ds, tmp_path / "poisoned.dcm"))
    assert image.frame(0).shape == (64, 64, 3)
    assert image.frames[1].shape == (64, 64, 3)
    assert image.frames.shape == (40, 64, 64, 3) and image.frames.dtype == np.uint8
    assert image.decode_count == 2
    with pytest.raises(DicomReadError, match="frame 2 could not be decoded"):
        image.frame(2)


def test_native_frame_read_allocates_about_one_frame(tmp_path: Path) -> None:
    frames, rows, cols = 120, 200, 300
    path = write(us_dataset(rows, cols, frames=frames, rgb=True), tmp_path / "big.dcm")  # 21.6 MB of pixels
    image = open_image(path)
    tracemalloc.start()
    frame = image.frame(frames - 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    one_frame = rows * cols * 3  # 180,000 bytes
    assert np.array_equal(frame, frame_pattern(frames - 1, rows, cols, rgb=True))
    assert peak < 6 * one_frame, f"peak {peak} bytes for a {one_frame}-byte frame"


def test_frames_are_cached_and_lazy_frames_index_like_an_array(tmp_path: Path) -> None:
    image = open_image(write(us_dataset(8, 10, frames=5), tmp_path / "c.dcm"))
    lazy = image.frames
    assert lazy.shape == (5, 8, 10) and lazy.ndim == 3 and len(lazy) == 5
    assert np.array_equal(lazy[2], frame_pattern(2, 8, 10))
    assert np.array_equal(lazy[-1], frame_pattern(4, 8, 10))
    assert lazy[1:3].shape == (2, 8, 10) and lazy[1, 2:4, 5].shape == (2,)
    assert lazy[..., 0].shape == (5, 8)
    assert np.asarray(lazy).shape == (5, 8, 10)
    image.frame(2)
    before = image.decode_count
    image.frame(2)
    assert image.decode_count == before
    with pytest.raises(IndexError):
        lazy[5]
    with pytest.raises(ValueError):
        image.frame(0)[0, 0] = 1  # cached frames are read-only


def test_frame_sha256_is_stable_and_frame_specific(tmp_path: Path) -> None:
    ds = us_dataset(8, 10, frames=3)
    path = write(ds, tmp_path / "c.dcm")
    first = open_image(path)
    assert first.frame_sha256(1) == hashlib.sha256(ds.PixelData[80:160]).hexdigest()
    assert first.frame_sha256(1) == open_image(path).frame_sha256(1) != first.frame_sha256(2)


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    ds = us_dataset(8, 10, photometric="MONOCHROME1")
    frame = open_image(write(ds, tmp_path / "m1.dcm")).frame(0)
    # 8 bits stored: displayed = 255 - stored
    assert np.array_equal(frame, 255 - frame_pattern(0, 8, 10))


def test_ct_int16_keeps_stored_values(tmp_path: Path) -> None:
    image = open_image(write(ct_dataset(16, 16, pixel_spacing=(0.5, 0.4)), tmp_path / "ct.dcm"))
    assert image.frame(0).dtype == np.int16 and int(image.frame(0)[0, 0]) == 20 - 1000
    assert image.info.calibration.spacing_mm == (0.5, 0.4)


@pytest.mark.parametrize(
    ("mode", "fmt", "shape"),
    [("L", "PNG", (30, 40)), ("RGB", "PNG", (30, 40, 3)), ("RGB", "JPEG", (30, 40, 3)), ("RGBA", "PNG", (30, 40, 3))],
)
def test_plain_images_open_uncalibrated(tmp_path: Path, mode: str, fmt: str, shape) -> None:
    arr = frame_pattern(0, 30, 40, rgb=mode != "L")
    img = Image.fromarray(arr).convert(mode)
    path = tmp_path / f"still.{fmt.lower()}"
    img.save(path, format=fmt)
    image = open_image(path)
    assert image.info.calibration.source == "NONE" and "calibrate with two points" in image.info.calibration.reason
    assert image.frame(0).shape == shape and image.frame(0).dtype == np.uint8
    if fmt == "PNG":
        assert np.array_equal(image.frame(0)[..., :3] if mode != "L" else image.frame(0), arr)


def test_folder_opens_its_first_readable_image(tmp_path: Path) -> None:
    (tmp_path / "0_readme.txt").write_text("not an image")
    write(us_dataset(8, 8), tmp_path / "1_first.dcm")
    write(us_dataset(16, 16), tmp_path / "2_second.dcm")
    info = read_info(tmp_path)
    assert Path(info.path).name == "1_first.dcm" and info.rows == 8


def test_read_info_and_open_decode_nothing(tmp_path: Path) -> None:
    # every frame is garbage: the header, calibration and timing still read; decoding fails only on demand
    ds = jpeg_baseline(us_dataset(32, 32, frames=5, rgb=True, frame_time_ms=40.0), corrupt_after=-1)
    path = write(ds, tmp_path / "all_bad.dcm")
    assert read_info(path).frames == 5
    image = open_image(path)
    assert image.frames.shape == (5, 32, 32, 3) and image.decode_count == 0
    with pytest.raises(DicomReadError, match="frame 0 could not be decoded"):
        image.frame(0)
