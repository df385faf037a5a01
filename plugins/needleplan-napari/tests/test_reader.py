"""Reader contribution: cheap claim, never raises, image layers in millimetres."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from needleplan_napari._names import PLUGIN
from needleplan_napari._reader import get_reader

REAL = Path(__file__).resolve().parents[3] / "tests" / "data" / "real_dicom"

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("name", ["notes.txt", "empty.dcm", "image.png"])
def test_get_reader_returns_none_for_non_dicom(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"" if name == "empty.dcm" else b"\x89PNG\r\n\x1a\n" + b"0" * 200)
    assert get_reader(str(p)) is None


def test_a_dcm_that_is_not_dicom_is_claimed_and_refused_in_one_line(tmp_path):
    from needleplan.errors import NeedleplanError

    p = tmp_path / "fake.dcm"
    p.write_text("this is not an image")
    reader = get_reader(str(p))
    with pytest.raises(NeedleplanError) as err:
        reader(str(p))
    assert "\n" not in str(err.value)


def test_get_reader_none_for_empty_or_missing_folder_and_odd_input(tmp_path):
    assert get_reader(str(tmp_path)) is None
    assert get_reader(str(tmp_path / "missing")) is None
    assert get_reader([]) is None
    assert get_reader(None) is None
    assert get_reader(12) is None


def test_get_reader_claims_dicom_file_and_series_folder(tmp_path):
    assert callable(get_reader(str(REAL / "RGB_IMAGE.dcm")))
    assert callable(get_reader(str(REAL / "no_meta.dcm")))  # no preamble, raw group 0008 data set
    shutil.copy(REAL / "US1_J2KR.dcm", tmp_path / "IM0001")
    assert callable(get_reader(str(tmp_path)))


def test_rgb_image_layer_in_mm():
    # RGB_IMAGE.dcm: region 0, 0.0237872 cm/px -> 0.237872 mm/px, box min (row 60, col 0),
    # (PhysicalDelta stored as 0.02378716878592968 cm), box min (row 60, col 0),
    # reference pixel (row 31, col 504): origin_px = (60 + 31, 0 + 504) = (91, 504);
    # translate = -origin_px * spacing = (-91 * 0.2378717, -504 * 0.2378717) = (-21.64632, -119.88733)
    (data, kwargs, kind) = get_reader(str(REAL / "RGB_IMAGE.dcm"))(str(REAL / "RGB_IMAGE.dcm"))[0]
    assert kind == "image" and kwargs["rgb"] is True
    assert data.shape == (768, 1024, 3)
    assert kwargs["scale"] == pytest.approx((0.2378717, 0.2378717), rel=1e-6)
    assert kwargs["translate"] == pytest.approx((-91 * 0.2378716878592968, -504 * 0.2378716878592968), rel=1e-9)
    assert kwargs["units"] == ("mm", "mm")
    assert "US_REGION" in kwargs["name"]


def test_open_through_viewer_with_plugin_name(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(REAL / "RGB_IMAGE.dcm"), plugin=PLUGIN)
    assert layer.rgb
    assert tuple(layer.scale) == pytest.approx((0.2378717, 0.2378717), rel=1e-6)
    assert tuple(layer.translate) == pytest.approx((-91 * 0.2378716878592968, -504 * 0.2378716878592968), rel=1e-9)
    assert tuple(str(u) for u in layer.units) == ("millimeter", "millimeter")
    # pixel (91, 504), the region's reference pixel, is world (0, 0) mm
    assert layer.data_to_world((91, 504)) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_uncalibrated_file_opens_in_pixels_and_says_so(make_napari_viewer_proxy):
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(REAL / "US1_J2KR.dcm"), plugin=PLUGIN)
    assert tuple(layer.scale) == (1.0, 1.0) and tuple(layer.translate) == (0.0, 0.0)
    assert all("meter" not in str(u) for u in layer.units)
    assert "UNCALIBRATED" in layer.name


def test_cine_on_the_time_slider(make_napari_viewer_proxy):
    # examples_ybr_color.dcm: 30 frames, FrameTime 33.333 ms; its region box lies outside the
    # downscaled image, so it must NOT be calibrated (pixels, never a made-up mm)
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(REAL / "examples_ybr_color.dcm"), plugin=PLUGIN)
    assert layer.data.shape[:1] == (30,) and layer.rgb
    assert layer.scale[0] == pytest.approx(33.333, rel=1e-3)
    assert str(layer.units[0]) == "millisecond"
    assert all("meter" not in str(u) for u in layer.units[1:])
    viewer.dims.set_current_step(0, 12)
    np.testing.assert_array_equal(np.asarray(layer.data[12]), layer.metadata["needleplan"]["image"].frame(12))


@pytest.mark.parametrize(
    "name, spacing_mm, origin_px, rgb",
    [
        # palette colour, RLE: region box min (col 120, row 60) + reference pixel (col 340, row 36)
        # -> origin (row 96, col 460); PhysicalDelta 0.02622878766 cm -> 0.2622878766 mm/px
        ("OBXXXX1A_rle.dcm", 0.2622878766196998, (96.0, 460.0), True),
        # MONOCHROME2, no reference pixel: origin = region box min (row 38, col 14); 0.0064904690 cm
        ("GREYSCALE_IMAGE.dcm", 0.064904689685088305, (38.0, 14.0), False),
    ],
)
def test_more_real_files_scale_translate_units(make_napari_viewer_proxy, name, spacing_mm, origin_px, rgb):
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(REAL / name), plugin=PLUGIN)
    assert layer.rgb is rgb
    assert tuple(layer.scale) == pytest.approx((spacing_mm, spacing_mm), rel=1e-9)
    # translate = -origin_px * spacing, e.g. OBXXXX1A: (-96 * 0.26229, -460 * 0.26229) = (-25.18, -120.65) mm
    assert tuple(layer.translate) == pytest.approx((-origin_px[0] * spacing_mm, -origin_px[1] * spacing_mm), rel=1e-9)
    assert tuple(str(u) for u in layer.units) == ("millimeter", "millimeter")
    assert layer.data_to_world(origin_px) == pytest.approx((0.0, 0.0), abs=1e-9)


def test_open_a_series_folder(make_napari_viewer_proxy, tmp_path):
    shutil.copy(REAL / "RGB_IMAGE.dcm", tmp_path / "IM0001")
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(tmp_path), plugin=PLUGIN)
    assert tuple(layer.scale) == pytest.approx((0.2378717, 0.2378717), rel=1e-6)


FUZZ = REAL.parent / "fuzz_repro"


@pytest.mark.parametrize(
    "name",
    [
        "D6_gdcm_abort_bitsstored1.dcm",
        "D7_byteslengthexception_info.dcm",
        "D9_palette_typeerror.dcm",
        "D10_attributeerror_bitsallocated.dcm",
    ],
)
def test_a_damaged_dicom_is_refused_in_one_line_not_a_traceback(name):
    from needleplan.errors import DicomReadError

    reader = get_reader(str(FUZZ / name))
    assert reader is not None  # claimed (it starts like DICOM), then refused with the reason
    with pytest.raises(DicomReadError) as err:
        reader(str(FUZZ / name))
    assert "\n" not in str(err.value) and "export" in str(err.value)


def test_an_implausible_calibration_opens_in_pixels():
    layers = get_reader(str(FUZZ / "D1b_pixelspacing_20mm.dcm"))(str(FUZZ / "D1b_pixelspacing_20mm.dcm"))
    _data, kwargs, _kind = layers[0]
    assert tuple(kwargs.get("scale", (1.0, 1.0)))[-2:] == (1.0, 1.0)  # never 20 mm/px


def test_an_h264_mp4_opens_lazily_in_pixels_on_the_time_slider(make_napari_viewer_proxy, tmp_path):
    # a real 30-frame H.264 phantom cine (25 frames/s -> 40 ms per frame, key frame every 10):
    # uncalibrated, so pixels; paging to frame 23 decodes frames 20-23 only, never the whole video
    from tests.video_factory import h264_mp4, phantom_cine

    path = h264_mp4(phantom_cine(30), tmp_path / "cine.mp4", gop=10)
    assert callable(get_reader(str(path)))
    viewer = make_napari_viewer_proxy()
    (layer,) = viewer.open(str(path), plugin=PLUGIN)
    image = layer.metadata["needleplan"]["image"]
    assert layer.data.shape == (30, 128, 160, 3) and layer.rgb
    assert layer.scale[0] == pytest.approx(40.0)
    assert str(layer.units[0]) == "millisecond"
    assert tuple(layer.scale[1:]) == (1.0, 1.0) and all("meter" not in str(u) for u in layer.units[1:])
    assert "UNCALIBRATED" in layer.name
    before = image._source.video.decoded_frames
    viewer.dims.set_current_step(0, 23)
    np.testing.assert_array_equal(np.asarray(layer.data[23]), image.frame(23))
    assert image._source.video.decoded_frames - before <= 10  # at most one group of pictures per frame shown
    assert image._source.video.decoded_frames < 30
