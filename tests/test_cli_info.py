"""``needleplan info``: JSON keys as issue 2 / docs/contracts.md §6 say; bad input is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from needleplan.cli import main
from tests.dicom_factory import QUIRKS, write

DATA = Path(__file__).parent / "data" / "real_dicom"


def _json(capsys: pytest.CaptureFixture, *argv: str) -> dict:
    assert main(["info", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_keys_and_values_for_a_region_calibrated_file(capsys: pytest.CaptureFixture) -> None:
    out = _json(capsys, str(DATA / "OBXXXX1A_rle.dcm"))
    assert {"modality", "rows", "columns", "frames", "frame_time_ms", "regions", "calibration"} <= out.keys()
    header = (out["modality"], out["rows"], out["columns"], out["frames"], out["frame_time_ms"])
    assert header == ("US", 600, 800, 1, None)
    tissue, ecg = out["regions"]
    assert {"index", "box_px", "spatial_format", "data_type", "units", "spacing_mm"} <= tissue.keys()
    # box as stored (min_row, min_col, max_row, max_col); 0.02622878766 cm -> 0.2622878766 mm/px
    assert tissue["index"] == 0 and tissue["box_px"] == [60, 120, 518, 800]
    assert (tissue["spatial_format"], tissue["data_type"], tissue["units"]) == (1, 1, [3, 3])
    assert tissue["spacing_mm"] == pytest.approx([0.2622878766, 0.2622878766])
    assert ecg["spatial_format"] == 4 and ecg["data_type"] == 10 and ecg["spacing_mm"] is None
    cal = out["calibration"]
    assert {"source", "spacing_mm", "origin_px", "region_index"} <= cal.keys()
    assert cal["source"] == "US_REGION" and cal["region_index"] == 0 and cal["origin_px"] == [96.0, 460.0]


def test_json_for_an_uncalibrated_cine(capsys: pytest.CaptureFixture) -> None:
    out = _json(capsys, str(DATA / "examples_ybr_color.dcm"))
    assert out["frames"] == 30 and out["frame_time_ms"] == pytest.approx(33.333)
    cal = out["calibration"]
    assert cal["source"] == "NONE" and cal["spacing_mm"] is None and cal["origin_px"] is None
    assert cal["region_index"] is None and "outside" in cal["reason"]


def test_text_output_mentions_the_calibration(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    path = write(QUIRKS["anisotropic"](), tmp_path / "a.dcm")
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "US_REGION region 0: 0.2857 x 0.2286 mm/px (row x col)" in text


@pytest.mark.parametrize(
    "name", ["no_meta.dcm", "MR_truncated.dcm", "emri_small_jpeg_2k_lossless_too_short.dcm", "will-jxl.dcm"]
)
def test_bad_files_exit_non_zero_with_one_line(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "needleplan", "info", str(DATA / name)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("needleplan: error: ") and "Traceback" not in proc.stderr


def test_text_file_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = tmp_path / "x.txt"
    text.write_text("hello")
    assert main(["info", str(text)]) != 0
    assert main(["info", str(tmp_path / "absent.dcm")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "not a DICOM file" in err[0] and "no such file" in err[1]


def test_png_is_uncalibrated_in_json(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    from PIL import Image

    from tests.dicom_factory import frame_pattern

    path = tmp_path / "still.png"
    Image.fromarray(frame_pattern(0, 20, 30)).save(path)
    out = _json(capsys, str(path))
    assert (out["rows"], out["columns"], out["frames"], out["modality"], out["regions"]) == (20, 30, 1, None, [])
    assert out["calibration"]["source"] == "NONE" and out["calibration"]["spacing_mm"] is None
