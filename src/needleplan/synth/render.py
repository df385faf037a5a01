"""The B-mode renderer: static maps + motion -> 8-bit frames.

Per frame: the lung under the pleura (pleural line, A-line reverberations at multiples of the
skin-to-pleura distance, a faint texture, B-lines when the scene has them) is laid below the
breathing pleura, its speckle field shifted sideways (lung sliding) while the chest wall's
speckle stays still; pulsating arteries are repainted; the amplitude is the echogenicity times
Rayleigh speckle times the round-trip attenuation (integrated down each column, or along the
fan's beams for a curvilinear probe, so bone casts a shadow and fluid an enhancement), corrected
by a time-gain compensation that undoes 90% of the soft-tissue loss; electronic noise is added
and the result log-compressed to 8 bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from needleplan.synth.motion import Motion
from needleplan.synth.paint import StaticMaps, paint_static, paint_vessel
from needleplan.synth.probe import ImageGrid, Probe, fan_mask
from needleplan.synth.scan import FanPolar
from needleplan.synth.scene import Scene
from needleplan.synth.texture import psf_sigma_px, speckle_magnitude

__all__ = ["Renderer", "compress", "DYNAMIC_RANGE_DB", "TOP_DB"]

DB_PER_MM_PER_MHZ = 0.08  # soft tissue, one way: 0.8 dB/cm/MHz [inference, textbook order]
TGC_FRACTION = 0.9
DYNAMIC_RANGE_DB = 60.0
TOP_DB = 12.0  # amplitude 4 (bone cortex) maps to white
GAMMA = 2.0
NOISE_AMPLITUDE = 0.004
PLEURA_ECHO = 3.5
A_LINE_ECHO = (0.9, 0.45, 0.22, 0.11)  # 1st, 2nd... repeat below the pleura (1I A-lines)
LUNG_ECHO = 0.09
PLEURA_SIGMA_MM = 0.25
#: B-line: "laser-like", as bright as the first A-line, about 1.5 mm wide (1I B-lines) [inference
#: for the numbers].
B_LINE_ECHO = 0.9
B_LINE_SIGMA_MM = 0.75


_LUT_SIZE = 4096
_LUT = np.rint(255.0 * np.linspace(0.0, 1.0, _LUT_SIZE) ** GAMMA).astype(np.uint8)


def compress(amplitude: np.ndarray) -> np.ndarray:
    """Log-compress an amplitude image to uint8: ``TOP_DB`` is white, 60 dB below is black, a
    gamma of 2 in between (a 4096-entry look-up table: steps of 0.015 dB).

    >>> compress(np.array([4.0, 4.0 * 10 ** (-60 / 20), 1e-9])).tolist()
    [255, 0, 0]
    """
    lo = (TOP_DB - DYNAMIC_RANGE_DB) / 20.0
    scale = np.float32((_LUT_SIZE - 1) / (DYNAMIC_RANGE_DB / 20.0))
    x = np.log10(np.maximum(amplitude, np.float32(1e-12)).astype(np.float32, copy=False))
    x -= np.float32(lo)
    x *= scale
    np.clip(x, 0, _LUT_SIZE - 1, out=x)
    return _LUT[x.astype(np.int32)]


@dataclass
class Renderer:
    """Renders frames of one scene.  Build once (the slow part), then call :meth:`frame`."""

    scene: Scene
    grid: ImageGrid
    motion: Motion
    maps: StaticMaps
    wall_speckle: np.ndarray
    lung_speckle: np.ndarray | None
    noise: np.ndarray
    pad: tuple[int, int]
    fan: np.ndarray
    ruler: list[tuple[int, int, int]]
    row_mm: np.ndarray  # (rows, 1) float32
    transmission: np.ndarray  # static round-trip transmission with TGC
    lung_row0: int  # first row the lung can reach
    mhz: float

    @classmethod
    def build(
        cls,
        scene: Scene,
        grid: ImageGrid,
        motion: Motion,
        rng: np.random.Generator,
        *,
        map_psf_px: tuple[float, float] | None = None,
    ) -> Renderer:
        """``map_psf_px`` overrides the Gaussian PSF the echogenicity map is softened with (half
        its sigma); the physical model passes a pixel-sized one, as its own PSF does the blurring."""
        probe = scene.probe
        psf = psf_sigma_px(probe.frequency_mhz, probe.spacing_mm)
        max_scale = 1.0 + motion.pulse_fraction
        maps = paint_static(scene, grid, rng, map_psf_px or psf, max_scale)
        shape = (grid.rows, grid.cols)
        wall = speckle_magnitude(shape, psf, rng)
        pad = (
            int(math.ceil(motion.pleura_shift_mm / grid.spacing_mm)) + 2,
            int(math.ceil(motion.sliding_mm / grid.spacing_mm)) + 2,
        )
        lung = None
        if maps.pleura_row_mm is not None:
            lung = speckle_magnitude((shape[0] + 2 * pad[0], shape[1] + 2 * pad[1]), psf, rng)
        noise = speckle_magnitude((shape[0] + 64, shape[1] + 64), (0.7, 0.7), rng)
        row_mm = grid.row_mm().astype(np.float32)
        lung_row0 = grid.rows
        if maps.pleura_row_mm is not None:
            top_mm = float(maps.pleura_row_mm.min()) - motion.pleura_shift_mm - 3.0 * PLEURA_SIGMA_MM - grid.spacing_mm
            lung_row0 = int(np.searchsorted(row_mm[:, 0], top_mm))
        if probe.kind == "curvilinear":
            transmission = _transmission_fan(maps.alpha, grid, probe)
        else:
            transmission = _transmission(maps.alpha, row_mm, grid, probe.frequency_mhz)
        return cls(
            scene,
            grid,
            motion,
            maps,
            wall,
            lung,
            noise,
            pad,
            fan_mask(probe, grid),
            _ruler(grid),
            row_mm,
            transmission,
            lung_row0,
            probe.frequency_mhz,
        )

    def frame_maps(self, index: int) -> FrameMaps:
        """What frame ``index`` shows before speckle: echogenicity, transmission (with TGC) and
        where the moving lung lies (the physical model draws its own scatterers over these)."""
        g, maps, motion = self.grid, self.maps, self.motion
        t = motion.time_s(index)
        echo, transmission = maps.echo, self.transmission
        lung = None
        if maps.pleura_row_mm is not None and self.lung_speckle is not None:
            # Below the pleura, the lung (its attenuation equals the chest-wall muscle's, so the
            # static transmission holds); only the rows the lung can reach are recomputed.
            shift = motion.pleura_shift(t)
            pleura = (maps.pleura_row_mm + shift).astype(np.float32)[None, :]
            r0 = self.lung_row0
            band_mm = self.row_mm[r0:]
            mask = (band_mm >= pleura - 3.0 * PLEURA_SIGMA_MM) & ~maps.solid[r0:]
            echo = echo.copy()
            lung_echo = _lung_echo(band_mm, pleura)
            if self.scene.b_lines_col_mm:
                col_mm = (np.arange(g.cols, dtype=np.float32) - np.float32(g.origin_px[1])) * np.float32(g.spacing_mm)
                b_lines = self.scene.b_lines_col_mm
                lung_echo = _with_b_lines(lung_echo, band_mm, pleura, col_mm, b_lines, motion.sliding(t))
            echo[r0:] = np.where(mask, lung_echo, echo[r0:])
            dr = int(round(shift / g.spacing_mm))
            dc = int(round(motion.sliding(t) / g.spacing_mm))
            lung = LungWindow(r0, mask, self.pad[0] - dr + r0, self.pad[1] - dc)
        if maps.vessels:
            echo = echo.copy() if echo is maps.echo else echo
            alpha = maps.alpha.copy()
            transmission = transmission.copy()
            scale = motion.artery_scale(t)
            for patch in maps.vessels:
                paint_vessel(echo, alpha, patch, scale)
                if self.scene.probe.kind != "curvilinear":  # the fan keeps the enhancement at rest
                    transmission[:, patch.cols] = _transmission(alpha[:, patch.cols], self.row_mm, g, self.mhz)
        return FrameMaps(echo, transmission, lung)

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as a ``(rows, cols)`` uint8 image."""
        g = self.grid
        fm = self.frame_maps(index)
        speckle = self.wall_speckle
        if fm.lung is not None:
            assert self.lung_speckle is not None  # made whenever the scene has a lung window
            speckle = fm.lung.lay(speckle, self.lung_speckle, g.rows, g.cols)
        amplitude = fm.echo * speckle
        amplitude *= fm.transmission
        return self.finish(amplitude, index)

    def finish(self, amplitude: np.ndarray, index: int) -> np.ndarray:
        """Electronic noise (a window of a fixed field that moves with ``index``), log
        compression, the black outside the fan and the burned-in depth ruler."""
        g = self.grid
        k = (index * 17) % 64, (index * 29) % 64
        amplitude += NOISE_AMPLITUDE * self.noise[k[0] : k[0] + g.rows, k[1] : k[1] + g.cols]
        out = compress(amplitude)
        out[~self.fan] = 0
        for r, c0, c1 in self.ruler:
            out[r, c0:c1] = 200
        return out


@dataclass(frozen=True, slots=True)
class LungWindow:
    """Where the lung lies in a frame: rows from ``row0`` where ``mask`` holds, and the corner
    ``(row, col)`` of the window of the (padded, larger) lung field that shows there."""

    row0: int
    mask: np.ndarray
    field_row: int
    field_col: int

    def lay(self, wall: np.ndarray, lung: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """``wall`` with the lung's window of ``lung`` laid over the lung pixels (a copy)."""
        r0, wr, wc = self.row0, self.field_row, self.field_col
        out = wall.copy()
        window = lung[wr : wr + rows - r0, wc : wc + cols]
        out[r0:] = np.where(self.mask, window, out[r0:])
        return out


@dataclass(frozen=True, slots=True)
class FrameMaps:
    """One frame before speckle: echogenicity, round-trip transmission with TGC, the lung."""

    echo: np.ndarray
    transmission: np.ndarray
    lung: LungWindow | None


def _lung_echo(row_mm: np.ndarray, pleura_mm: np.ndarray) -> np.ndarray:
    """Pleural line and A-lines: bright repeats at whole multiples of the skin-to-pleura depth."""
    ratio = row_mm / pleura_mm
    m = np.clip(np.rint(ratio), 1, len(A_LINE_ECHO) + 1).astype(np.intp)
    amp = np.asarray((PLEURA_ECHO, *A_LINE_ECHO), dtype=np.float32)[m - 1]
    dist = (ratio - m) * pleura_mm
    return LUNG_ECHO + amp * np.exp(-((dist * (1.0 / PLEURA_SIGMA_MM)) ** 2))


def _with_b_lines(
    lung_echo: np.ndarray,
    row_mm: np.ndarray,
    pleura_mm: np.ndarray,
    col_mm: np.ndarray,
    b_lines_col_mm: tuple[float, ...],
    sliding_mm: float,
) -> np.ndarray:
    """The lung with B-lines: bright vertical bands from the pleural line to the bottom of the
    image, moving sideways with lung sliding and erasing the A-lines they cross (1I B-lines).

    Each is a Gaussian ``B_LINE_SIGMA_MM`` wide across, of echogenicity ``B_LINE_ECHO``, that
    starts at the pleural line (ramping in over ``PLEURA_SIGMA_MM``) and does not fade with depth.
    """
    across = np.zeros_like(col_mm)
    for c in b_lines_col_mm:
        across = np.maximum(across, np.exp(-(((col_mm - (c + sliding_mm)) / B_LINE_SIGMA_MM) ** 2)))
    below = np.clip((row_mm - pleura_mm) / PLEURA_SIGMA_MM, 0.0, 1.0)
    weight = (below * across[None, :]).astype(np.float32)
    return lung_echo * (1.0 - weight) + np.float32(B_LINE_ECHO) * weight


def _transmission(alpha: np.ndarray, row_mm: np.ndarray, g: ImageGrid, mhz: float) -> np.ndarray:
    """Round-trip amplitude transmission down each column, with time-gain compensation."""
    db_per_px = np.float32(2.0 * DB_PER_MM_PER_MHZ * mhz * g.spacing_mm)
    loss_db = (np.cumsum(alpha, axis=0, dtype=np.float32) - 0.5 * alpha) * db_per_px
    tgc_db = TGC_FRACTION * 2.0 * DB_PER_MM_PER_MHZ * mhz * np.maximum(row_mm, 0.0)
    return np.power(np.float32(10.0), (tgc_db - loss_db) * np.float32(1.0 / 20.0))


def _transmission_fan(alpha: np.ndarray, g: ImageGrid, probe: Probe) -> np.ndarray:
    """Round-trip transmission along the fan's radial beams (curvilinear probe), with TGC on the
    depth along the beam: shadows and enhancement spread out from the virtual apex.

    The attenuation map is resampled onto the fan's polar grid (:class:`FanPolar`), integrated
    along each beam and resampled back.
    """
    fan = FanPolar.build(g, probe)
    alpha_polar = fan.to_polar(alpha)
    db_per_px = 2.0 * DB_PER_MM_PER_MHZ * probe.frequency_mhz * g.spacing_mm
    loss_db = (np.cumsum(alpha_polar, axis=0) - 0.5 * alpha_polar) * db_per_px
    tgc_db = TGC_FRACTION * 2.0 * DB_PER_MM_PER_MHZ * probe.frequency_mhz * fan.depth_mm[:, None]
    t_polar = np.power(10.0, (tgc_db - loss_db) / 20.0)
    return fan.to_image(t_polar).astype(np.float32)


def _ruler(g: ImageGrid) -> list[tuple[int, int, int]]:
    """Depth-scale ticks in the right margin: every 10 mm long, every 5 mm short (burned in)."""
    ticks = []
    c = g.box_px[3] + 12
    depth_mm = 0.0
    while True:
        r = int(round(g.origin_px[0] + depth_mm / g.spacing_mm))
        if r > g.box_px[2]:
            break
        long = abs(depth_mm / 10.0 - round(depth_mm / 10.0)) < 1e-9
        ticks.append((r, c, c + (10 if long else 5)))
        depth_mm += 5.0
    return ticks
