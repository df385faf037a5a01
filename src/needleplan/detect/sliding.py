"""Lung sliding on a cine: the texture below the pleural line moves while the wall above is still.

Clinical cue (clinical-rules.md 1I, Pleura row): lung sliding ("shimmering", "ants marching")
confirms the line is the pleura and, where present, rules out a pneumothorax at that spot; absent
sliding is a pneumothorax sign.  Measured here as the frame-to-frame decorrelation of a band of
texture just below the pleural line, minus that of a band just above it (the chest wall).  Both
bands follow the line as breathing moves it up and down, so breathing alone does not read as
sliding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from needleplan.detect._frame import FrameView

__all__ = ["SlidingResult", "SlidingTracker", "SLIDING_THRESHOLD"]

#: Sliding present when the lung band decorrelates between frames by at least this much more than
#: the wall band [inference, tuned on the phantom; see docs/detect-evaluation.md].
SLIDING_THRESHOLD = 0.1
#: Bands, mm from the line: the wall band ends and the lung band starts this far from it.
BAND_GAP_MM = 1.2
BAND_MM = 4.0
#: Largest breathing shift of the pleural line followed between frames, mm (1I / R3: breathing
#: moves the pleura "more than 4.5 mm in some people").
TRACK_MM = 5.0


@dataclass(frozen=True, slots=True)
class SlidingResult:
    """Lung sliding measured on a cine."""

    present: bool
    index: float          # median lung decorrelation minus wall decorrelation
    lung_change: float    # median 1 - correlation of the lung band between frames
    wall_change: float    # same for the wall band
    pairs: int            # frame pairs measured

    def evidence(self) -> str:
        """One line for the pleura's evidence."""
        word = "sliding present" if self.present else "sliding absent"
        return (f"{word} (texture below the line changes {self.lung_change:.2f} per frame, "
                f"wall above {self.wall_change:.2f}; {self.pairs} frame pairs)")


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 1.0


class SlidingTracker:
    """Feed working frames one by one (``add``); ``result()`` gives the sliding verdict.

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
        self._gap = max(int(round(view.mm_to_work(BAND_GAP_MM, 0))), 1)
        self._band = max(int(round(view.mm_to_work(BAND_MM, 0))), 3)
        self._track = max(int(round(view.mm_to_work(TRACK_MM, 0))), 1)
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._offset = 0
        self._lung: list[float] = []
        self._wall: list[float] = []

    def _sample(self, img: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray] | None:
        rows = img.shape[0]
        base = np.round(self._rows).astype(int) + offset
        lo = base - self._gap - self._band
        hi = base + self._gap + self._band
        ok = (lo >= 0) & (hi < rows)
        if ok.sum() < 8:
            return None
        c = self._cols[ok]
        b = base[ok]
        k = np.arange(self._band)
        wall = img[(b - self._gap - self._band)[None, :] + k[:, None], c[None, :]]
        lung = img[(b + self._gap)[None, :] + k[:, None], c[None, :]]
        return wall, lung

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
        """Add the next working frame (same grid and scale as the reference)."""
        self._offset = self._follow(img)
        bands = self._sample(img, self._offset)
        if bands is None:
            return
        if self._prev is not None and self._prev[0].shape == bands[0].shape:
            self._wall.append(1.0 - _ncc(self._prev[0], bands[0]))
            self._lung.append(1.0 - _ncc(self._prev[1], bands[1]))
        self._prev = bands

    def result(self) -> SlidingResult | None:
        """The verdict, or None with fewer than two usable frames."""
        if not self._lung:
            return None
        lung = float(np.median(self._lung))
        wall = float(np.median(self._wall))
        index = lung - wall
        return SlidingResult(index >= SLIDING_THRESHOLD, index, lung, wall, len(self._lung))
