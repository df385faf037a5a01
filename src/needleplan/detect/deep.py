"""Deep-site structures: the sciatic nerve under piriformis and the kidney near quadratus lumborum.

Clinical cues (docs/clinical-rules.md 1I Nerve row: "hyperechoic oval with a honeycomb of hypoechoic
fascicles"; 1D piriformis: the sciatic nerve usually exits deep to piriformis; 1D quadratus
lumborum: the kidney is the deep hazard, a hypoechoic cortex in a bright capsule around an
echogenic central sinus).  Both are found as a bright oval, after a smoothing that turns the
nerve's honeycomb (or the kidney's sinus) into one blob, in the deep part of the searchable
tissue:

* sciatic nerve: a matched oval (:func:`find_matched_oval`).  A box of the nerve's size (4 x 10
  and 6 x 14 mm) whose mean grey is at least 1.3 times that of the boxes beside it (left and
  right) and of the less bright of the boxes above and below it, in the deepest half of the tissue
  above any bone shadow; the strongest wins and its outline is the box's ellipse.  Comparing with
  the tissue *beside* it keeps a fascia line (as bright beside as inside) from winning, and the
  nerve from merging with the piriformis fascia just above it, which a threshold on a smoothed
  image did (0/6 on the physical phantom).  On a scanner's image the PSF blurs the fascicles away
  (physical phantom), so the honeycomb is reported as evidence (fine-scale spread of grey inside),
  not required.
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

__all__ = ["DeepTarget", "DEEP_TARGETS", "find_bright_oval", "find_matched_oval", "MatchedOval", "detect_deep"]


@dataclass(frozen=True, slots=True)
class DeepTarget:
    """What to look for at a site: plan kind, label, smoothing and size limits in mm.

    ``smooth_mm`` and ``width_mm`` are the bright-region search's (:func:`find_bright_oval`); the
    matched search (:func:`find_matched_oval`) uses its own boxes and block means.
    """

    kind: str
    label: str
    smooth_mm: float
    width_mm: tuple[float, float]
    bright_ratio: float
    capsule: bool  # outline from the capsule around the blob (kidney) or the blob itself (nerve)
    matched: bool  # search with the matched oval (nerve) instead of a bright-region threshold (kidney)


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
#: Matched-oval boxes (height, width) in mm: about 0.7 of a 4-8 x 10-20 mm sciatic nerve (1D), so
#: that the box lies inside the nerve [inference].
MATCHED_BOXES_MM = ((4.0, 10.0), (6.0, 14.0))
#: The boxes beside it: this far from the inner box (clear of the nerve's bright rim and of the
#: PSF's spread) and this thick, mm [inference: the physical phantom's PSF is about 1 mm wide at
#: 50-70 mm; the phantom's nerve sits 1.7 mm under the piriformis fascia].
MATCHED_GAP_MM = 1.0
MATCHED_SIDE_MM = 3.0
#: The matched oval is searched on a grid of about this pixel size, mm (block means: the boxes are
#: 3-14 mm, so a coarser grid loses nothing but speed) [inference: speed; a 0.75 mm step keeps the
#: centre well inside the 3 mm the evaluation allows].
MATCHED_STEP_MM = 0.75
#: The template region must lie this much inside the searchable tissue (not over the black outside
#: of a sector or a shadow) [inference].
MATCHED_INSIDE_FRACTION = 0.95


@dataclass(frozen=True, slots=True)
class MatchedOval:
    """The best matched oval: centre and semi-axes (working pixels), and its contrast."""

    centre: tuple[float, float]  # working (row, col)
    axes: tuple[float, float]  # semi-axes (major, minor) of the ellipse around the box
    orientation: float  # radians, skimage convention (pi/2: the major axis is horizontal)
    contrast: float  # inner box mean / the brightest of the side references


def _deep_half(inside: np.ndarray) -> np.ndarray:
    """The deeper half of ``inside``, column by column."""
    rows = np.arange(inside.shape[0])[:, None]
    top = np.argmax(inside, axis=0).astype(float)
    bottom = inside.shape[0] - 1 - np.argmax(inside[::-1], axis=0).astype(float)
    return rows >= (0.5 * (top + bottom))[None, :]


def _box_mean(values: np.ndarray, weight: np.ndarray, size: tuple[int, int], shift: tuple[int, int]) -> np.ndarray:
    """Mean of ``values`` over the pixels with ``weight`` in a ``size`` box centred ``shift`` away
    (rows, cols) from each pixel (normalised: pixels outside the tissue do not count)."""
    total = np.roll(ndi.uniform_filter(values * weight, size=size, mode="constant"), (-shift[0], -shift[1]), (0, 1))
    count = np.roll(ndi.uniform_filter(weight, size=size, mode="constant"), (-shift[0], -shift[1]), (0, 1))
    return total / np.maximum(count, 1e-6)


def find_matched_oval(view: FrameView, allowed: np.ndarray, target: DeepTarget) -> MatchedOval | None:
    """The strongest bright oval of the nerve's size in the deeper half of ``allowed``, or ``None``.

    Contrast: the mean over a box of :data:`MATCHED_BOXES_MM` over the brightest of the box's left
    and right neighbours and the less bright of its upper and lower ones (a fascia line is as
    bright beside the box as in it; the nerve under a fascia is brighter than the muscle below it).
    At least ``target.bright_ratio``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = (0.3 + 0.03 * rng.standard_normal((240, 320))).astype(np.float32)
    >>> img[150:152, :] = 0.9  # a fascia line across the whole view
    >>> rr, cc = np.mgrid[:240, :320]
    >>> img[((rr - 170) / 12) ** 2 + ((cc - 200) / 28) ** 2 <= 1] = 0.6  # a 6 x 14 mm oval under it
    >>> v = FrameView(img, (0, 0, 239, 319), 1, (0.25, 0.25), True, 255.0)
    >>> m = find_matched_oval(v, np.ones_like(img, bool), DEEP_TARGETS["piriformis"])
    >>> bool(abs(m.centre[0] - 170) <= 4 and abs(m.centre[1] - 200) <= 4)  # within 1 mm
    True
    >>> img[155:185] = img[100:130]  # the oval gone: the fascia line alone is no nerve
    >>> print(find_matched_oval(v, np.ones_like(img, bool), DEEP_TARGETS["piriformis"]))
    None
    """
    k = max(int(round(view.mm_to_work(MATCHED_STEP_MM, 0))), 1)  # block size, working pixels
    rows, cols = (n // k * k for n in view.image.shape)
    img = view.image[:rows, :cols].astype(np.float32)
    inside = (allowed[:rows, :cols] & (img > 0.02)).astype(np.float32)
    # block means over the tissue only (the black outside of a sector does not darken the edge)
    count = inside.reshape(rows // k, k, cols // k, k).mean(axis=(1, 3))
    sm = (img * inside).reshape(rows // k, k, cols // k, k).mean(axis=(1, 3)) / np.maximum(count, 1e-6)
    inside = (count > 0.5).astype(np.float32)
    if not np.any(inside):
        return None
    deep = _deep_half(inside > 0)
    best: MatchedOval | None = None

    def coarse(length_mm: float, axis: int) -> int:
        return max(int(round(view.mm_to_work(length_mm, axis) / k)), 1)

    for h_mm, w_mm in MATCHED_BOXES_MM:
        h, w = coarse(h_mm, 0), coarse(w_mm, 1)
        gap_r, gap_c = coarse(MATCHED_GAP_MM, 0), coarse(MATCHED_GAP_MM, 1)
        side_r, side_c = coarse(MATCHED_SIDE_MM, 0), coarse(MATCHED_SIDE_MM, 1)
        dr, dc = int(round(h / 2 + gap_r + side_r / 2)), int(round(w / 2 + gap_c + side_c / 2))
        centre = _box_mean(sm, inside, (h, w), (0, 0))
        beside = np.maximum(_box_mean(sm, inside, (h, side_c), (0, -dc)), _box_mean(sm, inside, (h, side_c), (0, dc)))
        over = np.minimum(_box_mean(sm, inside, (side_r, w), (-dr, 0)), _box_mean(sm, inside, (side_r, w), (dr, 0)))
        contrast = centre / np.maximum(np.maximum(beside, over), 1e-6)
        # the whole template (box and references) in the searchable tissue, its centre in the deep half
        cover = ndi.uniform_filter(inside, size=(2 * dr + side_r, 2 * dc + side_c), mode="constant")
        contrast = np.where(deep & (cover >= MATCHED_INSIDE_FRACTION), contrast, 0.0)
        r, c = np.unravel_index(int(np.argmax(contrast)), contrast.shape)
        if contrast[r, c] >= target.bright_ratio and (best is None or contrast[r, c] > best.contrast):
            centre_w = (k * r + (k - 1) / 2, k * c + (k - 1) / 2)  # the block's centre, working pixels
            best = MatchedOval(centre_w, (k * w / np.sqrt(2), k * h / np.sqrt(2)), np.pi / 2, float(contrast[r, c]))
    return best


def find_bright_oval(view: FrameView, allowed: np.ndarray, target: DeepTarget) -> tuple[Any, float] | None:
    """The brightest oval region matching ``target`` in the deeper half of ``allowed``, as
    ``(regionprops, contrast)``, or ``None``."""
    sm = smooth(view, target.smooth_mm)
    inside = allowed & (sm > 0.02)
    if not np.any(inside):
        return None
    tissue = float(np.median(sm[inside]))
    deep = _deep_half(inside)
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
    if target.matched:
        oval = find_matched_oval(view, allowed, target)
        if oval is None:
            return []
        centre, axes, orientation, contrast = oval.centre, oval.axes, oval.orientation, oval.contrast
        where = "the tissue beside it"
    else:
        found = find_bright_oval(view, allowed, target)
        if found is None:
            return []
        reg, contrast = found
        centre, orientation = reg.centroid, float(reg.orientation)
        axes = (reg.axis_major_length / 2, reg.axis_minor_length / 2)
        where = "the tissue around"
    outline = ellipse_polygon(centre, axes, orientation)
    ev = [f"hyperechoic oval, {contrast:.1f}x {where}, in the deep half of the view"]
    if target.capsule:
        ring = _capsule(smooth(view, 0.3), centre, axes, orientation)
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
