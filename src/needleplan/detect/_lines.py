"""Bright, roughly horizontal lines: a ridge filter and a strip-by-strip line tracer.

Skin, fascia, rib cortex and pleura all show as thin hyperechoic lines running across the frame
(docs/clinical-rules.md 1I: Fascia "thin linear hyperechoic layer"; Pleura "horizontal hyperechoic line").
The tracer finds ridge peaks in narrow vertical strips and links peaks of neighbouring strips into
lines, so it follows gently curved or tilted lines and bridges short gaps (a rib shadow).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy.signal import find_peaks

from needleplan.detect._frame import FrameView

__all__ = ["Line", "ridge_map", "trace_lines"]


@dataclass(frozen=True, slots=True)
class Line:
    """A traced line on the working grid.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Working-grid positions of the line, one per strip, columns increasing.
    strength : numpy.ndarray
        Ridge strength at each point.
    """

    rows: np.ndarray
    cols: np.ndarray
    strength: np.ndarray

    @property
    def mean_row(self) -> float:
        """Mean working row of the line."""
        return float(np.mean(self.rows))

    @property
    def span(self) -> float:
        """Column extent in working pixels."""
        return float(self.cols[-1] - self.cols[0]) if len(self.cols) else 0.0

    def row_at(self, cols: np.ndarray) -> np.ndarray:
        """Row of the line at ``cols`` (linear interpolation, held constant past the ends)."""
        return np.interp(np.asarray(cols, dtype=float), self.cols, self.rows)


#: At most this many traced lines are kept per frame (the strongest): a frame shows some twenty real
#: lines (skin, fascia planes, rib cortices, pleura, A-lines); more are speckle on a frame whose
#: pixels are far coarser than tissue detail, and the pleura search compares lines pairwise.
MAX_LINES = 64


def ridge_map(view: FrameView, *, thickness_mm: float = 0.4, along_mm: float = 1.2) -> np.ndarray:
    """Scale-normalised strength of bright horizontal ridges (positive on a bright line).

    A thin bright line gives a negative second derivative across it; smoothing more along the
    columns than along the rows favours horizontal lines over speckle.

    Examples
    --------
    >>> from needleplan.detect._frame import FrameView
    >>> img = np.zeros((40, 30), np.float32); img[20, :] = 1.0
    >>> v = FrameView(img, (0, 0, 39, 29), 1, (0.2, 0.2), True, 1.0)
    >>> int(np.argmax(ridge_map(v)[:, 15]))
    20
    """
    s_row = max(view.mm_to_work(thickness_mm, 0), 0.7)
    s_col = max(view.mm_to_work(along_mm, 1), 0.7)
    d2 = ndi.gaussian_filter(view.image, (s_row, s_col), order=(2, 0), mode="nearest")
    return (-d2 * s_row**2).astype(np.float32)


def _strip_profiles(ridge: np.ndarray, width: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    cols = ridge.shape[1]
    centres = np.arange(width // 2, cols - width // 2, max(stride, 1))
    if centres.size == 0:
        centres = np.array([cols // 2])
    csum = np.concatenate(
        [np.zeros((ridge.shape[0], 1), np.float64), np.cumsum(ridge, axis=1, dtype=np.float64)], axis=1
    )
    lo = np.clip(centres - width // 2, 0, cols)
    hi = np.clip(lo + width, 0, cols)
    prof = (csum[:, hi] - csum[:, lo]) / np.maximum(hi - lo, 1)
    return centres, prof  # prof: (rows, n_strips)


def trace_lines(
    view: FrameView,
    ridge: np.ndarray,
    *,
    min_strength: float,
    strip_mm: float = 2.0,
    max_jump_mm: float = 0.8,
    max_gap_mm: float = 4.0,
    min_length_mm: float = 6.0,
    skip_cols: np.ndarray | None = None,
) -> list[Line]:
    """Trace bright horizontal lines across the frame.

    Parameters
    ----------
    view : FrameView
        The working frame (for its scale).
    ridge : numpy.ndarray
        Output of :func:`ridge_map`.
    min_strength : float
        Smallest ridge strength of a line point.
    strip_mm, max_jump_mm, max_gap_mm, min_length_mm : float
        Strip width, largest row change between neighbouring strips, widest gap bridged, shortest
        line kept (all in mm).
    skip_cols : numpy.ndarray of bool, optional
        Working columns to ignore (for example rib shadows).

    Returns
    -------
    list of Line
        Lines sorted by depth.
    """
    width = max(int(round(view.mm_to_work(strip_mm, 1))), 2)
    centres, prof = _strip_profiles(ridge, width, max(width // 2, 1))
    step = float(centres[1] - centres[0]) if centres.size > 1 else float(width)
    jump = max(view.mm_to_work(max_jump_mm, 0), 1.0)
    max_gap = max(int(round(view.mm_to_work(max_gap_mm, 1) / step)), 1)
    min_sep = max(int(round(view.mm_to_work(1.0, 0))), 2)
    chains: list[list[tuple[int, float, float]]] = []  # (strip index, row, strength)
    active: list[int] = []  # chains whose last point is at most max_gap strips back
    for k in range(centres.size):
        if skip_cols is not None and skip_cols[min(int(centres[k]), skip_cols.size - 1)]:
            continue
        active = [j for j in active if k - chains[j][-1][0] <= max_gap]
        p = prof[:, k]
        peaks, props = find_peaks(p, height=min_strength, distance=min_sep)
        if peaks.size == 0:
            continue
        heights = props["peak_heights"]
        # sub-pixel rows by a parabola through each peak and its neighbours
        inner = (peaks > 0) & (peaks < p.size - 1)
        rows_sub = peaks.astype(float)
        pk = peaks[inner]
        a3, b3, c3 = p[pk - 1], p[pk], p[pk + 1]
        den = a3 - 2 * b3 + c3
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.where(den < 0, 0.5 * (a3 - c3) / den, 0.0)
        rows_sub[inner] += off
        last_rows = np.array([chains[j][-1][1] for j in active]) if active else np.empty(0)
        last_gaps = np.array([k - chains[j][-1][0] for j in active]) if active else np.empty(0)
        taken = np.zeros(len(active), bool)
        new_chains = []
        for i in np.argsort(-heights):
            r_sub = float(rows_sub[i])
            best = -1
            if len(active):
                d = np.abs(last_rows - r_sub)
                ok = (~taken) & (d <= jump * last_gaps)
                if ok.any():
                    best = int(np.argmin(np.where(ok, d, np.inf)))
            if best >= 0:
                chains[active[best]].append((k, r_sub, float(heights[i])))
                taken[best] = True
            else:
                chains.append([(k, r_sub, float(heights[i]))])
                new_chains.append(len(chains) - 1)
        active.extend(new_chains)
    min_len = view.mm_to_work(min_length_mm, 1)
    lines = []
    for ch in chains:
        cols = centres[[c[0] for c in ch]].astype(float)
        if cols.size < 2 or cols[-1] - cols[0] < min_len:
            continue
        lines.append(Line(np.array([c[1] for c in ch]), cols, np.array([c[2] for c in ch])))
    if len(lines) > MAX_LINES:  # speckle traced as lines: keep the strongest, bound the pairwise checks
        lines = sorted(lines, key=lambda ln: -float(np.sum(ln.strength)))[:MAX_LINES]
    lines.sort(key=lambda ln: ln.mean_row)
    return lines
