"""Lumbar laminae and the interlaminar window between them (R20).

Over the lumbar spine a lamina looks like a rib (docs/clinical-rules.md 1I, Rib and Lamina rows: a
very bright cortex with an acoustic shadow), so the shadow-casting bones of
:mod:`needleplan.detect.ribs` are the laminae.  Between two neighbouring laminae at about the same
depth the beam passes the interlaminar window; the brightest line there, a few millimetres deeper
than the laminae's cortex, is the ligamentum flavum / posterior complex: the neuraxis a needle must not reach.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import ndimage as ndi

from needleplan.detect._frame import FrameView
from needleplan.detect.results import Detection

__all__ = ["LAMINA_LABEL", "WINDOW_LABEL", "label_laminae", "detect_interlaminar_window"]

LAMINA_LABEL = "lamina"
WINDOW_LABEL = "interlaminar window (ligamentum flavum / dura)"
#: A window is 4-25 mm wide between two laminae whose cortices differ by at most 8 mm in depth, and
#: its bright line lies 1-15 mm below them [inference: lumbar interlaminar gaps of about a
#: centimetre in a parasagittal view, the ligamentum flavum a few mm below the lamina surface, 1D].
WINDOW_WIDTH_MM = (4.0, 25.0)
LAMINA_DEPTH_STEP_MM = 8.0
LINE_BELOW_MM = (1.0, 15.0)
#: The bright line's mean must stand this many times above the window's median level [inference].
LINE_CONTRAST = 1.5


def label_laminae(detections: list[Detection]) -> list[Detection]:
    """The detections with every shadow-casting bone named a lamina (rib kinds become bone)."""
    return [
        dataclasses.replace(d, kind="bone", label=LAMINA_LABEL) if d.kind in ("rib", "bone") else d for d in detections
    ]


def _extent(view: FrameView, det: Detection) -> tuple[float, float, float]:
    """First and last working column and median cortex row of a bone detection."""
    pts = view.image_to_work(np.asarray(det.points_px, dtype=float))
    return float(pts[:, 1].min()), float(pts[:, 1].max()), float(np.median(pts[:, 0]))


def _per_work_px(view: FrameView, axis: int) -> float:
    """Millimetres (calibrated) or image pixels (not) per working pixel along ``axis``."""
    return view.spacing_mm[axis] if view.calibrated else float(view.factor)


def detect_interlaminar_window(view: FrameView, sm: np.ndarray, bones: list[Detection]) -> list[Detection]:
    """A suggested neuraxis line in each gap between two neighbouring laminae, in image pixels.

    Examples
    --------
    >>> img = np.full((200, 200), 0.4, np.float32)
    >>> img[60:62, 20:80] = 3.0; img[62:, 20:80] = 0.02      # lamina 1 and its shadow
    >>> img[60:62, 120:180] = 3.0; img[62:, 120:180] = 0.02  # lamina 2
    >>> img[75:77, 80:120] = 1.6                             # ligamentum flavum in the window
    >>> v = FrameView(img, (0, 0, 199, 199), 1, (0.2, 0.2), True, 1.0)
    >>> b = [Detection("bone", ((60.0, c0), (60.0, c1)), False, 0.9, "test") for c0, c1 in ((20, 79), (120, 179))]
    >>> [round(r) for r, _c in detect_interlaminar_window(v, img, b)[0].points_px[:2]]
    [75, 75]
    """
    out: list[Detection] = []
    ext = sorted(_extent(view, d) for d in bones if d.kind in ("bone", "rib"))
    w_min, w_max = (view.mm_to_work(w, 1) for w in WINDOW_WIDTH_MM)
    step = view.mm_to_work(LAMINA_DEPTH_STEP_MM, 0)
    rows = sm.shape[0]
    for (_a0, a1, ra), (b0, _b1, rb) in zip(ext, ext[1:], strict=False):
        width = b0 - a1 - 1
        if not (w_min <= width <= w_max) or abs(ra - rb) > step:
            continue
        margin = max(int(round(view.mm_to_work(1.0, 1))), 1)
        c0, c1 = int(np.ceil(a1)) + margin, int(np.floor(b0)) - margin
        top = int(round(max(ra, rb) + view.mm_to_work(LINE_BELOW_MM[0], 0)))
        low = int(round(min(ra, rb) + view.mm_to_work(LINE_BELOW_MM[1], 0)))
        top, low = max(top, 0), min(low, rows)
        if c1 - c0 < 2 or low - top < 3:
            continue
        band = sm[top:low, c0 : c1 + 1].astype(np.float64)
        profile = band.mean(axis=1)
        best = int(np.argmax(profile))
        level = float(np.median(band))
        contrast = profile[best] / max(level, 1e-6)
        if contrast < LINE_CONTRAST:
            continue
        # follow the line per column within +-1.5 mm of the brightest row, then smooth it
        half = max(int(round(view.mm_to_work(1.5, 0))), 1)
        lo, hi = max(best - half, 0), min(best + half + 1, band.shape[0])
        per_col = lo + np.argmax(band[lo:hi], axis=0).astype(float)
        per_col = ndi.median_filter(per_col, size=min(5, per_col.size), mode="nearest") + top
        cols = np.arange(c0, c1 + 1, dtype=float)
        pts = view.work_to_image(np.column_stack([per_col, cols]))
        below = (float(np.median(per_col)) - 0.5 * (ra + rb)) * _per_work_px(view, 0)
        gap = width * _per_work_px(view, 1)
        unit = "mm" if view.calibrated else "px"
        conf = float(np.clip(0.4 + 0.2 * (contrast - LINE_CONTRAST), 0.0, 0.9))
        out.append(
            Detection(
                kind="neuraxis",
                points_px=tuple(map(tuple, pts.tolist())),
                closed=False,
                confidence=round(conf, 3),
                evidence=(
                    f"bright line {below:.1f} {unit} below the cortex of two laminae {gap:.1f} {unit} apart "
                    f"({contrast:.1f}x the level in the window): the ligamentum flavum or dura"
                ),
                label=WINDOW_LABEL,
                values={
                    "below_laminae": round(below, 2),
                    "window_width": round(gap, 2),
                    "contrast": round(contrast, 2),
                },
            )
        )
    return out
