"""The physical image model (``needleplan synth --model physical``).

Tissue is a field of random point scatterers: one complex Gaussian scatterer per sample (fully
developed speckle), its amplitude the echogenicity of the anatomy at that point times the
round-trip transmission with time-gain compensation, all taken from the smooth model's
:meth:`Renderer.frame_maps` (the same scene, so the same ground truth: bone shadows, the pleural
line with its A-lines at multiples of the skin-to-pleura distance and the lung below it, the
breathing, sliding and pulsation).  The scatter map is imaged by convolving it (FFT) with the
PyMUST point spread function of the probe (:mod:`~needleplan.synth.psf`) for each depth band,
blended linearly between the bands' centres.  The envelope of the result is log-compressed by the
smooth model's :func:`~needleplan.synth.render.compress`.

A curvilinear probe acquires in beam coordinates (radius x angle, :class:`FanPolar`): the scatterers
lie on the polar grid, the PSF is convolved along and across the beams, and the envelope is scan
converted to the screen.  The chest wall's scatterers stay still from frame to frame; the lung's
slide with the lung: sideways in the image under a linear probe, along the arc (across the beams,
by the sliding distance over the pleura's radius from the apex) under a curvilinear one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.fft

from needleplan.synth.probe import Probe
from needleplan.synth.psf import point_spread_function
from needleplan.synth.render import LungWindow, Renderer
from needleplan.synth.scan import FanPolar

__all__ = ["PsfBank", "PhysicalRenderer", "complex_scatterers", "BAND_MM", "MAP_PSF_PX"]

#: Depth bands of one PSF each: one band per this many millimetres of depth, at least 3
#: [inference: the PSF changes slowly away from the focus; 10 mm bands for linear, 20 mm convex].
BAND_MM = {"linear": 10.0, "curvilinear": 20.0}
#: Gaussian sigma (pixels, doubled: the map is softened by half of it) the echogenicity map is
#: anti-aliased with before the scatterers: a pixel, so the PyMUST PSF alone sets the resolution.
MAP_PSF_PX = (1.0, 1.0)
#: Shallowest depth a PSF is simulated at; shallower bands use this depth's PSF (PyMUST's
#: ``simus`` returns NaN for a point scatterer shallower than about 15 mm under the C5-2v array).
MIN_PSF_DEPTH_MM = {"linear": 3.0, "curvilinear": 20.0}


def complex_scatterers(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Unit-power circular complex Gaussian scatterers, one per sample (complex64)."""
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    out = np.empty(shape, dtype=np.complex64)
    out.real, out.imag = re, im
    out *= np.float32(1.0 / math.sqrt(2.0))
    return out


@dataclass(frozen=True, slots=True)
class PsfBank:
    """PSFs of one probe for depth bands, ready to convolve maps of one shape.

    ``depth_mm`` gives the depth below the probe face of each row of the maps (beam coordinates);
    ``centres_mm`` the bands' depths.  Rows between two centres blend the two bands' images
    linearly; above the first and below the last centre one band is used.
    """

    shape: tuple[int, int]
    fft_shape: tuple[int, int]
    offset: tuple[int, int]
    centres_mm: tuple[float, ...]
    kernels_fft: tuple[np.ndarray, ...]
    weights: np.ndarray  # (bands, rows, 1) float32

    @classmethod
    def build(
        cls, probe: Probe, shape: tuple[int, int], depth_mm: np.ndarray, lateral_mm: Callable[[float], float]
    ) -> PsfBank:
        """PSFs of ``probe`` for maps of ``shape`` whose rows lie at ``depth_mm`` (spacing
        ``probe.spacing_mm`` along the beam); ``lateral_mm(depth)`` is the sample spacing across
        the beams at a depth (constant for a linear probe, growing with depth for a fan)."""
        n = max(3, int(math.ceil(probe.depth_mm / BAND_MM[probe.kind])))
        centres = tuple(probe.depth_mm * (i + 0.5) / n for i in range(n))
        kernels = []
        for c in centres:
            at = max(c, MIN_PSF_DEPTH_MM[probe.kind])
            kernels.append(point_spread_function(probe, at, probe.spacing_mm, float(lateral_mm(c))))
        kr = max(k.shape[0] for k in kernels)
        kc = max(k.shape[1] for k in kernels)
        fft_shape = (scipy.fft.next_fast_len(shape[0] + kr - 1), scipy.fft.next_fast_len(shape[1] + kc - 1))
        ffts = []
        for k in kernels:
            padded = np.zeros((kr, kc), dtype=np.complex64)
            r0, c0 = (kr - k.shape[0]) // 2, (kc - k.shape[1]) // 2
            padded[r0 : r0 + k.shape[0], c0 : c0 + k.shape[1]] = k
            ffts.append(scipy.fft.fft2(padded, fft_shape).astype(np.complex64))
        d = np.asarray(depth_mm, dtype=np.float64).reshape(-1)
        weights = np.stack([_hat(d, centres, i) for i in range(n)])[:, :, None].astype(np.float32)
        return cls((shape[0], shape[1]), fft_shape, (kr // 2, kc // 2), centres, tuple(ffts), weights)

    def image(self, field: np.ndarray) -> np.ndarray:
        """The complex (I/Q) image of a complex scatter map: its convolution with each band's PSF,
        blended by depth."""
        rows, cols = self.shape
        spectrum = scipy.fft.fft2(field, self.fft_shape, workers=1)
        out = np.zeros(self.shape, dtype=np.complex64)
        r0, c0 = self.offset
        for k, w in zip(self.kernels_fft, self.weights, strict=True):
            live = np.flatnonzero(w[:, 0] > 0)
            if live.size == 0:
                continue
            full = scipy.fft.ifft2(spectrum * k, workers=1)
            a, b = int(live[0]), int(live[-1]) + 1
            out[a:b] += w[a:b] * full[r0 + a : r0 + b, c0 : c0 + cols]
        return out


def _hat(depth: np.ndarray, centres: tuple[float, ...], i: int) -> np.ndarray:
    """Linear-interpolation weight of band ``i`` at each depth (the weights sum to 1)."""
    xs = np.asarray(centres)
    ys = np.zeros(len(centres))
    ys[i] = 1.0
    return np.interp(depth, xs, ys)


@dataclass
class PhysicalRenderer:
    """Renders frames of one scene with the physical model.  Build once, then :meth:`frame`."""

    base: Renderer
    bank: PsfBank
    wall: np.ndarray  # complex scatterers of the chest wall / tissue (beam coordinates)
    lung: np.ndarray | None  # padded complex scatterers of the lung (image or beam coordinates)
    fan: FanPolar | None
    lung_pad: tuple[int, int] = (0, 0)  # beam coordinates: the lung field's padding (rows, beams)
    lung_rho_mm: float = 0.0  # beam coordinates: the pleura's mean distance from the apex

    @classmethod
    def build(cls, base: Renderer, rng: np.random.Generator) -> PhysicalRenderer:
        """Scatterers and PSFs for the smooth model's renderer ``base`` (after it was built)."""
        g, probe = base.grid, base.scene.probe
        if probe.kind == "curvilinear":
            fan = FanPolar.build(g, probe)
            dtheta = float(fan.theta[1] - fan.theta[0])
            bank = PsfBank.build(probe, fan.shape, fan.depth_mm, lambda d: (fan.radius_mm + d) * dtheta)
            wall = complex_scatterers(fan.shape, rng)
            if base.lung_speckle is None or base.maps.pleura_row_mm is None:
                return cls(base, bank, wall, None, fan)
            rho = fan.radius_mm + float(np.mean(base.maps.pleura_row_mm))
            pad = (base.pad[0], int(math.ceil(base.motion.sliding_mm / (rho * dtheta))) + 2)
            lung_field = complex_scatterers((fan.shape[0] + 2 * pad[0], fan.shape[1] + 2 * pad[1]), rng)
            return cls(base, bank, wall, lung_field, fan, pad, rho)
        shape = (g.rows, g.cols)
        bank = PsfBank.build(probe, shape, base.row_mm[:, 0], lambda d: g.spacing_mm)
        lung = None
        if base.lung_speckle is not None:
            lung = complex_scatterers(base.lung_speckle.shape, rng)
        return cls(base, bank, complex_scatterers(shape, rng), lung, None)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as a ``(rows, cols)`` uint8 image."""
        fm = self.base.frame_maps(index)
        g = self.base.grid
        amplitude = fm.echo * fm.transmission
        if self.fan is not None:
            field = self.fan.to_polar(amplitude).astype(np.float32) * self._fan_scatterers(fm.lung)
            envelope = np.abs(self.bank.image(field))
            envelope = self.fan.to_image(envelope).astype(np.float32)
        else:
            scatterers = self.wall
            if fm.lung is not None and self.lung is not None:
                scatterers = fm.lung.lay(self.wall, self.lung, g.rows, g.cols)
            envelope = np.abs(self.bank.image(amplitude * scatterers))
        return self.base.finish(envelope, index)

    def _fan_scatterers(self, lung: LungWindow | None) -> np.ndarray:
        """The beam-coordinate scatterers of a frame: the wall's, with the lung's (moved by the
        frame's breathing and sliding) where the lung lies."""
        if lung is None or self.lung is None or self.fan is None:
            return self.wall
        g, pad = self.base.grid, self.base.pad
        inside = np.zeros((g.rows, g.cols), dtype=np.float32)
        inside[lung.row0 :] = lung.mask
        mask = self.fan.to_polar(inside) > 0.5
        # the image window's offsets in pixels (LungWindow), back to the breathing and sliding
        down_px = pad[0] + lung.row0 - lung.field_row
        slide_mm = (pad[1] - lung.field_col) * g.spacing_mm
        dtheta = float(self.fan.theta[1] - self.fan.theta[0])
        r0 = self.lung_pad[0] - down_px
        t0 = self.lung_pad[1] - int(round(slide_mm / (self.lung_rho_mm * dtheta)))
        rows, beams = self.fan.shape
        return np.where(mask, self.lung[r0 : r0 + rows, t0 : t0 + beams], self.wall)
