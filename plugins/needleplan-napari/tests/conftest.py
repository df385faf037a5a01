"""Shared fixtures of the plugin tests (run under Xvfb: every module is marked ``gui``)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
REAL = REPO / "tests" / "data" / "real_dicom"
SAMPLES = REPO / "sample_dicom"


@pytest.fixture
def real_dicom() -> Path:
    return REAL
