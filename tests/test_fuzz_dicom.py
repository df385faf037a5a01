"""Fuzzing the DICOM input paths: only needleplan errors or success, never an abort (issue 16).

The hypothesis test is bounded and derandomized (the same examples on every run, a few seconds);
``benchmarks/fuzz_dicom.py`` runs 10,000 fresh seeds of the same mutations.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needleplan.calibration import (
    MAX_ORIGIN_IMAGE_SIZES,
    MAX_SPACING_MM,
    MIN_SPACING_MM,
)
from needleplan.detect import detect_image
from needleplan.errors import NeedleplanError
from needleplan.io import open_image
from tests.dicom_mutations import mutate

HERE = Path(__file__).parent
REAL = HERE / "data" / "real_dicom"
REPRO = HERE / "data" / "fuzz_repro"
# small files so detect stays fast: JPEG cine, JPEG RGB, CT, RLE palette, JPEG 2000
SOURCES = ("examples_ybr_color.dcm", "SC_rgb_jpeg.dcm", "CT_small.dcm", "OBXXXX1A_rle.dcm", "US1_J2KR.dcm")
_BYTES = {name: (REAL / name).read_bytes() for name in SOURCES}


def _assert_plausible(info) -> None:
    cal = info.calibration
    if cal.spacing_mm is None:
        return
    assert all(MIN_SPACING_MM <= v <= MAX_SPACING_MM for v in cal.spacing_mm), cal
    k = MAX_ORIGIN_IMAGE_SIZES
    assert all(math.isfinite(v) for v in cal.origin_px), cal
    assert -k * info.rows <= cal.origin_px[0] <= (k + 1) * info.rows, cal
    assert -k * info.columns <= cal.origin_px[1] <= (k + 1) * info.columns, cal


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SOURCES), st.integers(0, 2**31))
def test_mutated_files_give_a_needleplan_error_or_a_plausible_result(tmp_path_factory, source, seed) -> None:
    kind, data = mutate(_BYTES[source], seed)
    path = tmp_path_factory.mktemp("fuzz") / f"{kind}_{seed}.dcm"
    path.write_bytes(data)
    try:
        image = open_image(path)
        _assert_plausible(image.info)
        image.frame(0)
        result = detect_image(image, any_modality=True)
        assert result.calibrated == image.info.calibration.is_calibrated
    except NeedleplanError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message


def test_mutations_are_reproducible_from_their_seed() -> None:
    source = _BYTES["CT_small.dcm"]
    assert [mutate(source, s) for s in range(20)] == [mutate(source, s) for s in range(20)]
    assert len({mutate(source, s)[1] for s in range(20)}) > 15  # and they differ from seed to seed


_DECODE = textwrap.dedent("""
    import sys
    from needleplan.errors import NeedleplanError
    from needleplan.io import open_image
    try:
        open_image(sys.argv[1]).frame(0)
        print("decoded")
    except NeedleplanError as exc:
        print("refused:", exc)
""")
_RAW_GDCM = textwrap.dedent("""
    import sys, warnings
    warnings.simplefilter("ignore")
    import pydicom
    from pydicom.pixels import get_decoder
    ds = pydicom.dcmread(sys.argv[1])
    get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, index=0, decoding_plugin="gdcm")
""")
ABORTS = ("D6_gdcm_abort_bitsstored1.dcm", "D6b_gdcm_abort_bitsalloc32_ybr.dcm")


def _has_gdcm() -> bool:
    try:
        import gdcm  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("name", ABORTS)
def test_the_abort_reproducers_end_in_a_clear_error_not_an_abort(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _DECODE, str(REPRO / name)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-500:]  # -6 would be SIGABRT inside GDCM
    assert proc.stdout.startswith("refused:") and "the image header is damaged" in proc.stdout
    assert "terminate called" not in proc.stderr


@pytest.mark.skipif(not _has_gdcm(), reason="python-gdcm is not installed")
@pytest.mark.parametrize("name", ABORTS)
def test_without_the_header_check_gdcm_really_aborts_on_them(name: str) -> None:
    # the control: the same file handed straight to GDCM kills the process (SIGABRT, -6)
    proc = subprocess.run(
        [sys.executable, "-c", _RAW_GDCM, str(REPRO / name)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -6, (proc.returncode, proc.stderr[-300:])
