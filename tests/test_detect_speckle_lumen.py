"""The speckle lumen test of ``detect.vessels``: a grey lumen with a dark core inside a bright wall.

On a scanner's image (and the physical phantom) the point spread function smears the bright
arterial wall into the lumen: the lumen is grey, only its core is dark.  Grid: 0.25 mm per working
pixel, tissue at grey 0.5 (so the core seed level is 0.55 x 0.5 = 0.275 and the wall must reach
1.2 x 0.5 = 0.6 on average and 0.9 x 0.5 = 0.45 on every side).
"""

from __future__ import annotations

import numpy as np

from needleplan.detect._frame import FrameView
from needleplan.detect.vessels import LUMEN_RATIO, find_vessels

SPACING_MM = 0.25


def _tissue() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    img = (0.5 + 0.03 * rng.standard_normal((200, 200))).astype(np.float32)
    rr, cc = np.mgrid[:200, :200]
    return img, rr, cc


def _find(img: np.ndarray):
    view = FrameView(img, (0, 0, 199, 199), 1, (SPACING_MM, SPACING_MM), True, 200.0)
    return find_vessels(view, img, np.ones_like(img, bool))


def test_grey_lumen_in_a_bright_wall_is_a_vessel() -> None:
    img, rr, cc = _tissue()
    d = np.hypot(rr - 100, cc - 90)
    img[d <= 8] = 0.85  # wall, 2 mm thick as smeared by the PSF: 1.7 x tissue
    img[d <= 4.5] = 0.35  # grey lumen (0.41 of the wall): not anechoic
    img[d <= 3] = 0.25  # dark core, 0.75 mm radius: 0.29 of the wall
    blobs = _find(img)
    assert len(blobs) == 1
    b = blobs[0]
    # centre (100, 90) px = (25.0, 22.5) mm; within half a pixel
    assert abs(b.centre[0] - 100) < 0.5 and abs(b.centre[1] - 90) < 0.5
    # the anechoic test alone would have missed it: 0.25 / 0.85 = 0.29 > 0.2
    assert b.lumen_ratio > LUMEN_RATIO
    # the edge is refined at the half level (0.25 + 0.85) / 2 = 0.55: the whole grey lumen,
    # radius 4.5 px = 1.1 mm, so 2.0-2.5 mm across (pixelated disc)
    diameter_mm = 2 * np.sqrt(b.axes[0] * b.axes[1]) * SPACING_MM
    assert 2.0 <= diameter_mm <= 2.6


def test_speckle_drop_out_is_not_a_vessel() -> None:
    img, rr, cc = _tissue()
    img[np.hypot(rr - 100, cc - 90) <= 3] = 0.25  # the same dark core, ordinary tissue around it
    assert _find(img) == []


def test_dark_gap_under_one_bright_fascia_is_not_a_vessel() -> None:
    img, rr, cc = _tissue()
    img[90:96, :] = 0.85  # a fascia line just above the core
    img[np.hypot(rr - 100, cc - 90) <= 3] = 0.25
    assert _find(img) == []


def test_anechoic_lumen_is_still_found_by_the_first_test() -> None:
    img, rr, cc = _tissue()
    d = np.hypot(rr - 100, cc - 90)
    img[d <= 10] = 0.6
    img[d <= 8] = 0.03  # anechoic 4 mm lumen: 0.06 of its wall
    blobs = _find(img)
    assert len(blobs) == 1 and blobs[0].lumen_ratio < LUMEN_RATIO
