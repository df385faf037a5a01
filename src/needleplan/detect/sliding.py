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

__all__ = ["SlidingResult", "SlidingTracker", "SLIDING_MIN_MM"]

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
        lu = phase_cross_correlation(self._ref[1], lung, upsample_factor=10, normalization=None)[0]
        self._wall_dx.append(float(w[1]))
        self._lung_dx.append(float(lu[1]))

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
