"""Pleura: the bright line deeper than the rib line, with A-line reverberations below it.

Clinical cues (docs/clinical-rules.md 1I, Pleura row): "horizontal hyperechoic line about 0.5 cm deeper
than the rib line"; "A-lines are regularly spaced horizontal repeats of the pleural line"; on a cine,
lung sliding confirms it (see :mod:`needleplan.detect.sliding`).  A bright line counts as a pleura
candidate only with a thoracic hallmark: an A-line at twice its depth, or rib shadows whose cortex
lies just above it.  A fascia has neither, which keeps a pleura from being invented on a buttock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from needleplan.detect._frame import FrameView
from needleplan.detect._lines import Line
from needleplan.detect.results import Detection
from needleplan.detect.ribs import ShadowMap
from needleplan.detect.surface import line_detection

__all__ = [
    "PleuraCandidate",
    "merge_across_shadows",
    "find_pleura",
    "pleura_detection",
    "RIB_TO_PLEURA_MM",
    "MIN_SCORE",
]

#: Pleura depth below the rib cortex that supports a candidate, mm.  1I Pleura row: "about 0.5 cm
#: deeper than the rib line"; the window allows for thin and thick intercostal muscles [inference].
RIB_TO_PLEURA_MM = (1.5, 15.0)
#: An A-line must be at least this fraction of the candidate line's ridge strength (1I Pleura row:
#: A-lines are fainter repeats) [inference, tuned on the phantom].
A_LINE_FRACTION = 0.12
#: Where an A-line may sit around a whole multiple of the pleura's depth, mm (breathing blurs it).
A_LINE_TOLERANCE_MM = 1.5
#: A deeper line at least this fraction of a candidate's strength is tissue structure under it,
#: which the pleura cannot have (1I Pleura row: below it only its reverberations) [inference].
OTHER_LINE_FRACTION = 0.35
#: Smallest score for a pleura suggestion.
MIN_SCORE = 0.5
#: The shallowest a pleura can be, mm below the skin: thinner than any published chest wall
#: (docs/clinical-rules.md section 1: skin-to-pleura depths of about 1 cm and more) [inference].
MIN_DEPTH_MM = 4.0


@dataclass(frozen=True, slots=True)
class PleuraCandidate:
    """A bright line judged as a possible pleura."""

    line: Line
    score: float
    a_line: bool | None  # None: twice the depth is below the frame
    rib_support: bool
    brightness: float  # ridge strength relative to the strongest line
    evidence: tuple[str, ...] = field(default_factory=tuple)


def merge_across_shadows(lines: list[Line], shadowed: np.ndarray, view: FrameView) -> list[Line]:
    """Join line pieces at the same depth that are separated only by an acoustic shadow.

    The pleura is continuous under a rib, but invisible in its shadow, so a traced pleura comes in
    pieces between the ribs.
    """
    if not shadowed.any():
        return lines
    tol = view.mm_to_work(2.0, 0)
    shadow_sum = np.concatenate([[0], np.cumsum(shadowed)])
    pieces = sorted(lines, key=lambda ln: ln.cols[0])
    merged: list[Line] = []
    used = [False] * len(pieces)
    for i, ln in enumerate(pieces):
        if used[i]:
            continue
        cur = ln
        used[i] = True
        for j in range(i + 1, len(pieces)):
            other = pieces[j]
            if used[j] or other.cols[0] <= cur.cols[-1]:
                continue
            if abs(other.rows[0] - cur.rows[-1]) > tol:
                continue
            g0, g1 = int(cur.cols[-1]) + 1, int(other.cols[0])
            shadow_frac = (shadow_sum[g1] - shadow_sum[g0]) / (g1 - g0) if g1 > g0 else 1.0
            if shadow_frac >= 0.6:
                cur = Line(
                    np.concatenate([cur.rows, other.rows]),
                    np.concatenate([cur.cols, other.cols]),
                    np.concatenate([cur.strength, other.strength]),
                )
                used[j] = True
        merged.append(cur)
    return merged


def _a_line(view: FrameView, ridge: np.ndarray, ln: Line, skin_rows: np.ndarray) -> tuple[bool | None, float]:
    rows = ridge.shape[0]
    top = skin_rows[np.clip(ln.cols.astype(int), 0, skin_rows.size - 1)]
    depth = ln.rows - top
    target = top + 2.0 * depth
    win = max(int(round(view.mm_to_work(1.2, 0))), 2)
    if np.median(target) + win >= rows - 1:
        return None, 0.0
    vals = []
    for r, c in zip(target, ln.cols.astype(int), strict=True):
        r0, r1 = int(r) - win, int(r) + win + 1
        if r0 < 0 or r1 > rows:
            continue
        vals.append(ridge[r0:r1, c].max())
    if not vals:
        return None, 0.0
    frac = float(np.median(vals)) / max(float(np.median(ln.strength)), 1e-6)
    return frac >= A_LINE_FRACTION, frac


def _structure_below(view: FrameView, ln: Line, lines: list[Line], skin_rows: np.ndarray) -> bool:
    """Whether a clear line lies deeper than ``ln`` other than at a whole multiple of its depth.

    The multiple is taken column by column, against the line's own depth in the columns the deeper
    line covers: an A-line repeats the local skin-to-pleura distance, so under a pleura that arches
    (deeper on one side) the A-line arches twice as much.  Worked example: a pleura 20 mm deep on
    the left and 24 mm on the right has its first A-line at 40 and 48 mm; a piece of it traced only
    on the right (48 mm) is 2.0 times the depth there, though 2.18 times the line's mean depth
    (22 mm), which is 4 mm off a whole multiple.
    """
    strength = float(np.median(ln.strength))
    tol = view.mm_to_work(A_LINE_TOLERANCE_MM, 0)
    margin = view.mm_to_work(1.0, 0)
    skin_at = np.where(np.isnan(skin_rows), np.nanmedian(skin_rows), skin_rows)
    for other in lines:
        if other is ln or other.mean_row <= ln.mean_row + margin:
            continue
        if float(np.median(other.strength)) < OTHER_LINE_FRACTION * strength:
            continue
        under = (other.cols >= ln.cols[0]) & (other.cols <= ln.cols[-1])
        if not under.any():
            continue  # not under this line
        cols = other.cols[under]
        skin = skin_at[np.clip(cols.astype(int), 0, skin_at.size - 1)]
        depth = np.maximum(np.interp(cols, ln.cols, ln.rows) - skin, 1e-6)
        k = (other.rows[under] - skin) / depth
        whole = np.rint(float(np.median(k)))
        if whole >= 2 and float(np.median(np.abs(k - whole) * depth)) <= tol:
            continue  # an A-line
        return True
    return False


def find_pleura(
    view: FrameView,
    lines: list[Line],
    ridge: np.ndarray,
    smap: ShadowMap,
    *,
    skin_rows: np.ndarray,
    rib_rows: list[float],
) -> PleuraCandidate | None:
    """Score every line below the minimal depth and return the best pleura candidate, if any.

    ``skin_rows`` is the skin's working row per column (A-lines repeat the skin-to-pleura distance:
    the transducer face touches the skin); ``rib_rows`` the median cortex row of each rib.
    """
    if not lines:
        return None
    width = view.image.shape[1]
    strongest = max(float(np.median(ln.strength)) for ln in lines)
    min_row = float(np.nanmedian(skin_rows)) + view.mm_to_work(MIN_DEPTH_MM, 0)
    lo, hi = (view.mm_to_work(v, 0) for v in RIB_TO_PLEURA_MM)
    best: PleuraCandidate | None = None
    for ln in lines:
        if ln.mean_row < min_row or ln.span < 0.15 * width:
            continue
        cols = ln.cols.astype(int)
        if smap.shadowed[cols].mean() > 0.3:
            continue  # a bright line inside a shadow is a rib cortex, not the pleura
        if _structure_below(view, ln, lines, skin_rows):
            continue  # tissue lines deeper than it: the pleura has only its own A-lines below
        a_line, a_frac = _a_line(view, ridge, ln, skin_rows)
        rib_support = any(lo <= ln.mean_row - r <= hi for r in rib_rows)
        if not (a_line or rib_support):
            continue
        bright = float(np.median(ln.strength)) / strongest
        span = min(1.0, ln.span / (0.5 * width))
        score = 0.3 * bright + 0.1 * span + (0.35 if a_line else 0.0) + (0.25 if rib_support else 0.0)
        ev = []
        if a_line:
            ev.append(f"A-line reverberation at twice its depth ({a_frac:.2f} of its strength)")
        elif a_line is None:
            ev.append("twice its depth is below the frame (A-lines not checked)")
        if rib_support:
            ev.append("lies just deeper than the rib cortex")
        ev.append(f"brightness {bright:.2f} of the brightest line")
        under = smap.shadowed[int(ln.cols[0]) : int(ln.cols[-1]) + 1]
        if under.any():
            ev.append(f"drawn straight across {100 * under.mean():.0f}% of its length hidden in rib shadow")
        cand = PleuraCandidate(ln, score, a_line, rib_support, bright, tuple(ev))
        if best is None or cand.score > best.score:
            best = cand
    if best is None or best.score < MIN_SCORE:
        return None
    return best


def pleura_detection(
    view: FrameView, cand: PleuraCandidate, extra_evidence: str | None = None, confidence_bonus: float = 0.0
) -> Detection:
    """The pleura suggestion for a candidate; cine evidence can raise or lower its confidence."""
    ev = list(cand.evidence)
    if extra_evidence:
        ev.insert(0, extra_evidence)
    conf = float(np.clip(cand.score + confidence_bonus, 0.0, 1.0))
    return line_detection(view, cand.line.rows, cand.line.cols, "pleura", conf, "; ".join(ev))
