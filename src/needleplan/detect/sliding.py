"""Lung sliding on a cine: the texture below the pleural line moves while the wall above is still.

Clinical cue (docs/clinical-rules.md 1I, Pleura row): lung sliding ("shimmering", "ants marching")
confirms the line is the pleura and, where present, rules out a pneumothorax at that spot; absent
sliding is a pneumothorax sign.  Measured here as the sideways movement of a band of texture just
below the pleural line relative to a band just above it (the chest wall), each frame against the
reference frame, by phase correlation.  The lung band follows the pleural line as breathing moves
it up and down, and only the sideways component counts, so breathing alone does not read as
sliding; the wall band's own movement (a probe that slides on the skin) is subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.registration import phase_cross_correlation

from needleplan.detect._frame import FrameView

__all__ = ["SlidingResult", "SlidingTracker", "SLIDING_MIN_MM", "sideways_shift_near"]

#: Sliding present when the lung texture's sideways excursion relative to the wall (5th to 95th
#: percentile over the cine) reaches this many mm.  1I names the sign, not a size; 0.5 mm is an
#: [inference]: more than the phase-correlation noise (about 0.05 mm on the phantom), less than
#: the phantom's 2.5 mm and the few mm of visceral pleura travel over a breath.
SLIDING_MIN_MM = 0.5
#: Bands, mm from the line: the wall band ends and the lung band starts this far from it.
BAND_GAP_MM = 1.2
BAND_MM = 4.0
#: Largest breathing shift of the pleural line followed, mm (R3: breathing moves the pleura "more
#: than 4.5 mm in some people").
TRACK_MM = 5.0
#: Largest sideways shift of the lung texture against the reference frame that is believed, mm
#: (the sideways counterpart of ``TRACK_MM``; R3: the pleura moves "more than 4.5 mm in some
#: people" with breathing).  A correlation peak further out is an alias: B-lines a few mm apart
#: look alike after one spacing (a development cine read 9.1 mm of sliding for 2.5 mm), so the
#: peak is then looked for within this reach.
SLIDE_REACH_MM = 5.0


@dataclass(frozen=True, slots=True)
class SlidingResult:
    """Lung sliding measured on a cine."""

    present: bool
    excursion_mm: float  # sideways travel of the lung texture relative to the wall
    wall_mm: float  # sideways travel of the wall band (probe movement)
    frames: int  # frames measured

    def evidence(self) -> str:
        """One line for the pleura's evidence."""
        word = "sliding present" if self.present else "sliding absent"
        return (
            f"{word} (texture below the line moves {self.excursion_mm:.1f} mm sideways "
            f"against the wall above, over {self.frames} frames)"
        )


class SlidingTracker:
    """Feed working frames one by one (``add``, the reference frame first); then ``result()``.

    Parameters
    ----------
    view : FrameView
        The reference frame's view (for the scale).
    line_rows, line_cols : numpy.ndarray
        The pleural line on the working grid (from the reference frame).
    """

    def __init__(self, view: FrameView, line_rows: np.ndarray, line_cols: np.ndarray) -> None:
        cols = np.arange(int(np.ceil(line_cols[0])), int(np.floor(line_cols[-1])) + 1)
        self._cols = cols
        self._rows = np.interp(cols, line_cols, line_rows)
        self._col_mm = view.spacing_mm[1]
        self._gap = max(int(round(view.mm_to_work(BAND_GAP_MM, 0))), 1)
        self._band_px = max(int(round(view.mm_to_work(BAND_MM, 0))), 3)
        self._track = max(int(round(view.mm_to_work(TRACK_MM, 0))), 1)
        self._reach = view.mm_to_work(SLIDE_REACH_MM, 1)
        self._offset = 0
        self._ref: tuple[np.ndarray, np.ndarray] | None = None
        self._lung_dx: list[float] = []
        self._wall_dx: list[float] = []

    def _band(self, img: np.ndarray, offset: int, lung: bool) -> np.ndarray | None:
        base = np.round(self._rows).astype(int) + offset
        start = base + self._gap if lung else base - self._gap - self._band_px
        if start.min() < 0 or start.max() + self._band_px > img.shape[0]:
            return None
        k = np.arange(self._band_px)
        return img[start[None, :] + k[:, None], self._cols[None, :]]

    def _follow(self, img: np.ndarray) -> int:
        """Vertical offset of the line in this frame (the brightest shifted copy near the last)."""
        base = np.round(self._rows).astype(int)
        best, best_v = self._offset, -np.inf
        for off in range(self._offset - 3, self._offset + 4):
            if abs(off) > self._track:
                continue
            r = base + off
            ok = (r >= 0) & (r < img.shape[0])
            if not ok.any():
                continue
            v = float(img[r[ok], self._cols[ok]].mean())
            if v > best_v:
                best, best_v = off, v
        return best

    def add(self, img: np.ndarray) -> None:
        """Add the next working frame (same grid as the reference)."""
        if self._cols.size < 16:
            return
        self._offset = self._follow(img)
        wall = self._band(img, 0, lung=False)
        lung = self._band(img, self._offset, lung=True)
        if wall is None or lung is None:
            return
        if self._ref is None:
            self._ref = (wall, lung)
            return
        w = phase_cross_correlation(self._ref[0], wall, upsample_factor=10, normalization=None)[0]
        self._wall_dx.append(float(w[1]))
        lu = float(phase_cross_correlation(self._ref[1], lung, upsample_factor=10, normalization=None)[0][1])
        if abs(lu) > self._reach:  # an alias of the texture (B-lines): the best peak within reach
            lu = sideways_shift_near(self._ref[1], lung, 0.0, self._reach)
        self._lung_dx.append(lu)

    def result(self) -> SlidingResult | None:
        """The verdict, or None with fewer than two usable frames."""
        if not self._lung_dx:
            return None
        lung = np.asarray([0.0] + self._lung_dx)
        wall = np.asarray([0.0] + self._wall_dx)
        rel = (lung - wall) * self._col_mm
        excursion = float(np.percentile(rel, 95) - np.percentile(rel, 5))
        wall_mm = float((np.percentile(wall, 95) - np.percentile(wall, 5)) * self._col_mm)
        return SlidingResult(excursion >= SLIDING_MIN_MM, excursion, wall_mm, int(lung.size))


def sideways_shift_near(reference: np.ndarray, moving: np.ndarray, near_px: float, reach_px: float) -> float:
    """The sideways shift (px, to a tenth) that registers ``moving`` onto ``reference``: the
    cross-correlation's highest peak within ``reach_px`` of ``near_px`` (rows shifted by at most one
    pixel), refined by a parabola through it and its neighbours.

    Same sign as ``skimage.registration.phase_cross_correlation(reference, moving)[0][1]``.

    B-lines every 16 px, moved 3 px: the correlation peaks equally at 3, 19 and -13 px; within 8 px
    of no shift, only the true one.

    >>> cols = np.arange(64)
    >>> band = np.tile(np.exp(-((((cols % 16) - 8) / 1.5) ** 2)), (8, 1))
    >>> sideways_shift_near(band, np.roll(band, -3, axis=1), 0.0, 8.0)
    3.0
    """
    cols = reference.shape[1]
    spectrum = np.fft.fft2(reference) * np.conj(np.fft.fft2(moving))
    xc = np.fft.ifft2(spectrum).real[[0, 1, -1]].max(axis=0)  # rows -1..1: the line is followed
    lags = np.arange(cols)
    lags[lags > cols // 2] -= cols
    ok = np.abs(lags - near_px) <= reach_px
    if not ok.any():
        return float(near_px)
    idx = np.flatnonzero(ok)[int(np.argmax(xc[ok]))]
    left, mid, right = xc[(idx - 1) % cols], xc[idx], xc[(idx + 1) % cols]
    bend = left - 2.0 * mid + right
    peak = mid >= left and mid >= right  # at the edge of reach on a slope: no refinement
    frac = 0.5 * (left - right) / bend if peak and bend < 0 else 0.0
    return round(float(lags[idx]) + float(np.clip(frac, -0.5, 0.5)), 1)
