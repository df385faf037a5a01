"""The exported SR against an independent validator: ``dciodvfy`` (Debian dicom3tools).

The private coding scheme ``99NEEDLEPLAN`` is declared in the Coding Scheme Identification
Sequence.  dicom3tools (1.00~20220618, Debian 12) checks Coding Scheme Designator against a fixed
list of known designators and does not read that sequence, so it still prints "Unrecognized defined
term <99NEEDLEPLAN>"; the test allows exactly that warning and nothing else.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest

from needleplan.cli import main
from needleplan.sr._codes import SCHEME

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_dicom" / "upper_trapezius_thin_frame.plan.json"
KNOWN_LIMITATION = f"Warning - Unrecognized defined term <{SCHEME}> for value 1 of attribute <Coding Scheme Designator>"


def _designators(ds) -> set[str]:
    found = set()
    for elem in ds.iterall():
        if elem.keyword == "CodingSchemeDesignator":
            found.add(str(elem.value))
    return found


@pytest.fixture(scope="module")
def sr_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sr") / "sr.dcm"
    assert main(["sr", "export", str(SAMPLE), "-o", str(out)]) == 0
    return out


def test_the_private_scheme_is_declared(sr_path):
    ds = pydicom.dcmread(sr_path)
    declared = {str(item.CodingSchemeDesignator): item for item in ds.CodingSchemeIdentificationSequence}
    private = {d for d in _designators(ds) if d.startswith("99")}
    assert private == {SCHEME}  # the SR uses it, so it must be declared
    assert set(declared) == {SCHEME}
    assert declared[SCHEME].CodingSchemeName == "needleplan private codes"
    assert declared[SCHEME].CodingSchemeResponsibleOrganization


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_finds_no_error_and_no_warning_but_the_private_designator(sr_path):
    run = subprocess.run(["dciodvfy", str(sr_path)], capture_output=True, text=True)
    lines = [ln.strip() for ln in (run.stdout + run.stderr).splitlines() if ln.strip()]
    assert "ComprehensiveSR" in lines  # it recognised the IOD it validated
    errors = [ln for ln in lines if ln.startswith("Error")]
    assert errors == []
    warnings = [ln for ln in lines if ln.startswith("Warning")]
    assert all(ln == KNOWN_LIMITATION for ln in warnings), warnings
    assert not any(re.search(r"CodingSchemeIdentification", ln) for ln in lines)
