"""``detect`` refuses non-ultrasound DICOM (CT, MR, OT) unless explicitly overridden."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needleplan.cli import main
from needleplan.detect import NotUltrasoundError, detect_image
from needleplan.errors import NeedleplanError
from needleplan.io import open_image

DATA = Path(__file__).parent / "data" / "real_dicom"


def test_ct_is_refused_with_one_line() -> None:
    image = open_image(DATA / "CT_small.dcm")
    assert image.info.modality == "CT"
    with pytest.raises(NotUltrasoundError) as exc:
        detect_image(image)
    assert isinstance(exc.value, NeedleplanError)
    msg = str(exc.value)
    assert msg.startswith("detect works on ultrasound images; CT_small.dcm is CT") and "\n" not in msg
    with pytest.raises(NotUltrasoundError):
        detect_image(image, cine=True)


def test_secondary_capture_other_modality_is_refused_too() -> None:
    with pytest.raises(NotUltrasoundError, match="SC_rgb_jpeg.dcm is OT"):
        detect_image(open_image(DATA / "SC_rgb_jpeg.dcm"))


def test_override_runs_and_says_the_results_mean_little() -> None:
    res = detect_image(open_image(DATA / "CT_small.dcm"), any_modality=True)
    assert res.notes[0].startswith("not an ultrasound image (CT)")


def test_real_ultrasound_has_no_such_note() -> None:
    res = detect_image(open_image(DATA / "GREYSCALE_IMAGE.dcm"))
    assert not any("not an ultrasound" in n for n in res.notes)


def test_cli_refuses_ct_and_accepts_the_override(capsys) -> None:
    assert main(["detect", str(DATA / "CT_small.dcm")]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("needleplan: error: detect works on ultrasound images; CT_small.dcm is CT")
    assert "--any-modality" in err and "\n" not in err and captured.out == ""
    assert main(["detect", str(DATA / "CT_small.dcm"), "--any-modality", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["notes"][0].startswith("not an ultrasound image (CT)")
