"""Deep-site structures: the sciatic nerve under piriformis and the kidney near quadratus lumborum.

Clinical cues (docs/clinical-rules.md 1I Nerve row: "hyperechoic oval with a honeycomb of hypoechoic
fascicles"; 1D piriformis: the sciatic nerve usually exits deep to piriformis; 1D quadratus
lumborum: the kidney is the deep hazard, a hypoechoic cortex in a bright capsule around an
echogenic central sinus).  Both are found as a bright oval, after a smoothing that turns the
nerve's honeycomb (or the kidney's sinus) into one blob, in the deep part of the searchable
tissue:

* sciatic nerve: an oval 8-25 mm wide, at least 1.3 times as bright as the tissue, in the deepest
  half of the tissue above any bone shadow; of several, the one with the largest area times
  contrast times honeycomb texture (fine-scale spread of grey inside).  Its outline is the fitted
  ellipse.
* kidney: the echogenic sinus, an oval 8-50 mm wide in the deepest half; the outline is the
  capsule, the brightest point along 32 rays from the sinus outwards, fitted with an ellipse.

They run only when the site says so (``piriformis`` and ``quadratus_lumborum``): elsewhere a bright
oval is a fat lobule or a tendon more often than a nerve.  Like every detector they only suggest;
nothing is counted until a physician accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage as ndi
from skimage import measure

from needleplan.detect._frame import FrameView, smooth
from needleplan.detect.results import Detection
from needleplan.detect.vessels import ellipse_polygon

__all__ = ["DeepTarget", "DEEP_TARGETS", "find_bright_oval", "detect_deep"]


@dataclass(frozen=True, slots=True)
class DeepTarget:
    """What to look for at a site: plan kind, label, smoothing and size limits in mm."""

    kind: str
    label: str
    smooth_mm: float
    width_mm: tuple[float, float]
    bright_ratio: float
    capsule: bool  # outline from the capsule around the blob (kidney) or the blob itself (nerve)
    honeycomb: bool  # rank candidates by their inner texture too (a nerve's fascicles)


#: Site id -> target.  Sizes [inference: adult sciatic nerve 10-20 x 4-8 mm at the piriformis
#: (1D); renal sinus about half of a 100-120 x 50-60 mm kidney, seen partly in a transverse view].
DEEP_TARGETS = {
    "piriformis": DeepTarget("nerve", "sciatic nerve", 0.8, (8.0, 25.0), 1.3, False, True),
    "quadratus_lumborum": DeepTarget("viscera", "kidney (lower pole)", 1.5, (8.0, 50.0), 1.3, True, False),
}
#: Flattest oval accepted (minor / major axis) [inference: a nerve in short axis is oval, a fascia
#: segment is a line].
MIN_AXIS_RATIO = 0.25
MIN_SOLIDITY = 0.8


def find_bright_oval(view: FrameView, allowed: np.ndarray, target: DeepTarget) -> tuple[Any, float] | None:
    """The brightest oval region matching ``target`` in the deeper half of ``allowed``, as
    ``(regionprops, contrast)``, or ``None``."""
    sm = smooth(view, target.smooth_mm)
    inside = allowed & (sm > 0.02)
    if not np.any(inside):
        return None
    tissue = float(np.median(sm[inside]))
    rows = np.arange(sm.shape[0])[:, None]
    top = np.argmax(inside, axis=0).astype(float)
    bottom = sm.shape[0] - 1 - np.argmax(inside[::-1], axis=0).astype(float)
    deep = rows >= (0.5 * (top + bottom))[None, :]
    fine = smooth(view, 0.3)
    # brighter than the tissue around it: the background is the view smoothed over the largest
    # size looked for, inside the searchable tissue only (normalised convolution)
    sig = [0.5 * target.width_mm[1] / s for s in view.spacing_mm]
    weight = ndi.gaussian_filter(inside.astype(np.float32), sig, mode="constant")
    background = ndi.gaussian_filter(np.where(inside, sm, 0.0).astype(np.float32), sig, mode="constant")
    background = np.where(weight > 0.05, background / np.maximum(weight, 1e-6), tissue)
    bright = ndi.binary_opening((sm > target.bright_ratio * background) & inside & deep, iterations=1)
    lab, n = ndi.label(bright)
    best = None
    for reg in measure.regionprops(lab, intensity_image=sm):
        r0, c0, r1, c1 = reg.bbox
        if c0 == 0 or c1 >= sm.shape[1] or r1 >= sm.shape[0]:
            continue
        width_mm = (c1 - c0) * view.spacing_mm[1]
        if not target.width_mm[0] <= width_mm <= target.width_mm[1]:
            continue
        if reg.axis_minor_length < MIN_AXIS_RATIO * reg.axis_major_length or reg.solidity < MIN_SOLIDITY:
            continue
        contrast = float(reg.intensity_mean) / max(float(np.mean(background[r0:r1, c0:c1][reg.image])), 1e-6)
        score = contrast * reg.area
        if target.honeycomb:  # fascicles: a fine dark-in-bright texture inside the oval
            texture = fine[r0:r1, c0:c1][reg.image]
            score *= float(texture.std() / max(texture.mean(), 1e-6)) ** 2
        if best is None or score > best[2]:
            best = (reg, contrast, score)
    return None if best is None else best[:2]


def _capsule(
    sm: np.ndarray, centre: tuple[float, float], axes: tuple[float, float], orientation: float
) -> np.ndarray | None:
    """Points of the brightest ring 1.3-3 times the blob's size around it (the capsule)."""
    pts = []
    for p in ellipse_polygon(centre, axes, orientation, n=32):
        d = p - np.asarray(centre)
        s = np.linspace(1.3, 3.0, 60)
        ray = np.asarray(centre)[None, :] + s[:, None] * d[None, :]
        ok = (ray[:, 0] >= 0) & (ray[:, 0] < sm.shape[0] - 1) & (ray[:, 1] >= 0) & (ray[:, 1] < sm.shape[1] - 1)
        if ok.sum() < 5:
            continue
        vals = ndi.map_coordinates(sm, ray[ok].T, order=1)
        pts.append(ray[ok][int(np.argmax(vals))])
    if len(pts) < 12:
        return None
    xy = np.asarray(pts)[:, ::-1]  # EllipseModel works in (x, y)
    if hasattr(measure.EllipseModel, "from_estimate"):  # scikit-image >= 0.26
        model = measure.EllipseModel.from_estimate(xy)
        if not model:
            return None
        (xc, yc), (a, b), theta = model.center, model.axis_lengths, model.theta
    else:  # pragma: no cover - older scikit-image
        model = measure.EllipseModel()
        if not model.estimate(xy):
            return None
        xc, yc, a, b, theta = model.params
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    x = xc + a * np.cos(t) * np.cos(theta) - b * np.sin(t) * np.sin(theta)
    y = yc + a * np.cos(t) * np.sin(theta) + b * np.sin(t) * np.cos(theta)
    return np.column_stack([y, x])


def detect_deep(view: FrameView, allowed: np.ndarray, site: str | None) -> list[Detection]:
    """The deep structure suggested for ``site`` (none for other sites)."""
    target = DEEP_TARGETS.get(site or "")
    if target is None:
        return []
    found = find_bright_oval(view, allowed, target)
    if found is None:
        return []
    reg, contrast = found
    centre = reg.centroid
    axes = (reg.axis_major_length / 2, reg.axis_minor_length / 2)
    outline = ellipse_polygon(centre, axes, float(reg.orientation))
    ev = [f"hyperechoic oval, {contrast:.1f}x the tissue around, in the deep half of the view"]
    if target.capsule:
        ring = _capsule(smooth(view, 0.3), centre, axes, float(reg.orientation))
        if ring is not None:
            outline = ring
            ev = [f"echogenic central sinus ({contrast:.1f}x the tissue), capsule traced around it"]
    width_mm = np.ptp(outline[:, 1]) * view.spacing_mm[1]
    if view.calibrated:
        ev.append(f"{width_mm:.0f} mm across")
    conf = float(np.clip(0.35 + 0.2 * (contrast - target.bright_ratio), 0.3, 0.7))
    pts = view.work_to_image(outline)
    return [
        Detection(target.kind, tuple(map(tuple, pts.tolist())), True, round(conf, 3), ", ".join(ev), label=target.label)
    ]
