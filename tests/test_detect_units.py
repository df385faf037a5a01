"""Detectors on hand-built arrays: positions in mm worked out by hand, and what must not appear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needleplan.calibration import Calibration
from needleplan.detect import detect_frame, to_structures
from needleplan.detect._frame import FrameView, prepare_frame
from needleplan.errors import CalibrationError, ImageReadError


def _cal(spacing_mm: float = 0.1, origin_px=(0.0, 0.0), box=None) -> Calibration:
    return Calibration(
        source="MANUAL",
        spacing_mm=(spacing_mm, spacing_mm),
        origin_px=origin_px,
        region_index=None,
        region_box_px=box,
        reason="test",
    )


def _speckle(shape, seed=0, level=0.35):
    rng = np.random.default_rng(seed)
    from scipy import ndimage as ndi

    s = ndi.gaussian_filter(rng.rayleigh(1.0, shape), (1.0, 2.0))
    return level * s / s.mean()


def _band(img, row_px, amp, sigma_px=2.0, cols=slice(None)):
    r = np.arange(img.shape[0])[:, None]
    img[:, cols] += amp * np.exp(-(((r - row_px) / sigma_px) ** 2))


def chest(spacing_mm=0.1, pleura_px=180, rows=420, cols=400, origin=(0.0, 0.0), seed=0):
    """Skin at the top, one fascia at 60 px, the pleura at ``pleura_px`` with an A-line at twice
    its depth below the skin, the lung fainter than the wall."""
    img = _speckle((rows, cols), seed)
    skin = int(origin[0])
    img[pleura_px:] *= 0.5
    _band(img, skin + 2, 1.5)
    _band(img, 60 + skin, 1.2)
    _band(img, pleura_px, 2.5)
    _band(img, skin + 2 * (pleura_px - skin), 1.0)
    return np.clip(img * 90, 0, 255).astype(np.uint8)


def _pleura(structs):
    found = [s for s in structs if s.kind == "pleura"]
    assert len(found) == 1, [s.kind for s in structs]
    return np.asarray(found[0].points_mm)


def test_pleura_depth_in_mm_from_the_calibration() -> None:
    # pleura drawn at image row 180 with 0.1 mm pixels and origin row 0: 180 * 0.1 = 18.0 mm deep
    cal = _cal(0.1)
    res = detect_frame(chest(), cal)
    pts = _pleura(to_structures(res, cal))
    assert np.median(pts[:, 0]) == pytest.approx(18.0, abs=0.15)
    s = [s for s in to_structures(res, cal) if s.kind == "pleura"][0]
    assert s.suggested and 0.0 < s.confidence <= 1.0 and "A-line" in s.evidence


def test_origin_offset_moves_world_mm() -> None:
    # origin row 20, pleura at row 200: (200 - 20) * 0.1 = 18.0 mm; origin col 200: the frame spans
    # (0 - 200) * 0.1 = -20 mm to (399 - 200) * 0.1 = 19.9 mm
    cal = _cal(0.1, origin_px=(20.0, 200.0))
    res = detect_frame(chest(pleura_px=200, origin=(20.0, 200.0)), cal)
    pts = _pleura(to_structures(res, cal))
    assert np.median(pts[:, 0]) == pytest.approx(18.0, abs=0.15)
    assert pts[:, 1].min() >= -20.0 - 1e-6 and pts[:, 1].max() <= 19.9 + 1e-6


def test_no_pleura_without_a_line_or_rib() -> None:
    # the same frame without the reverberation: a bright deep line alone is a fascia, not the pleura
    img = _speckle((420, 400)) * 90
    _band(img, 2, 1.5 * 90)
    _band(img, 60, 1.2 * 90)
    _band(img, 180, 2.5 * 90)
    frame = np.clip(img, 0, 255).astype(np.uint8)
    cal = _cal(0.1)
    res = detect_frame(frame, cal)
    kinds = [d.kind for d in res.detections]
    assert "pleura" not in kinds
    fascia = [np.median(np.asarray(s.points_mm)[:, 0]) for s in to_structures(res, cal) if s.kind == "fascia"]
    # fasciae at rows 60 and 180: 6.0 mm and 18.0 mm
    assert any(abs(f - 6.0) < 0.3 for f in fascia) and any(abs(f - 18.0) < 0.3 for f in fascia)


def test_rib_cortex_with_shadow() -> None:
    # cortex at row 120 over columns 100-249 (0.1 mm: 12.0 mm deep, 15 mm wide), shadow below
    img = _speckle((400, 400)) * 90
    _band(img, 120, 3.0 * 90, cols=slice(100, 250))
    img[124:, 100:250] *= 0.03
    frame = np.clip(img, 0, 255).astype(np.uint8)
    cal = _cal(0.1)
    res = detect_frame(frame, cal, site="rhomboid")
    ribs = [s for s in to_structures(res, cal) if s.kind == "rib"]
    assert len(ribs) == 1
    pts = np.asarray(ribs[0].points_mm)
    assert np.median(pts[:, 0]) == pytest.approx(12.0, abs=0.3)
    assert pts[:, 1].min() == pytest.approx(10.0, abs=1.0) and pts[:, 1].max() == pytest.approx(24.9, abs=1.0)
    assert "shadow" in ribs[0].evidence
    # the same shadow on a buttock is bone, not a rib
    kinds = [d.kind for d in detect_frame(frame, cal, site="gluteus_medius").detections]
    assert "bone" in kinds and "rib" not in kinds


def test_anechoic_disk_is_a_vessel_with_its_centre_in_mm() -> None:
    # lumen radius 20 px at (150, 200) with 0.1 mm pixels: centre (15.0, 20.0) mm, 4.0 mm across
    img = _speckle((400, 400)) * 90 + 20
    rr, cc = np.mgrid[:400, :400]
    img[(rr - 150) ** 2 + (cc - 200) ** 2 < 20**2] = 1
    frame = np.clip(img, 0, 255).astype(np.uint8)
    cal = _cal(0.1)
    vessels = [s for s in to_structures(detect_frame(frame, cal), cal) if s.kind == "vessel"]
    assert len(vessels) == 1 and vessels[0].closed
    pts = np.asarray(vessels[0].points_mm)
    assert pts.mean(axis=0) == pytest.approx([15.0, 20.0], abs=0.15)
    assert np.ptp(pts[:, 0]) == pytest.approx(4.0, abs=0.4)
    assert "anechoic" in vessels[0].evidence


@settings(max_examples=12, deadline=None)
@given(
    row=st.integers(40, 300),
    col=st.integers(40, 300),
    radius_px=st.integers(12, 30),
    spacing=st.sampled_from([0.08, 0.1, 0.15, 0.2]),
)
def test_vessel_centre_property(row: int, col: int, radius_px: int, spacing: float) -> None:
    img = _speckle((360, 360), seed=row) * 90 + 20
    rr, cc = np.mgrid[:360, :360]
    img[(rr - row) ** 2 + (cc - col) ** 2 < radius_px**2] = 1
    frame = np.clip(img, 0, 255).astype(np.uint8)
    cal = _cal(spacing)
    vessels = [s for s in to_structures(detect_frame(frame, cal), cal) if s.kind == "vessel"]
    assert len(vessels) == 1
    centre = np.asarray(vessels[0].points_mm).mean(axis=0)
    # world mm = index * spacing (origin 0); within 1.5 image pixels
    assert np.abs(centre - np.array([row, col]) * spacing).max() <= 1.5 * spacing


@settings(max_examples=30, deadline=None)
@given(
    factor=st.integers(1, 4), r0=st.integers(0, 50), c0=st.integers(0, 50), pr=st.floats(0, 100), pc=st.floats(0, 100)
)
def test_work_grid_round_trip(factor: int, r0: int, c0: int, pr: float, pc: float) -> None:
    v = FrameView(np.zeros((4, 4), np.float32), (r0, c0, r0 + 99, c0 + 99), factor, (0.2, 0.2), True, 1.0)
    back = v.work_to_image(v.image_to_work([[pr, pc]]))
    assert back == pytest.approx(np.array([[pr, pc]]))


def test_uncalibrated_gives_pixels_and_refuses_mm() -> None:
    none = Calibration(
        source="NONE",
        spacing_mm=None,
        origin_px=(0.0, 0.0),
        region_index=None,
        region_box_px=None,
        reason="no Sequence of Ultrasound Regions and no PixelSpacing",
    )
    res = detect_frame(chest(), none)
    assert not res.calibrated and any("pixels only" in n for n in res.notes)
    assert any(d.kind == "pleura" for d in res.detections)  # found, in pixels
    with pytest.raises(CalibrationError, match="pixels only"):
        to_structures(res, none)


def test_region_box_limits_the_search() -> None:
    # a vessel outside the calibrated region (columns 0-199) is not reported
    img = _speckle((300, 400)) * 90 + 20
    rr, cc = np.mgrid[:300, :400]
    img[(rr - 150) ** 2 + (cc - 300) ** 2 < 20**2] = 1
    frame = np.clip(img, 0, 255).astype(np.uint8)
    cal = Calibration(
        source="US_REGION",
        spacing_mm=(0.1, 0.1),
        origin_px=(0.0, 0.0),
        region_index=0,
        region_box_px=(0, 0, 299, 199),
        reason="test",
    )
    assert not [d for d in detect_frame(frame, cal).detections if d.kind == "vessel"]
    assert prepare_frame(frame, cal).box_px == (0, 0, 299, 199)


def test_bad_frame_shape_is_a_typed_error() -> None:
    with pytest.raises(ImageReadError, match="one frame"):
        detect_frame(np.zeros((3, 10, 10, 3), np.uint8))


@settings(max_examples=10, deadline=None)
@given(
    pleura_px=st.integers(120, 190),
    spacing=st.sampled_from([0.08, 0.1, 0.12]),
    origin_row=st.integers(0, 10),
    seed=st.integers(0, 1000),
)
def test_pleura_depth_property(pleura_px: int, spacing: float, origin_row: int, seed: int) -> None:
    # the pleura drawn at image row pleura_px is (pleura_px - origin_row) * spacing mm deep;
    # the A-line sits at twice its depth below the skin (origin_row), inside the 420-row frame
    cal = _cal(spacing, origin_px=(float(origin_row), 0.0))
    frame = chest(pleura_px=pleura_px, origin=(float(origin_row), 0.0), seed=seed)
    pts = _pleura(to_structures(detect_frame(frame, cal), cal))
    assert np.median(pts[:, 0]) == pytest.approx((pleura_px - origin_row) * spacing, abs=1.5 * spacing)
