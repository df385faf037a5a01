"""Random fields of the phantom: speckle, fibre and septa streaks, nerve fascicles.

Speckle is the envelope of a circular complex Gaussian field filtered by the point spread
function, so its amplitude is Rayleigh distributed in a homogeneous region (clinical-rules 1I
describes the look of each tissue; the speckle model is the standard fully developed one).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = ["speckle_magnitude", "streaks", "sheared", "fascicle_mask", "psf_sigma_px"]


def psf_sigma_px(frequency_mhz: float, spacing_mm: float) -> tuple[float, float]:
    """Gaussian PSF sigmas ``(axial, lateral)`` in pixels for a probe frequency.

    Sigmas of 0.6 wavelength axially and 2.5 wavelengths laterally (wavelength 1.54 mm * MHz / f)
    [inference: a short pulse and a typical f-number].  Never below 0.7 px.

    >>> psf_sigma_px(10.0, 0.1)
    (0.92, 3.85)
    """
    wavelength_mm = 1.54 / frequency_mhz
    axial = max(0.7, 0.6 * wavelength_mm / spacing_mm)
    lateral = max(0.7, 2.5 * wavelength_mm / spacing_mm)
    return (round(axial, 2), round(lateral, 2))


def speckle_magnitude(shape: tuple[int, int], sigma_px: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Envelope of PSF-filtered complex white noise, normalised to ``E[|n|^2] = 1`` (float32).

    In a homogeneous region the values are Rayleigh distributed: mean ``sqrt(pi)/2 = 0.886``,
    ``mean / std = 1.913``.
    """
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    re = ndimage.gaussian_filter(re, sigma_px, mode="wrap")
    im = ndimage.gaussian_filter(im, sigma_px, mode="wrap")
    mag = np.hypot(re, im)
    power = float(np.mean(mag.astype(np.float64) ** 2))
    return (mag / math.sqrt(power)).astype(np.float32)


def streaks(shape: tuple[int, int], sigma_px: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """White noise smoothed much more along the columns than the rows: horizontal streaks,
    zero mean and unit standard deviation (float32)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma_px, mode="wrap")
    field -= field.mean()
    field /= max(float(field.std()), 1e-12)
    return field


def sheared(field: np.ndarray, angle_deg: float, out_shape: tuple[int, int]) -> np.ndarray:
    """Sample ``field`` (wrapping) with its rows sheared by ``tan(angle)`` per column: tilts
    horizontal streaks by ``angle_deg`` (a shear, close to a rotation for small angles)."""
    rows, cols = out_shape
    slope = math.tan(math.radians(angle_deg))
    r = np.arange(rows)[:, None]
    c = np.arange(cols)[None, :]
    shift = np.rint(slope * (c - cols / 2.0)).astype(np.int64)
    ri = (r + shift) % field.shape[0]
    return field[ri, c % field.shape[1]]


def fascicle_mask(
    grid_shape: tuple[int, int],
    centre_px: tuple[float, float],
    semi_axes_px: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Float mask (0..1) of round hypoechoic fascicles packed inside an ellipse: the honeycomb
    of a nerve in short axis (clinical-rules 1I Nerve)."""
    out = np.zeros(grid_shape, dtype=np.float32)
    a, b = semi_axes_px
    radius = max(1.5, 0.28 * min(a, b))
    n_try = int(6 * a * b / (radius * radius)) + 8
    cy, cx = centre_px
    placed: list[tuple[float, float, float]] = []
    for _ in range(n_try):
        u, v = rng.uniform(-1.0, 1.0, size=2)
        r = radius * rng.uniform(0.7, 1.2)
        if (u * a) ** 2 / max(a - r, 0.5) ** 2 + (v * b) ** 2 / max(b - r, 0.5) ** 2 > 1.0:
            continue
        y, x = cy + u * a, cx + v * b
        if any((y - py) ** 2 + (x - px) ** 2 < (r + pr + 0.6) ** 2 for py, px, pr in placed):
            continue
        placed.append((y, x, r))
    rr = np.arange(grid_shape[0])[:, None]
    cc = np.arange(grid_shape[1])[None, :]
    r0, r1 = int(max(cy - a - 2, 0)), int(min(cy + a + 3, grid_shape[0]))
    c0, c1 = int(max(cx - b - 2, 0)), int(min(cx + b + 3, grid_shape[1]))
    sub_r, sub_c = rr[r0:r1], cc[:, c0:c1]
    for y, x, r in placed:
        d = np.hypot(sub_r - y, sub_c - x)
        out[r0:r1, c0:c1] = np.maximum(out[r0:r1, c0:c1], np.clip(r + 0.5 - d, 0.0, 1.0))
    return out
