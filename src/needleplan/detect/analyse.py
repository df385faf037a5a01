"""Single-frame detection: every detector in order, sharing one prepared frame.

Order matters: the rib shadows are found first (a shadow hides everything below a rib), then the
skin, the traced bright lines, the pleura among them, the fasciae above the deepest structure, and
the vessels in the tissue above the pleura and outside the shadows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan.clinical import SITE_PROFILES
from needleplan.detect._frame import FrameView, prepare_frame, smooth
from needleplan.detect._lines import Line, ridge_map, trace_lines
from needleplan.detect.deep import detect_deep
from needleplan.detect.laminae import detect_interlaminar_window, label_laminae
from needleplan.detect.pleura import PleuraCandidate, find_pleura, merge_across_shadows, pleura_detection
from needleplan.detect.results import Detection, DetectionResult
from needleplan.detect.ribs import ShadowMap, detect_ribs, shadow_map
from needleplan.detect.surface import detect_fascia, detect_skin
from needleplan.detect.vessels import VesselBlob, find_vessels, vessel_detection

__all__ = ["FrameAnalysis", "analyse_frame", "detect_frame", "is_thoracic_site"]

#: Ridge strength, in scaled grey levels, of a line point worth tracing.  [inference, tuned on the
#: phantom: speckle alone stays below it after the along-line smoothing of the ridge filter]
LINE_MIN_STRENGTH = 0.08
#: Smoothing for the vessel search, mm: light, so a 2 mm artery's lumen is not filled in by its
#: bright wall [inference].
VESSEL_SMOOTH_MM = 0.15


def is_thoracic_site(site: str | None) -> bool | None:
    """True/False for a known site id, None when the site is not given.

    A site with a profile (:data:`needleplan.clinical.SITE_PROFILES`) is thoracic when its region is;
    an id without a profile is not thoracic.

    Examples
    --------
    >>> is_thoracic_site("rhomboid"), is_thoracic_site("gluteus_medius"), is_thoracic_site(None)
    (True, False, None)
    """
    if site is None:
        return None
    profile = SITE_PROFILES.get(site)
    return profile is not None and profile.region == "thoracic"


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    """Intermediate results of one frame, kept for the cine analysis."""

    view: FrameView
    smoothed: np.ndarray
    shadows: ShadowMap
    skin_rows: np.ndarray
    pleura: PleuraCandidate | None
    vessels: tuple[VesselBlob, ...]
    detections: tuple[Detection, ...]  # everything except pleura, vessels and deep structures
    deep: tuple[Detection, ...] = ()  # sciatic nerve / kidney on their sites (detect.deep)


def analyse_frame(frame: Any, calibration: Any = None, *, site: str | None = None) -> FrameAnalysis:
    """Run every single-frame detector on one display-ready frame."""
    view = prepare_frame(frame, calibration)
    sm = smooth(view, 0.3)
    smap = shadow_map(view, sm)
    thoracic = is_thoracic_site(site)
    ribs = detect_ribs(view, smap, sm, thoracic=thoracic)
    profile = SITE_PROFILES.get(site) if site is not None else None
    if profile is not None and profile.requires_neuraxis_mark:  # lumbar spine: laminae (R20)
        ribs = label_laminae(ribs)
        ribs += detect_interlaminar_window(view, sm, ribs)
    skin, skin_rows = detect_skin(view, sm)
    if skin is None:
        skin_rows = np.zeros(view.image.shape[1])
    ridge = ridge_map(view)
    # nothing is visible in a shadow: blank the ridge map from just above each cortex down
    rr = np.arange(ridge.shape[0])[:, None]
    top = np.where(smap.shadowed, smap.cortex_row - view.mm_to_work(0.8, 0), np.inf)[None, :]
    ridge = np.where(rr >= top, np.float32(0.0), ridge)
    traced = trace_lines(view, ridge, min_strength=LINE_MIN_STRENGTH)
    lines = merge_across_shadows(traced, smap.shadowed, view)  # the pleura runs on under a rib
    rib_rows = []
    for det in ribs:
        if det.kind == "rib":
            rows = view.image_to_work(np.asarray(det.points_px))[:, 0]
            rib_rows.append(float(np.median(rows)))
    pleura = find_pleura(view, lines, ridge, smap, skin_rows=skin_rows, rib_rows=rib_rows)
    cols = np.arange(view.image.shape[1])
    deepest = np.full(cols.size, np.nan)
    if pleura is not None:
        deepest = pleura.line.row_at(cols)
    deepest = np.where(smap.shadowed, np.fmin(deepest, smap.cortex_row), deepest)
    strongest = max((float(np.median(ln.strength)) for ln in lines), default=1.0)
    pleura_pieces = set() if pleura is None else {id(ln) for ln in traced if _part_of(ln, pleura.line)}
    fascia = detect_fascia(
        view,
        [ln for ln in traced if id(ln) not in pleura_pieces],
        top_row=skin_rows,
        bottom_row=deepest,
        ridge_scale=strongest,
    )
    allowed = _searchable(view, sm, smap, skin_rows, pleura)
    vessel_sm = smooth(view, max(VESSEL_SMOOTH_MM, view.spacing_mm[0]))  # at least one working pixel
    blobs = tuple(find_vessels(view, vessel_sm, allowed))
    dets = tuple(([skin] if skin is not None else []) + fascia + ribs)
    deep = tuple(detect_deep(view, allowed, site))
    return FrameAnalysis(view, sm, smap, skin_rows, pleura, blobs, dets, deep)


def _part_of(piece: Line, line: Line) -> bool:
    """Whether a traced piece is part of a (merged) line."""
    return bool(np.isin(piece.cols, line.cols).all() and np.isin(piece.rows, line.rows).all())


def _searchable(
    view: FrameView, sm: np.ndarray, smap: ShadowMap, skin_rows: np.ndarray, pleura: PleuraCandidate | None
) -> np.ndarray:
    rows, cols = sm.shape
    r = np.arange(rows)[:, None]
    allowed = r > np.nan_to_num(skin_rows, nan=0.0)[None, :] + view.mm_to_work(0.5, 0)
    shadow_top = np.where(smap.shadowed, smap.cortex_row, np.inf)
    allowed &= r < shadow_top[None, :]
    if pleura is not None:
        allowed &= r < pleura.line.row_at(np.arange(cols))[None, :] - view.mm_to_work(0.5, 0)
    return allowed


def detect_frame(
    frame: Any, calibration: Any = None, *, site: str | None = None, frame_index: int = 0
) -> DetectionResult:
    """Suggested structures on one frame, in image pixels.

    Parameters
    ----------
    frame : array_like
        Display-ready pixels ``(rows, cols)`` or ``(rows, cols, 3)``.
    calibration : Calibration or None
        The image's calibration (its region box limits the search; its spacing sets the filter
        sizes).  Without one the detectors assume a 40 mm deep frame and report pixels only.
    site : str, optional
        Site profile id; over the thorax a shadow-casting bone is a rib, elsewhere bone.
    frame_index : int
        Recorded in the result.

    Returns
    -------
    DetectionResult
    """
    an = analyse_frame(frame, calibration, site=site)
    dets = list(an.detections)
    notes = []
    if an.pleura is not None:
        dets.append(pleura_detection(an.view, an.pleura))
    else:
        notes.append("no pleura-like line (no bright line with A-lines or rib shadows above it)")
    dets.extend(vessel_detection(an.view, b) for b in an.vessels)
    dets.extend(an.deep)
    if not an.view.calibrated:
        notes.append("uncalibrated image: positions in pixels only; filter sizes assume a 40 mm deep frame")
    return DetectionResult(tuple(dets), frame_index, an.view.calibrated, tuple(notes))
