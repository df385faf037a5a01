"""Rib (and other bone) detection: a very bright cortex with an acoustic shadow beneath.

Clinical cue (docs/clinical-rules.md 1I, Rib row): "very hyperechoic cortex with posterior acoustic
shadow"; two rib shadows with the pleural line between them form the "bat sign".  A column belongs
to a rib when everything below some bright point is much darker than the same depths elsewhere in
the frame; neighbouring such columns make one rib, whose cortex is the bright point per column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from needleplan.detect._frame import FrameView, smooth
from needleplan.detect.results import Detection

__all__ = ["ShadowMap", "shadow_map", "detect_ribs", "SHADOW_RATIO", "RIB_MAX_WIDTH_MM"]

#: A column is in an acoustic shadow when the mean grey level below the cortex is under this
#: fraction of the frame's typical level at the same depths (1I Rib row: "posterior acoustic shadow";
#: the fraction is an [inference] tuned on the phantom, see docs/detect-evaluation.md).
SHADOW_RATIO = 0.4
#: Bright cortex: at least this many times the soft tissue 1-5 mm above it (1I: "very hyperechoic").
CORTEX_CONTRAST = 1.3
#: Narrowest shadow kept as a rib, and widest: an adult rib is about 1-2 cm wide in a longitudinal
#: view (1I Rib row, "bat sign" geometry); a wider bright line with a shadow is reported as bone.
RIB_MIN_WIDTH_MM = 3.0
RIB_MAX_WIDTH_MM = 30.0
#: Lowest "typical level" used as a reference (scaled grey levels: tissue speckle's 95th percentile is 1).
TYPICAL_FLOOR = 0.1
#: Grey level below which a region is black screen, not tissue (the scaled speckle's 95th
#: percentile is 1; the darkest phantom soft tissue, fat, sits near 0.3) [inference].
TISSUE_LEVEL = 0.15
#: A cortex is among the brightest echoes of the frame: at least its 95th percentile (the scale's 1)
#: (1I Rib row: "very hyperechoic") [inference].
CORTEX_LEVEL = 0.8
#: Black screen (outside a sector): a third of the tissue level.
BLACK_LEVEL = TISSUE_LEVEL / 3
#: Largest step of the cortex between neighbouring columns of one rib (a rib surface is smooth).
CORTEX_STEP_MM = 1.0
#: The band right under a cortex that must already be shadowed, mm.
NEAR_SHADOW_MM = 2.0
#: Shadowed columns up to twice this far apart belong to one rib (ribs lie a centimetre or more
#: apart, 1I "bat sign"; a fascia meeting the cortex can break the shadow test for a few columns).
RIB_BRIDGE_MM = 2.0
#: Depth of tissue that must lie below a cortex for its shadow to be judged.
SHADOW_DEPTH_MM = 4.0


@dataclass(frozen=True, slots=True)
class ShadowMap:
    """Per working column: the cortex row above a shadow (NaN when the column is not shadowed)."""

    cortex_row: np.ndarray  # (cols,) float, NaN where no shadow
    ratio: np.ndarray  # (cols,) shadow darkness ratio at the cortex (lower = darker)
    contrast: np.ndarray  # (cols,) cortex brightness over the soft tissue above it

    @property
    def shadowed(self) -> np.ndarray:
        """Boolean mask of shadowed columns."""
        return np.isfinite(self.cortex_row)


def shadow_map(view: FrameView, sm: np.ndarray | None = None) -> ShadowMap:
    """Find, per column, the bright cortex that casts a shadow below it.

    Examples
    --------
    >>> img = np.full((120, 100), 0.5, np.float32)
    >>> img[40:42, 30:60] = 2.0; img[42:, 30:60] = 0.02
    >>> v = FrameView(img, (0, 0, 119, 99), 1, (0.2, 0.2), True, 1.0)
    >>> m = shadow_map(v)
    >>> bool(m.shadowed[45]), bool(m.shadowed[80]), round(float(m.cortex_row[45]), 1)
    (True, False, 40.1)
    """
    if sm is None:
        sm = smooth(view, 0.3)
    rows, cols = sm.shape
    sm = ndi.uniform_filter1d(sm, max(int(round(view.mm_to_work(1.0, 1))), 1), axis=1, mode="nearest")
    # the typical level at each depth; floored so that a black screen margin or the outside of a
    # curvilinear fan never makes a faint echo look "very bright"
    typical = np.maximum(np.percentile(sm, 75, axis=1).astype(np.float64), TYPICAL_FLOOR)  # (rows,)
    # suffix means: mean of rows r..end, per column and for the typical profile
    rev = np.cumsum(sm[::-1].astype(np.float64), axis=0)[::-1]
    n_below = np.arange(rows, 0, -1, dtype=np.float64)[:, None]
    suffix = rev / n_below
    suffix_typ = np.cumsum(typical[::-1])[::-1] / n_below[:, 0]
    gap = max(int(round(view.mm_to_work(1.2, 0))), 1)
    need = int(round(view.mm_to_work(SHADOW_DEPTH_MM, 0)))
    cortex = np.full(cols, np.nan)
    ratio = np.ones(cols)
    contrast = np.zeros(cols)
    last = rows - gap - need
    if last <= 1:
        return ShadowMap(cortex, ratio, contrast)
    q = suffix[gap : gap + last] / suffix_typ[gap : gap + last, None]  # ratio below row r (r < last)
    # cortex brightness against the soft tissue just above it in the same column
    pre = np.concatenate([np.zeros((1, cols)), np.cumsum(sm.astype(np.float64), axis=0)], axis=0)
    a = max(int(round(view.mm_to_work(5.0, 0))), 2)
    b = max(int(round(view.mm_to_work(1.0, 0))), 1)
    r = np.arange(last)
    hi = np.clip(r - b, 1, None)
    lo = np.clip(r - a, 0, None)
    lo = np.minimum(lo, hi - 1)
    above = (pre[hi] - pre[lo]) / (hi - lo)[:, None]
    bright = sm[:last] / np.maximum(above, TYPICAL_FLOOR)
    # ... and the shadow must start right under the cortex, not under tissue that lies above a bone
    near = max(int(round(view.mm_to_work(NEAR_SHADOW_MM, 0))), 2)
    pre_t = np.concatenate([[0.0], np.cumsum(typical)])
    r_near0 = np.clip(r + gap, 0, rows - 1)
    r_near1 = np.clip(r + gap + near, 1, rows)
    near_mean = (pre[r_near1] - pre[r_near0]) / (r_near1 - r_near0)[:, None]
    near_typ = (pre_t[r_near1] - pre_t[r_near0]) / (r_near1 - r_near0)
    q_near = near_mean / near_typ[:, None]
    ok = (q < SHADOW_RATIO) & (q_near < SHADOW_RATIO) & (bright > CORTEX_CONTRAST)
    # a shadow is dark *beside echoing tissue* under a cortex *covered by tissue*: not the black
    # screen below or beside a sector, nor a caption over a black margin
    ok &= (above >= TISSUE_LEVEL) & (near_typ[:, None] >= TISSUE_LEVEL)
    ok &= sm[:last] >= CORTEX_LEVEL
    score = np.where(ok, bright, 0.0)
    r_best = np.argmax(score, axis=0)
    has = score[r_best, np.arange(cols)] > 0
    ratio[has] = q[r_best[has], np.nonzero(has)[0]]
    contrast[has] = bright[r_best[has], np.nonzero(has)[0]]
    # the cortex is the brightness peak at or just below the sharpest rise, to a fraction of a pixel
    cs = np.nonzero(has)[0]
    win = max(int(round(view.mm_to_work(0.6, 0))), 1)
    idx = np.clip(r_best[cs][:, None] + np.arange(win + 1)[None, :], 0, rows - 1)
    peak = np.take_along_axis(idx, np.argmax(sm[idx, cs[:, None]], axis=1)[:, None], axis=1)[:, 0]
    inner = (peak > 0) & (peak < rows - 1)
    sub = peak.astype(float)
    p, c = peak[inner], cs[inner]
    a3, b3, c3 = sm[p - 1, c], sm[p, c], sm[p + 1, c]
    den = a3 - 2 * b3 + c3
    safe = den < 0
    sub[np.nonzero(inner)[0][safe]] += 0.5 * (a3 - c3)[safe] / den[safe]
    cortex[cs] = sub
    return ShadowMap(cortex, ratio, contrast)


def _runs(mask: np.ndarray, bridge: int) -> list[tuple[int, int]]:
    """Runs of True ``(first, last)``, joining runs separated by at most ``2 * bridge`` False.

    >>> _runs(np.array([0, 1, 1, 0, 1, 0, 0, 0, 0, 1], bool), 1)
    [(1, 4), (9, 9)]
    """
    closed = ndi.binary_closing(mask, structure=np.ones(2 * bridge + 1, bool)) if bridge > 0 else mask
    closed = closed | mask
    lab, n = ndi.label(closed)
    return [(int(s[0].start), int(s[0].stop - 1)) for s in ndi.find_objects(lab)] if n else []


def _smooth_pieces(
    view: FrameView, smap: ShadowMap, sm: np.ndarray, runs: list[tuple[int, int]]
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Split each run of shadowed columns where the cortex jumps (two bones, or a false cortex);
    runs with black screen beside them are dropped whole."""
    step = view.mm_to_work(CORTEX_STEP_MM, 0)
    for c0, c1 in runs:
        cols = np.arange(c0, c1 + 1)
        rows = smap.cortex_row[cols]
        good = np.isfinite(rows)
        if not good.any() or not _sides_echo(view, sm, c0, c1, float(np.median(rows[good]))):
            continue
        rows = np.interp(cols, cols[good], rows[good])
        k = max(int(round(view.mm_to_work(1.5, 1))) | 1, 3)
        rows = ndi.median_filter(rows, size=min(k, rows.size), mode="nearest")
        cuts = np.nonzero(np.abs(np.diff(rows)) > step)[0] + 1
        for piece in np.split(np.arange(cols.size), cuts):
            if good[piece].any():
                yield cols[piece], rows[piece], good[piece]


def _sides_echo(view: FrameView, sm: np.ndarray, c0: int, c1: int, cortex_row: float) -> bool:
    """Whether the columns beside a shadow hold tissue just above and below its cortex's depth
    (or are the image's edge).

    A sector's oblique sides and its curved floor also darken a column below some point, but there
    black screen lies beside it on one side; beside a rib's shadow lies soft tissue on both.
    """
    rows, cols = sm.shape
    skip = max(int(round(view.mm_to_work(1.0, 1))), 1)
    w = max(int(round(view.mm_to_work(3.0, 1))), 2)
    h = max(int(round(view.mm_to_work(3.0, 0))), 2)
    top = int(min(max(cortex_row - view.mm_to_work(1.0, 0), 1), rows))
    low = int(min(max(cortex_row + view.mm_to_work(2.0, 0), 0), rows - 1))
    for a, b in ((c0 - skip - w, c0 - skip), (c1 + 1 + skip, c1 + 1 + skip + w)):
        a, b = max(a, 0), min(b, cols)
        if b - a < 1:
            continue  # the shadow reaches the edge of the image
        above = float(sm[max(top - h, 0) : top, a:b].mean())
        below = float(sm[low : low + h, a:b].mean()) if low + h <= rows else above
        if min(above, below) < BLACK_LEVEL:
            return False
    return True


def detect_ribs(view: FrameView, smap: ShadowMap, sm: np.ndarray, *, thoracic: bool | None = None) -> list[Detection]:
    """Ribs (or bone) as open polylines along the shadow-casting cortex, in image pixels.

    Parameters
    ----------
    view : FrameView
        The working frame.
    smap : ShadowMap
        Output of :func:`shadow_map`.
    sm : numpy.ndarray
        The smoothed working image.
    thoracic : bool or None
        Site over the thorax (True: shadows are ribs), elsewhere (False: bone), or unknown (None:
        ribs when the shadow is rib-sized).
    """
    out: list[Detection] = []
    bridge = max(int(round(view.mm_to_work(RIB_BRIDGE_MM, 1))), 1)
    min_w = view.mm_to_work(RIB_MIN_WIDTH_MM, 1)
    max_w = view.mm_to_work(RIB_MAX_WIDTH_MM, 1)
    step = max(int(round(view.mm_to_work(1.0, 1))), 1)
    for cols, rows, good in _smooth_pieces(view, smap, sm, _runs(smap.shadowed, bridge)):
        c0, c1 = int(cols[0]), int(cols[-1])
        if c1 - c0 + 1 < min_w:
            continue
        width = (
            f"{(c1 - c0 + 1) * view.spacing_mm[1]:.1f} mm" if view.calibrated else f"{(c1 - c0 + 1) * view.factor} px"
        )
        is_rib = thoracic if thoracic is not None else (c1 - c0 + 1) <= max_w
        dark = float(np.median(smap.ratio[cols[good]]))
        bright = float(np.median(smap.contrast[cols[good]]))
        conf = float(np.clip(0.5 + 0.5 * (1 - dark / SHADOW_RATIO) * min(bright / (2 * CORTEX_CONTRAST), 1.0), 0, 1))
        if thoracic is None and not is_rib:
            conf *= 0.8
        sample = np.unique(np.concatenate([cols[::step], [cols[-1]]]))
        pts = view.work_to_image(np.column_stack([np.interp(sample, cols, rows), sample]))
        out.append(
            Detection(
                kind="rib" if is_rib else "bone",
                points_px=tuple(map(tuple, pts.tolist())),
                closed=False,
                confidence=round(conf, 3),
                evidence=(
                    f"bright cortex ({bright:.1f}x the tissue above it) with acoustic shadow below "
                    f"(shadow {dark:.2f} of the level beside it), {width} wide"
                ),
            )
        )
    return out
