"""Probe models and the image grid of a synthetic case.

A probe fixes the pixel spacing, the field of view and the frequency.  The image is a rectangle
of pixels with a black margin around the calibrated region (as a scanner's screen has); the
region's reference pixel sits on the skin line at the centre of the probe face, so world
millimetres are ``(index_px - origin_px) * spacing_mm`` and, for a linear probe, ``row_mm`` is
depth below the skin (docs/contracts.md §3).

A curvilinear probe is rendered into the same rectangular, linearly spaced grid: the fan is a
mask, world mm are still linear per pixel, and the skin follows the probe face's arc (it rises
above ``row_mm = 0`` towards the edges of the footprint).  Shadows are cast along the fan's
radial beams; the anatomy itself is drawn in the Cartesian world (no scan conversion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["Probe", "ImageGrid", "LINEAR", "CURVILINEAR", "image_grid"]

#: Black screen margins around the calibrated region, in pixels: (top, bottom, left, right).
MARGINS_PX = (20, 10, 24, 41)


@dataclass(frozen=True, slots=True)
class Probe:
    """An ultrasound probe and its imaging settings.

    Parameters
    ----------
    kind : ``"linear"`` or ``"curvilinear"``.
    frequency_mhz : centre frequency; sets the attenuation and the speckle size.
    spacing_mm : square pixel size in millimetres.
    depth_mm : imaging depth below the skin line at the centre of the probe face.
    footprint_mm : width of the probe face (linear: the image width).
    radius_mm : radius of curvature of a curvilinear face (``None`` for linear).
    fov_deg : full opening angle of a curvilinear fan (``None`` for linear).
    """

    kind: str
    frequency_mhz: float
    spacing_mm: float
    depth_mm: float
    footprint_mm: float
    radius_mm: float | None = None
    fov_deg: float | None = None

    def with_depth(self, depth_mm: float) -> Probe:
        """The same probe imaging to another depth."""
        return replace(self, depth_mm=float(depth_mm))

    @property
    def half_angle_rad(self) -> float:
        """Half the fan's opening angle (0 for a linear probe)."""
        return math.radians(self.fov_deg / 2.0) if self.fov_deg else 0.0


#: High-frequency linear probe: 10 MHz, 0.1 mm pixels, 50 mm face (clinical-rules 1F: linear
#: 8-15 MHz for targets shallower than 5 cm, penetration often 2-3 cm at 10-15 MHz).
LINEAR = Probe(kind="linear", frequency_mhz=10.0, spacing_mm=0.1, depth_mm=40.0, footprint_mm=50.0)

#: Curvilinear probe: 3.5 MHz, 0.25 mm pixels, 50 mm radius, 60 degree fan (clinical-rules 1F
#: "curvilinear 2-5 MHz for 5-10 cm"; 1D piriformis technique "curvilinear 5-1 or 5-2 MHz").
CURVILINEAR = Probe(
    kind="curvilinear",
    frequency_mhz=3.5,
    spacing_mm=0.25,
    depth_mm=100.0,
    footprint_mm=50.0,
    radius_mm=50.0,
    fov_deg=60.0,
)


@dataclass(frozen=True, slots=True)
class ImageGrid:
    """Pixel grid of a case: shape, calibrated region box and origin.

    ``box_px`` is ``(min_row, min_col, max_row, max_col)`` inclusive; ``origin_px`` is the
    reference pixel (skin line, centre of the probe face) in image indices.
    """

    rows: int
    cols: int
    box_px: tuple[int, int, int, int]
    origin_px: tuple[int, int]
    spacing_mm: float

    def row_mm(self) -> np.ndarray:
        """World ``row_mm`` of every image row, shape ``(rows, 1)``."""
        r = np.arange(self.rows, dtype=np.float64)
        return ((r - self.origin_px[0]) * self.spacing_mm)[:, None]

    def col_mm(self) -> np.ndarray:
        """World ``col_mm`` of every image column, shape ``(1, cols)``."""
        c = np.arange(self.cols, dtype=np.float64)
        return ((c - self.origin_px[1]) * self.spacing_mm)[None, :]


def skin_row_mm(probe: Probe, col_mm: np.ndarray) -> np.ndarray:
    """Row (mm) of the skin line under the probe face at each ``col_mm``.

    Linear: 0 everywhere.  Curvilinear: the arc of the face, ``-R + sqrt(R^2 - c^2)``, held
    flat beyond the ends of the face.

    >>> float(skin_row_mm(CURVILINEAR, np.array([0.0]))[0])
    0.0
    >>> round(float(skin_row_mm(CURVILINEAR, np.array([25.0]))[0]), 3)  # -50 + sqrt(2500-625)
    -6.699
    """
    col_mm = np.asarray(col_mm, dtype=np.float64)
    if probe.kind != "curvilinear":
        return np.zeros_like(col_mm)
    assert probe.radius_mm is not None  # every curvilinear probe has one (Probe checks it)
    radius = float(probe.radius_mm)
    half = min(probe.footprint_mm / 2.0, radius * math.sin(probe.half_angle_rad))
    c = np.clip(col_mm, -half, half)
    return -radius + np.sqrt(radius * radius - c * c)


def image_grid(probe: Probe) -> ImageGrid:
    """The pixel grid for ``probe``: margins, calibrated box and reference pixel.

    >>> g = image_grid(LINEAR)
    >>> g.box_px, g.origin_px
    ((20, 24, 420, 524), (20, 274))
    >>> float(g.row_mm()[20, 0]), float(g.col_mm()[0, 274])
    (0.0, 0.0)
    """
    top, bottom, left, right = MARGINS_PX
    s = probe.spacing_mm
    if probe.kind == "curvilinear":
        assert probe.radius_mm is not None  # every curvilinear probe has one (Probe checks it)
        radius = float(probe.radius_mm)
        theta = probe.half_angle_rad
        half_w_mm = (radius + probe.depth_mm) * math.sin(theta)
        rise_mm = radius * (1.0 - math.cos(theta))  # skin at the face's edge lies above row 0
    else:
        half_w_mm = probe.footprint_mm / 2.0
        rise_mm = 0.0
    half_w_px = int(round(half_w_mm / s))
    rise_px = int(math.ceil(rise_mm / s - 1e-9))
    depth_px = int(round(probe.depth_mm / s))
    box_rows = rise_px + depth_px + 1
    box_cols = 2 * half_w_px + 1  # odd: the reference column is an integer (ReferencePixelX0 is SL)
    box = (top, left, top + box_rows - 1, left + box_cols - 1)
    origin = (top + rise_px, left + half_w_px)
    return ImageGrid(
        rows=top + box_rows + bottom,
        cols=left + box_cols + right,
        box_px=box,
        origin_px=origin,
        spacing_mm=s,
    )


def fan_mask(probe: Probe, grid: ImageGrid) -> np.ndarray:
    """Boolean ``(rows, cols)`` mask of the pixels the probe images (the box, or the fan)."""
    r0, c0, r1, c1 = grid.box_px
    mask = np.zeros((grid.rows, grid.cols), dtype=bool)
    mask[r0 : r1 + 1, c0 : c1 + 1] = True
    if probe.kind != "curvilinear":
        return mask
    assert probe.radius_mm is not None  # every curvilinear probe has one (Probe checks it)
    radius = float(probe.radius_mm)
    row = grid.row_mm() + radius  # apex at (-R, 0)
    col = grid.col_mm()
    rho = np.hypot(row, col)
    angle = np.arctan2(col, row)
    fan = (rho >= radius) & (rho <= radius + probe.depth_mm) & (np.abs(angle) <= probe.half_angle_rad)
    return mask & fan
