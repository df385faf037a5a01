"""The fan of a curvilinear probe in beam coordinates (radius x angle), and scan conversion.

A convex array acquires along radial beams from its virtual apex; the scanner's screen shows
them scan-converted to a Cartesian grid.  :class:`FanPolar` holds the polar grid (one sample per
pixel along each beam, one pixel between beams at the fan's far edge) and the two resamplings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from needleplan.synth.probe import ImageGrid, Probe

__all__ = ["FanPolar"]


@dataclass(frozen=True, slots=True)
class FanPolar:
    """Polar grid of a fan: ``rho`` (mm from the apex) down the rows, ``theta`` (rad) across.

    ``pr, pc``: image pixel of each polar sample; ``ri, ti``: polar index of each image pixel.

    Example: the 50 mm radius, 100 mm deep curvilinear probe on 0.25 mm pixels steps
    ``dtheta = 0.25 / 150`` rad between beams: 0.25 mm apart at 100 mm depth, 0.083 mm at the skin.
    """

    rho: np.ndarray
    theta: np.ndarray
    radius_mm: float
    pr: np.ndarray
    pc: np.ndarray
    ri: np.ndarray
    ti: np.ndarray

    @classmethod
    def build(cls, g: ImageGrid, probe: Probe) -> FanPolar:
        """The polar grid of ``probe``'s fan over image grid ``g``."""
        s, radius = g.spacing_mm, float(probe.radius_mm)
        half = probe.half_angle_rad
        apex_r, apex_c = g.origin_px[0] - radius / s, float(g.origin_px[1])
        rho = radius + np.arange(0.0, probe.depth_mm + 2 * s, s)
        dtheta = s / (radius + probe.depth_mm)
        theta = np.arange(-half - 2 * dtheta, half + 2 * dtheta, dtheta)
        pr = apex_r + (rho[:, None] * np.cos(theta[None, :])) / s
        pc = apex_c + (rho[:, None] * np.sin(theta[None, :])) / s
        rr = (np.arange(g.rows)[:, None] - apex_r) * s
        cc = (np.arange(g.cols)[None, :] - apex_c) * s
        ri = (np.hypot(rr, cc) - radius) / s
        ti = (np.arctan2(cc, rr) - theta[0]) / dtheta
        return cls(rho, theta, radius, pr, pc, ri, ti)

    @property
    def depth_mm(self) -> np.ndarray:
        """Depth along the beam below the probe face, per polar row."""
        return self.rho - self.radius_mm

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_rho, n_theta)``."""
        return (len(self.rho), len(self.theta))

    def to_polar(self, image: np.ndarray) -> np.ndarray:
        """Sample an image-grid map onto the polar grid (bilinear)."""
        return ndimage.map_coordinates(image, [self.pr, self.pc], order=1, mode="nearest")

    def to_image(self, polar: np.ndarray) -> np.ndarray:
        """Scan conversion: the polar map resampled onto the image grid (bilinear)."""
        return ndimage.map_coordinates(polar, [self.ri, self.ti], order=1, mode="nearest")
