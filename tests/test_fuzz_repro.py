"""Every DICOM fuzz reproducer (tests/data/fuzz_repro/README.md) is answered with one clear line.

Errors: ``needleplan info`` and ``detect`` exit 2 with one ``needleplan: error:`` line on stderr.
Implausible calibrations: ``info`` shows source NONE with the reason, and ``detect`` runs in pixels.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from needleplan.cli import main

REPRO = Path(__file__).parent / "data" / "fuzz_repro"

ERRORS = {
    "D6_gdcm_abort_bitsstored1.dcm": "High Bit is 7 but Bits Stored 1 needs High Bit 0",
    "D6b_gdcm_abort_bitsalloc32_ybr.dcm": "JPEG Baseline holds 8-bit images, the header says Bits Allocated 32",
    "D7_byteslengthexception_info.dcm": "could not be read as DICOM (Expected total bytes",
    "D8_unknown_vr_info.dcm": "could not be read as DICOM (Unknown Value Representation",
    "D9_palette_typeerror.dcm": "the red palette has 64-bit entries; palettes use 8 or 16 bits",
    "D10_attributeerror_bitsallocated.dcm": "the Bits Allocated attribute is missing",
}
REFUSED_CALIBRATIONS = {
    "D1_delta5cm_50mm_per_px_OBXXXX1A.dcm": "50 x 0.2623 mm/px is outside the plausible 0.005-5 mm/px",
    "D1b_pixelspacing_20mm.dcm": "PixelSpacing not used: 20 x 0.25 mm/px is outside the plausible",
    "D1c_delta1e-12_tiny_spacing.dcm": "1e-11 x 0.1 mm/px is outside the plausible",
    "D2_refvalueY_-1e308_origin_inf.dcm": "its origin (row inf, col 344) is not a finite position",
    "D3_detect_hang_memory_delta1e6.dcm": "1e+07 x 0.2548 mm/px is outside the plausible",
    "D3b_detect_hang_delta1e6_ybr.dcm": "1e+07 x 20 mm/px is outside the plausible",
    "D4_detect_indexerror_ribs.dcm": "1e-11 x 0.1 mm/px is outside the plausible",
    "D5_detect_overflow_gaussian.dcm": "PixelSpacing not used: 1e-320 x 20 mm/px is outside the plausible",
}


def test_every_reproducer_is_covered() -> None:
    assert sorted(p.name for p in REPRO.glob("D*.dcm")) == sorted({**ERRORS, **REFUSED_CALIBRATIONS})


@pytest.mark.parametrize("command", ["info", "detect", "deid"])
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_damaged_file_is_one_error_line_and_exit_2(name: str, command: str, capsys, tmp_path) -> None:
    args = [command, str(REPRO / name)] + ([f"{tmp_path}/"] if command == "deid" else [])
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("needleplan: error: ") and name in err
    assert ERRORS[name] in err or command == "deid" and "the DICOM file is damaged" in err
    assert not list(tmp_path.iterdir())  # nothing written
    assert "export" in err  # what to do
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("name", sorted(REFUSED_CALIBRATIONS))
def test_an_implausible_calibration_is_shown_as_none_with_the_reason(name: str, capsys) -> None:
    assert main(["info", "--json", str(REPRO / name)]) == 0
    cal = json.loads(capsys.readouterr().out)["calibration"]
    assert cal["source"] == "NONE" and cal["spacing_mm"] is None
    assert REFUSED_CALIBRATIONS[name] in cal["reason"]


@pytest.mark.parametrize("name", sorted(n for n in REFUSED_CALIBRATIONS if n.startswith(("D3", "D4", "D5"))))
def test_detect_on_a_refused_calibration_runs_in_pixels(name: str, capsys) -> None:
    assert main(["detect", "--json", str(REPRO / name)]) == 0
    result = json.loads(capsys.readouterr().out)
    # no millimetre from a refused calibration: structures (in mm) stay empty, pixels are given
    assert result["calibrated"] is False and result["structures"] == []
    assert result["detections_px"]


def test_library_warnings_become_one_worded_note_each(capsys) -> None:
    import argparse
    import warnings

    from needleplan.cli import _run_worded

    def command(_args: argparse.Namespace) -> int:
        for _ in range(3):  # pydicom warns once per element read; the note is said once
            warnings.warn_explicit(
                "Invalid value for VR US: b'\\xc2'", UserWarning, "/site-packages/pydicom/valuerep.py", 1
            )
        warnings.warn("`json_encoders` is deprecated", DeprecationWarning, stacklevel=1)  # pydantic's: not the user's
        return 0

    assert _run_worded(command, argparse.Namespace()) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [
        (
            "needleplan: note: the DICOM reader reported a problem with the input (it was read anyway; "
            "check the result): Invalid value for VR US: b'\\xc2'"
        )
    ]
    assert "UserWarning" not in err and "deprecated" not in err


@pytest.mark.parametrize("name", ["D7_byteslengthexception_info.dcm", "D8_unknown_vr_info.dcm"])
def test_sr_import_of_a_damaged_file_is_one_error_line(name: str, capsys, tmp_path) -> None:
    code = main(["sr", "import", str(REPRO / name), "-o", str(tmp_path / "p.plan.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "the SR file is damaged" in err and "Traceback" not in err
    assert not (tmp_path / "p.plan.json").exists()
