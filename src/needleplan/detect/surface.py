"""Skin line and fascia lines.

Clinical cues (docs/clinical-rules.md 1I): Fascia "thin linear hyperechoic layer"; Subcutaneous fat
"hypoechoic with thin echogenic septa parallel to the skin".  The skin is the first strong echo
under the transducer; fasciae are long bright horizontal lines between the skin and the deepest
structure (rib cortex, pleura) found by the other detectors.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from needleplan.detect._frame import FrameView
from needleplan.detect._lines import Line
from needleplan.detect.results import Detection

__all__ = ["detect_skin", "detect_fascia", "line_detection", "SKIN_LEVEL", "FASCIA_MIN_SPAN"]

#: The skin is the first row, from the top, at least this bright (grey levels are scaled so the
#: tissue's bright speckle, its 95th percentile, is 1).
SKIN_LEVEL = 0.6
#: The skin line's first echoes lie within this depth of the shallowest one (a curvilinear face's arc
#: rises about 7 mm over a 50 mm footprint, clinical-rules 1F probe sizes) [inference].
SKIN_SPREAD_MM = 10.0
#: Smallest median ridge strength of a fascia (speckle traced into a line stays below it)
#: [inference: phantom fasciae 0.18-0.42 and chained speckle 0.11-0.18, real MSK fasciae 0.12-0.17;
#: a compromise that keeps the clearer real ones and lets some phantom speckle through].
FASCIA_MIN_STRENGTH = 0.14
#: A fascia must run across at least this fraction of the frame's width (1I Fascia row: a *linear*
#: layer, not a speck).
FASCIA_MIN_SPAN = 0.35


def line_detection(
    view: FrameView, rows: np.ndarray, cols: np.ndarray, kind: str, conf: float, evidence: str
) -> Detection:
    """A polyline detection from working-grid rows and columns, sampled about every mm."""
    step = max(int(round(view.mm_to_work(1.0, 1))), 1)
    order = np.argsort(cols)
    rows, cols = np.asarray(rows, float)[order], np.asarray(cols, float)[order]
    sample = np.arange(cols[0], cols[-1] + 1e-9, step, dtype=float)
    if sample[-1] < cols[-1]:
        sample = np.append(sample, cols[-1])
    pts = view.work_to_image(np.column_stack([np.interp(sample, cols, rows), sample]))
    return Detection(kind, tuple(map(tuple, pts.tolist())), False, round(float(np.clip(conf, 0, 1)), 3), evidence)


def detect_skin(view: FrameView, sm: np.ndarray) -> tuple[Detection | None, np.ndarray]:
    """The skin line: per column, the first row at least :data:`SKIN_LEVEL` bright.

    Returns the detection (or None) and the skin row per working column (NaN where not found).

    Examples
    --------
    >>> img = np.zeros((50, 40), np.float32); img[6:, :] = 1.0
    >>> v = FrameView(img, (0, 0, 49, 39), 1, (0.2, 0.2), True, 1.0)
    >>> det, rows = detect_skin(v, img)
    >>> det.kind, float(rows[20])
    ('skin', 6.0)
    """
    rows, cols = sm.shape
    limit = min(rows, int(round(view.mm_to_work(15.0, 0))) + 1)
    above = sm[:limit] >= SKIN_LEVEL
    found = above.any(axis=0)
    first = np.where(found, np.argmax(above, axis=0), np.nan).astype(float)
    imaged = (sm > 0.05).any(axis=0)  # columns with any echo (a sector leaves the corners black)
    if not found.any():
        return None, np.full(cols, np.nan)
    # the skin is the shallow run of first echoes; where a sector's edge cuts the column the first
    # echo drops steeply away from it
    found &= first <= np.nanmin(first) + view.mm_to_work(SKIN_SPREAD_MM, 0)
    if found.sum() < max(0.2 * imaged.sum(), 3):
        return None, np.full(cols, np.nan)
    k = max(int(round(view.mm_to_work(3.0, 1))) | 1, 3)
    idx = np.nonzero(found)[0]
    filled = np.interp(np.arange(cols), idx, first[found])
    smooth_rows = ndi.median_filter(filled, size=min(k, cols), mode="nearest")
    jitter = float(np.median(np.abs(filled - smooth_rows)[found]))
    conf = float(found.sum() / max(imaged.sum(), 1)) * (1.0 / (1.0 + jitter))
    span = np.arange(idx[0], idx[-1] + 1)
    at_top = float(np.median(smooth_rows)) < 1.0
    evidence = (
        "first strong echo is at the transducer face (skin in contact, no stand-off)"
        if at_top
        else "first strong echo below the transducer, continuous across the frame"
    )
    det = line_detection(view, smooth_rows[span], span.astype(float), "skin", conf, evidence)
    return det, smooth_rows


def detect_fascia(
    view: FrameView,
    lines: list[Line],
    *,
    top_row: np.ndarray,
    bottom_row: np.ndarray,
    ridge_scale: float,
) -> list[Detection]:
    """Fascia lines: long traced lines between the skin (``top_row``) and ``bottom_row``.

    ``top_row`` and ``bottom_row`` are per working column (NaN: no limit).  ``ridge_scale`` is the
    ridge strength that counts as clearly bright (for the confidence).
    """
    out = []
    width = view.image.shape[1]
    gap = view.mm_to_work(1.0, 0)
    for ln in lines:
        if ln.span < FASCIA_MIN_SPAN * width or float(np.median(ln.strength)) < FASCIA_MIN_STRENGTH:
            continue
        ci = np.clip(ln.cols.astype(int), 0, width - 1)
        top = np.nan_to_num(top_row[ci], nan=-np.inf)
        bot = np.nan_to_num(bottom_row[ci], nan=np.inf)
        inside = (ln.rows > top + gap) & (ln.rows < bot - gap)
        if inside.mean() < 0.8:
            continue
        strength = float(np.median(ln.strength))
        conf = min(1.0, 0.4 + 0.4 * strength / ridge_scale) * min(1.0, ln.span / (0.7 * width))
        out.append(
            line_detection(
                view,
                ln.rows,
                ln.cols,
                "fascia",
                conf,
                f"thin bright line across {100 * ln.span / width:.0f}% of the frame, above the deepest structure",
            )
        )
    return out
