"""Bad input: each file gives a typed error with a one-line message that says what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from needleplan.errors import DicomReadError, ImageReadError, NeedleplanError, UnsupportedCodecError
from needleplan.io import open_image, read_info
from tests.dicom_factory import jpeg_baseline, us_dataset, write

DATA = Path(__file__).parent / "data" / "real_dicom"


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_text_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.dcm"
    path.write_text("patient notes, not an image\n" * 20)
    with pytest.raises(ImageReadError) as exc:
        read_info(path)
    assert not isinstance(exc.value, DicomReadError)
    assert "not a DICOM file" in _one_line(exc)


def test_no_meta_file_is_refused_clearly() -> None:
    # no_meta.dcm is CT_small without preamble and File Meta, but starts one byte into the data set,
    # so even pydicom's force=True reads garbage: refused (policy in needleplan.io._dicom)
    with pytest.raises(ImageReadError) as exc:
        read_info(DATA / "no_meta.dcm")
    assert "not a DICOM file" in _one_line(exc) and "re-export" in str(exc.value)


def test_headerless_but_valid_dataset_is_recovered(tmp_path: Path) -> None:
    ds = us_dataset(32, 48)
    del ds.file_meta
    path = tmp_path / "raw.dcm"
    ds.save_as(path, enforce_file_format=False, implicit_vr=True, little_endian=True)  # no preamble, no meta
    assert path.read_bytes()[128:132] != b"DICM"
    image = open_image(path)
    assert image.frame(0).shape == (32, 48)
    assert any("no DICOM File Meta header" in n for n in image.info.notes)


def test_dicom_without_pixel_data(tmp_path: Path) -> None:
    ds = us_dataset(32, 48)
    del ds.PixelData
    path = write(ds, tmp_path / "nopixels.dcm")
    with pytest.raises(DicomReadError) as exc:
        read_info(path)
    assert "no Pixel Data" in _one_line(exc)


def test_truncated_pixel_data_real_file() -> None:
    # MR_truncated: Pixel Data declares 8192 bytes (64 x 64 x 16 bit), the file holds 8130
    with pytest.raises(DicomReadError) as exc:
        open_image(DATA / "MR_truncated.dcm")
    assert "8130 of 8192 bytes" in _one_line(exc)


def test_pixel_data_shorter_than_the_image_needs(tmp_path: Path) -> None:
    ds = us_dataset(32, 48, frames=3)
    ds.PixelData = ds.PixelData[: 32 * 48 * 2]  # two frames' worth for three frames
    path = write(ds, tmp_path / "short.dcm")
    with pytest.raises(DicomReadError) as exc:
        read_info(path)
    assert "truncated" in _one_line(exc) and "3072 bytes" in str(exc.value)


def test_file_cut_off_mid_stream_is_not_reported_as_loaded() -> None:
    with pytest.raises(DicomReadError) as exc:
        read_info(DATA / "emri_small_jpeg_2k_lossless_too_short.dcm")
    assert "cut off" in _one_line(exc)


def test_native_file_cut_off(tmp_path: Path) -> None:
    path = write(us_dataset(64, 64, frames=4), tmp_path / "cine.dcm")
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(DicomReadError, match="cut off"):
        read_info(path)


def test_jpeg_cine_cut_off_inside_a_fragment(tmp_path: Path) -> None:
    path = write(jpeg_baseline(us_dataset(64, 64, frames=4, rgb=True)), tmp_path / "cine.dcm")
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(DicomReadError, match="cut off"):
        open_image(path)


def test_jpeg_xl_names_the_syntax_and_that_no_decoder_exists() -> None:
    with pytest.raises(UnsupportedCodecError) as exc:
        open_image(DATA / "will-jxl.dcm")
    text = _one_line(exc)
    assert "1.2.840.10008.1.2.4.111" in text and "JPEG XL" in text and "no pydicom decoder" in text


def test_missing_decoder_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # JPEG Lossless with gdcm hidden: the message must say python-gdcm (Pillow cannot do it)
    import pydicom.pixels.decoders.base as base

    decoder = base.get_decoder("1.2.840.10008.1.2.4.70")
    monkeypatch.setattr(type(decoder), "is_available", property(lambda self: False))
    with pytest.raises(UnsupportedCodecError) as exc:
        read_info(DATA / "JPGLosslessP14SV1_1s_1f_8b.dcm")
    assert "python-gdcm" in _one_line(exc) and "JPEG Lossless" in str(exc.value)


def test_missing_file_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="no such file"):
        read_info(tmp_path / "absent.dcm")
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(ImageReadError, match="no readable DICOM, PNG or JPEG image"):
        open_image(tmp_path)


def test_frame_index_out_of_range(tmp_path: Path) -> None:
    image = open_image(write(us_dataset(16, 16, frames=3), tmp_path / "c.dcm"))
    with pytest.raises(ImageReadError, match="has 3 frame"):
        image.frame(3)
    with pytest.raises(NeedleplanError):
        image.frame_sha256(-1)


def test_every_bad_real_file_is_a_needleplan_error(tmp_path: Path) -> None:
    for name in ("no_meta.dcm", "MR_truncated.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm", "will-jxl.dcm"):
        copy = shutil.copy(DATA / name, tmp_path / name)
        with pytest.raises(NeedleplanError):
            open_image(copy).frame(0)
