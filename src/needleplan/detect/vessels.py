"""Vessels: anechoic round or oval regions with posterior enhancement.

Clinical cues (docs/clinical-rules.md 1I, Artery and Vein rows): both are anechoic; an artery is round
with a thick wall, a vein oval or flat.  Fluid transmits sound well, so the tissue just below a
vessel is brighter than the tissue beside it at the same depth (posterior enhancement).  Artery and
vein are told apart on a cine by pulsation (:mod:`needleplan.detect.pulsation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage import measure

from needleplan.detect._frame import FrameView
from needleplan.detect.results import Detection
from needleplan.detect.ribs import TISSUE_LEVEL

__all__ = ["VesselBlob", "find_vessels", "vessel_detection", "ellipse_polygon", "LUMEN_RATIO", "DIAMETER_MM"]

#: A lumen is anechoic: its mean grey level is under this fraction of the tissue ring around it
#: (1I Artery/Vein rows: "anechoic"; the fraction is an [inference] tuned on the phantom, where
#: lumens measure 0.03-0.09 (up to 0.15 under heavy added noise) and hypoechoic fat lobules and
#: the target 0.19 and more, before the shape tests).
LUMEN_RATIO = 0.2
#: The tissue ring around a lumen must be visibly grey on screen: at least this many of 255 grey
#: levels (a lumen is dark *against tissue*; the black field of an empty or under-gained screen
#: is not tissue) [inference: phantom walls 80-140 with gain from 75 % to 100 %].
MIN_WALL_GREY = 40.0
#: Pixels darker than this fraction of the tissue's median level seed a lumen candidate.
SEED_RATIO = 0.45
#: Speckle.  On a scanner's image the point spread function smears the bright arterial wall into
#: the lumen, so a 3 mm lumen 5-8 cm deep under a curvilinear probe is grey with a small dark
#: core (physical phantom, development seeds 0-2: core 0.5-1 mm^2, 0.26-0.55 of the wall around it
#: in grey level; averaged over 0.5 mm the lumen is no darker than the tissue, so a despeckled
#: "dark region" test cannot see it).  A second lumen test looks for such a dark core wrapped in a
#: wall that is brighter than the tissue on every side, which neither a speckle drop-out (grey
#: around it) nor a dark gap beside a fascia (bright on one side only) is [inference: physical
#: phantom, development seeds].  Pixels darker than this fraction of the tissue median seed a core:
CORE_SEED_RATIO = 0.55
#: Smallest dark core, as a diameter in mm.
CORE_DIAMETER_MM = 0.5
#: Largest core/wall grey-level ratio.
CORE_LUMEN_RATIO = 0.5
#: The wall's median at least this many times the tissue median ...
WALL_TO_TISSUE = 1.2
#: ... and in each quarter around the core (above, below, left, right) at least this many times.
WALL_SIDE_TO_TISSUE = 0.9
#: A speckle lumen's size is read from its wall: along rays from the core, the wall's crest (its
#: brightest point) lies at the lumen's edge plus half the PSF-smeared wall.  The grey lumen grown at
#: the half level between core and wall is too small when the core is a speck (curvilinear probe,
#: 5-7 cm deep: 1.0-1.4 mm measured for a 3 mm artery on development seeds 0-2).  Rays searched out
#: to this many ring widths (1 mm each) beyond the core [inference: the phantom's deepest arteries,
#: 3 mm across, crest 1.5-1.8 mm from the core's centre on development seeds 0-2].
CREST_SEARCH_RINGS = 2
#: The crest lies half a wall outside the lumen: the lumen radius is the crest's less this, mm
#: [inference: a 0.5 mm arterial wall, as the phantom draws it; on development seeds 0-2 the crest
#: lay 0.1-0.4 mm outside the true lumen].
HALF_WALL_MM = 0.25
#: Rays cast around the core to find the wall's crest [inference: 16 rays sample a 3 mm lumen's
#: circumference at under 0.6 mm, finer than the PSF].
CREST_RAYS = 16
#: A wall is round: the crests' interquartile range in mm is at most this (measured on development
#: seeds 0-2: the phantom arteries' crests spread 0.1-0.3 mm, the one core made by added noise on
#: the smooth phantom (gain 75 %, noise 12) 1.2 mm) [inference].
CREST_SPREAD_MM = 0.5
#: The cheap first look keeps a core whose square ring reaches this fraction of the wall level
#: (loose on purpose: the exact ring test decides) [inference: speed, not a clinical threshold].
WALL_PREFILTER = 0.7
#: Vessel diameters searched, mm: from a small perforator to a large deep vessel [inference;
#: docs/clinical-rules.md 1D names the inferior gluteal artery branch as the deep-site hazard].
DIAMETER_MM = (1.0, 20.0)
#: Smallest fitted lumen diameter reported, mm (a smaller anechoic speck is speckle drop-out more
#: often than a vessel that matters for a needle) [inference; the phantom's smallest artery is 2 mm].
MIN_DIAMETER_MM = 1.5
#: Roundness limits: smallest solidity and largest minor/major axis flattening (a vein can be
#: oval or flat, 1I Vein row).
MIN_SOLIDITY = 0.85
MIN_AXIS_RATIO = 0.25
#: Posterior enhancement: the band below at least this many times as bright as the bands beside it.
ENHANCEMENT_RATIO = 1.1


@dataclass(frozen=True, slots=True)
class VesselBlob:
    """A vessel candidate on the working grid (ellipse fitted to the lumen)."""

    centre: tuple[float, float]  # working (row, col)
    axes: tuple[float, float]  # semi-axes (major, minor), working pixels
    orientation: float  # radians, skimage convention
    area: float  # working pixels
    lumen_ratio: float  # lumen mean / ring median
    enhancement: float | None  # band below / bands beside (None if not measurable)
    half_level: float  # grey level of the lumen edge (for tracking on a cine)
    lumen_level: float = 0.0  # mean grey level inside the lumen
    wall_level: float = 1.0  # median grey level of the ring around it


def ellipse_polygon(
    centre: tuple[float, float], axes: tuple[float, float], orientation: float, n: int = 32
) -> np.ndarray:
    """Points (n, 2) ``(row, col)`` of an ellipse in skimage's regionprops convention.

    Examples
    --------
    >>> p = ellipse_polygon((10.0, 20.0), (4.0, 2.0), 0.0, n=4)
    >>> np.round(p, 6).tolist()
    [[14.0, 20.0], [10.0, 22.0], [6.0, 20.0], [10.0, 18.0]]
    """
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a, b = axes
    r = centre[0] + a * np.cos(t) * np.cos(orientation) - b * np.sin(t) * np.sin(orientation)
    c = centre[1] + a * np.cos(t) * np.sin(orientation) + b * np.sin(t) * np.cos(orientation)
    return np.column_stack([r, c])


def _enhancement(sm: np.ndarray, view: FrameView, r_bottom: int, c0: int, c1: int) -> float | None:
    rows, cols = sm.shape
    b0 = r_bottom + max(int(round(view.mm_to_work(0.5, 0))), 1)
    b1 = b0 + max(int(round(view.mm_to_work(3.0, 0))), 2)
    w = c1 - c0 + 1
    if b1 >= rows:
        return None
    below = sm[b0:b1, c0 : c1 + 1].mean()
    side = [
        sm[b0:b1, a:b].mean() for a, b in ((c0 - 2 * w, c0 - w), (c1 + w + 1, c1 + 2 * w + 1)) if a >= 0 and b <= cols
    ]
    if not side:
        return None
    return float(below / max(float(np.mean(side)), 0.1))  # floor: black margins beside


def find_vessels(view: FrameView, sm: np.ndarray, allowed: np.ndarray) -> list[VesselBlob]:
    """Anechoic, round-to-oval blobs inside ``allowed`` (a working-grid mask of searchable tissue).

    Two lumen tests: an anechoic region (mean under :data:`LUMEN_RATIO` of the tissue ring around
    it), and, for speckled images, a dark core wrapped in a bright wall on every side
    (:data:`CORE_LUMEN_RATIO`, :data:`WALL_TO_TISSUE`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = (0.5 + 0.1 * rng.standard_normal((200, 200))).astype(np.float32)
    >>> rr, cc = np.mgrid[:200, :200]
    >>> img[(rr - 80) ** 2 + (cc - 100) ** 2 < 20 ** 2] = 0.02
    >>> v = FrameView(img, (0, 0, 199, 199), 1, (0.1, 0.1), True, 100.0)  # tissue: 0.5 x 100 grey
    >>> [tuple(round(x) for x in b.centre) for b in find_vessels(v, img, np.ones_like(img, bool))]
    [(80, 100)]
    """
    tissue = float(np.median(sm[allowed & (sm > 0.05)])) if np.any(allowed & (sm > 0.05)) else 0.5
    px_area = view.spacing_mm[0] * view.spacing_mm[1]
    found = _lumens(
        view,
        sm,
        allowed,
        tissue,
        (sm < SEED_RATIO * tissue) & allowed,
        np.pi * (DIAMETER_MM[0] / 2) ** 2 / px_area,
        speckle=False,
    )
    found += _lumens(
        view,
        sm,
        allowed,
        tissue,
        (sm < CORE_SEED_RATIO * tissue) & allowed,
        np.pi * (CORE_DIAMETER_MM / 2) ** 2 / px_area,
        speckle=True,
    )
    return _distinct(found)


def _wall_all_round(patch: np.ndarray, ring: np.ndarray, centre: tuple[float, float], level: float) -> bool:
    """True if the ring's median is at least ``level`` in each quarter (above, below, left, right)."""
    rr, cc = np.nonzero(ring)
    dr, dc = rr - centre[0], cc - centre[1]
    quarters = (dr < -np.abs(dc), dr > np.abs(dc), dc < -np.abs(dr), dc > np.abs(dr))
    return all(q.sum() >= 3 and float(np.median(patch[rr[q], cc[q]])) >= level for q in quarters)


def _crest_radius(patch: np.ndarray, centre: tuple[float, float], r_max: float) -> tuple[float, float]:
    """The wall's crest around a speckle lumen: the median and the interquartile range of the
    distance (working pixels) from ``centre`` to the brightest point along each of
    :data:`CREST_RAYS` rays out to ``r_max``.

    Examples
    --------
    >>> rr, cc = np.mgrid[:41, :41]
    >>> ring = np.exp(-((np.hypot(rr - 20, cc - 20) - 6.0) ** 2) / 2.0)  # a bright ring, radius 6
    >>> _crest_radius(ring, (20.0, 20.0), 12.0)
    (6.0, 0.0)
    """
    radii = np.arange(0.0, r_max + 0.5, 0.5)
    angles = np.linspace(0.0, 2 * np.pi, CREST_RAYS, endpoint=False)
    rr = centre[0] + radii[None, :] * np.sin(angles)[:, None]
    cc = centre[1] + radii[None, :] * np.cos(angles)[:, None]
    values = ndi.map_coordinates(patch, [rr.ravel(), cc.ravel()], order=1, mode="nearest").reshape(rr.shape)
    crest = radii[np.argmax(values, axis=1)]
    q1, median, q3 = np.percentile(crest, [25, 50, 75])
    return float(median), float(q3 - q1)


def _label_means(values: np.ndarray, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over each label in ``index`` (0 for a label with no pixel)."""
    n = int(labels.max()) + 1
    total = np.bincount(labels.ravel(), weights=values.ravel(), minlength=n)
    count = np.bincount(labels.ravel(), minlength=n)
    return total[index] / np.maximum(count[index], 1)


def _lumens(
    view: FrameView, sm: np.ndarray, allowed: np.ndarray, tissue: float, dark: np.ndarray, amin: float, *, speckle: bool
) -> list[VesselBlob]:
    """Lumens grown from the ``dark`` seeds of at least ``amin`` working pixels (one lumen test)."""
    px_area = view.spacing_mm[0] * view.spacing_mm[1]
    amax = np.pi * (DIAMETER_MM[1] / 2) ** 2 / px_area
    dark = ndi.binary_opening(dark, iterations=1)
    lab, n = ndi.label(dark)
    out: list[VesselBlob] = []
    if n == 0:
        return out
    rows, cols = sm.shape
    ring_w = max(int(round(view.mm_to_work(1.0, 0))), 2)
    areas = np.bincount(lab.ravel(), minlength=n + 1)
    keep = np.nonzero((areas >= amin) & (areas <= amax))[0]
    keep = keep[keep > 0]
    if keep.size == 0:
        return out
    if speckle:  # cheap first look at the wall (a square ring, every core at once): most speckle
        # drop-outs have ordinary tissue around them and go before the costly shape tests
        ring_lab = np.where(lab == 0, ndi.grey_dilation(lab, size=(2 * ring_w + 1, 2 * ring_w + 1)), 0)
        wall = _label_means(sm, ring_lab, keep)
        core = _label_means(sm, lab, keep)
        keep = keep[
            (wall >= WALL_PREFILTER * WALL_TO_TISSUE * tissue) & (core * WALL_PREFILTER <= CORE_LUMEN_RATIO * wall)
        ]
        if keep.size == 0:
            return out
    lab = np.where(np.isin(lab, keep), lab, 0)
    for reg in measure.regionprops(lab):
        r0, c0, r1, c1 = reg.bbox
        if r0 == 0 or c0 == 0 or c1 >= cols:
            continue  # cut by the edge of the image: its shape and centre are unknown
        if r1 >= rows or not allowed[min(r1, rows - 1), (c0 + c1) // 2]:
            continue  # touches the bottom of the searchable tissue: a shadow or the lung, not a lumen
        if reg.axis_minor_length < MIN_AXIS_RATIO * reg.axis_major_length:
            continue
        R0, C0 = max(r0 - 3 * ring_w, 0), max(c0 - 3 * ring_w, 0)
        R1, C1 = min(r1 + 3 * ring_w, rows), min(c1 + 3 * ring_w, cols)
        local = lab[R0:R1, C0:C1] == reg.label
        ring = ndi.binary_dilation(local, iterations=ring_w) & ~ndi.binary_dilation(local, iterations=1)
        ring &= allowed[R0:R1, C0:C1]
        if ring.sum() < 10:
            continue
        patch = sm[R0:R1, C0:C1]
        inside = float(patch[local].mean())
        around = float(np.median(patch[ring]))
        ratio = inside / max(around, 1e-6)
        if (
            around < TISSUE_LEVEL
            or around * view.scale < MIN_WALL_GREY
            or np.mean(patch[ring] > 0.5 * TISSUE_LEVEL) < 0.9
        ):
            continue  # not surrounded by tissue: black screen, or the outside of a sector
        if ratio > (CORE_LUMEN_RATIO if speckle else LUMEN_RATIO):
            continue
        if speckle and (
            around < WALL_TO_TISSUE * tissue
            or not _wall_all_round(
                patch, ring, (reg.centroid[0] - R0, reg.centroid[1] - C0), WALL_SIDE_TO_TISSUE * tissue
            )
        ):
            continue
        if reg.solidity < MIN_SOLIDITY:
            continue  # (solidity last: its convex hull is the slowest test)
        # refine the edge at the half level between lumen and wall, then fit an ellipse
        half = 0.5 * (inside + around)
        # the edge moves by a fraction of a millimetre, never into a neighbouring dark region
        # (holes are filled in the lumen's own component: filling the whole thresholded patch would
        # also fill a bright wall that dark tissue surrounds, and swallow the wall into the lumen)
        grown = (patch < half) & ndi.binary_dilation(local, iterations=ring_w)
        glab, _ = ndi.label(grown)
        seed = glab[local].max() if np.any(glab[local]) else 0
        mask = ndi.binary_fill_holes(glab == seed) if seed else local
        props = measure.regionprops(mask.astype(np.uint8))[0]
        if props.area > 1.5 * reg.area + 50:
            props = measure.regionprops(local.astype(np.uint8))[0]
        cy, cx = props.centroid
        axes = (props.axis_major_length / 2, props.axis_minor_length / 2)
        orientation = float(props.orientation)
        if speckle:  # the lumen reaches the wall's crest (the grown grey lumen stops short of it)
            crest, spread = _crest_radius(patch, (cy, cx), np.sqrt(reg.area / np.pi) + CREST_SEARCH_RINGS * ring_w)
            if spread * view.spacing_mm[0] > CREST_SPREAD_MM:
                continue  # no round wall: the brightest points around the core are scattered tissue
            crest -= view.mm_to_work(HALF_WALL_MM, 0)
            if crest > np.sqrt(axes[0] * axes[1]):
                axes, orientation = (crest, crest), 0.0
        if 2 * np.sqrt(axes[0] * axes[1]) * view.spacing_mm[0] < MIN_DIAMETER_MM:
            continue
        enh = _enhancement(sm, view, r1, c0, c1 - 1)
        out.append(
            VesselBlob(
                centre=(cy + R0, cx + C0),
                axes=axes,
                orientation=orientation,
                area=float(max(props.area, np.pi * axes[0] * axes[1])),
                lumen_ratio=ratio,
                enhancement=enh,
                half_level=half,
                lumen_level=inside,
                wall_level=around,
            )
        )
    return out


def _distinct(blobs: list[VesselBlob]) -> list[VesselBlob]:
    """One blob per lumen: of two blobs whose centres lie within the larger one, keep the darker."""
    keep: list[VesselBlob] = []
    for b in sorted(blobs, key=lambda b: b.lumen_ratio):
        if all(
            np.hypot(b.centre[0] - k.centre[0], b.centre[1] - k.centre[1]) > max(k.axes[0], b.axes[0]) for k in keep
        ):
            keep.append(b)
    return sorted(keep, key=lambda b: (b.centre[0], b.centre[1]))


def vessel_detection(
    view: FrameView,
    blob: VesselBlob,
    *,
    kind: str = "vessel",
    cine_evidence: str | None = None,
    cine_confidence: float | None = None,
) -> Detection:
    """The suggestion for one vessel blob (``kind`` becomes artery/vein on a cine)."""
    a, b = blob.axes
    diam = 2 * np.sqrt(a * b) * view.spacing_mm[0]
    ev = [
        f"anechoic (lumen {blob.lumen_ratio:.2f} of the wall around it)",
        f"{'round' if b / max(a, 1e-6) > 0.7 else 'oval'}",
    ]
    conf = 0.55 + 0.25 * (1 - blob.lumen_ratio / LUMEN_RATIO)
    if blob.enhancement is not None and blob.enhancement >= ENHANCEMENT_RATIO:
        ev.append(f"posterior enhancement ({blob.enhancement:.2f}x)")
        conf += 0.15
    elif blob.enhancement is not None:
        ev.append("no posterior enhancement")
    if view.calibrated:
        ev.append(f"{diam:.1f} mm across")
    if cine_evidence:
        ev.insert(0, cine_evidence)
    if cine_confidence is not None:
        conf = 0.5 * conf + 0.5 * cine_confidence
    pts = view.work_to_image(ellipse_polygon(blob.centre, blob.axes, blob.orientation))
    return Detection(kind, tuple(map(tuple, pts.tolist())), True, round(float(np.clip(conf, 0, 1)), 3), ", ".join(ev))
