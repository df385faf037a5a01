"""Painting the scene into echogenicity and attenuation maps (the static part of a case).

Echogenicity is the mean backscatter amplitude of a tissue (relative units); attenuation is
relative to soft tissue.  The look of each tissue follows clinical-rules 1I: fat hypoechoic with
echogenic septa parallel to the skin, muscle hypoechoic with bright fibro-adipose septa, fascia a
thin bright line, bone a very bright cortex with a posterior shadow, vessels anechoic (and, being
fluid, barely attenuating: posterior enhancement), nerves a honeycomb, the taut band hypoechoic
(1F Sikdar).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.draw import polygon2mask

from needleplan.synth.probe import ImageGrid, Probe, skin_row_mm
from needleplan.synth.scene import Blob, Scene
from needleplan.synth.texture import fascicle_mask, sheared, streaks

__all__ = ["ECHO", "ATTENUATION", "StaticMaps", "paint_static", "paint_vessel", "VesselPatch"]

#: Mean backscatter amplitude per tissue (relative) [inference, tuned to look like MSK scans].
ECHO = {
    "dermis": 0.55,
    "skin_line": 1.2,
    "fat": 0.085,
    "fat_septa": 0.55,
    "muscle": 0.17,
    "muscle_septa": 0.45,
    "fascia": 1.1,
    "target": 0.055,
    "lumen": 0.004,
    "vessel_wall": 1.3,
    "epineurium": 1.1,
    "fascicle": 0.05,
    "nerve_rim": 1.4,
    "bone_cortex": 4.0,
    "kidney": 0.16,
    "kidney_capsule": 1.2,
    "ligament": 1.0,
    "renal_sinus": 0.65,
}

#: Attenuation relative to soft tissue (muscle = 1).  Fluid ~0 gives posterior enhancement,
#: bone ~100x gives a complete acoustic shadow [inference, orders of magnitude from physics].
ATTENUATION = {
    "none": 0.0,
    "dermis": 1.0,
    "fat": 0.8,
    "muscle": 1.0,
    "target": 1.0,
    "lumen": 0.03,
    "nerve": 1.0,
    "bone": 100.0,
    "kidney": 0.9,
    "ligament": 1.2,
    "lung": 1.0,
}

VESSEL_WALL_MM = {"artery": 0.5, "vein": 0.25}
FASCIA_SIGMA_MM = 0.4  # fascia ~1.25 mm thick (clinical-rules 1A Salavati)
CORTEX_SIGMA_MM = 0.3


@dataclass(slots=True)
class VesselPatch:
    """A pulsating vessel: its patch of the image and the background under it."""

    rows: slice
    cols: slice
    rho: np.ndarray  # normalised elliptical radius over the patch
    a_px: float  # semi-axis (rows) in pixels, for anti-aliasing
    wall_rel: float  # wall thickness / semi-axis
    echo_bg: np.ndarray
    alpha_bg: np.ndarray


@dataclass(slots=True)
class StaticMaps:
    """Static echogenicity and attenuation of a case, plus what moves."""

    echo: np.ndarray  # (rows, cols) float32, PSF-smoothed
    alpha: np.ndarray  # (rows, cols) float32, relative attenuation
    solid: np.ndarray  # bool: blobs that lie over the lung (ribs) and hide it
    vessels: list[VesselPatch]
    pleura_row_mm: np.ndarray | None  # (cols,) at rest


def blob_mask(blob: Blob, grid: ImageGrid) -> np.ndarray:
    """Pixels whose centres lie inside the blob's polygon."""
    pts = blob.polygon() / grid.spacing_mm + np.asarray(grid.origin_px, dtype=np.float64)
    return polygon2mask((grid.rows, grid.cols), pts)


def _ridge(row_px: np.ndarray, centre_px: np.ndarray, sigma_px: float) -> np.ndarray:
    return np.exp(-(((row_px - centre_px) / sigma_px) ** 2)).astype(np.float32)


def _layer_texture(tissue: str, fibre_deg: float, fields: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    if tissue == "dermis":
        return ECHO["dermis"] * (1.0 + 0.2 * fields["fine"][: shape[0], : shape[1]])
    if tissue == "fat":
        septa = np.clip(fields["septa"][: shape[0], : shape[1]] - 1.6, 0.0, 1.0)
        lobule = 1.0 + 0.35 * fields["lobule"][: shape[0], : shape[1]]
        return ECHO["fat"] * lobule + ECHO["fat_septa"] * septa
    fib = sheared(fields["fibre"], fibre_deg, shape)
    return ECHO["muscle"] * (0.85 + 0.2 * fib) + ECHO["muscle_septa"] * np.clip(fib - 1.1, 0.0, 1.5)


def paint_vessel(echo: np.ndarray, alpha: np.ndarray, patch: VesselPatch, scale: float) -> None:
    """Paint a vessel of radius ``scale`` (relative) into ``echo``/``alpha`` over its patch."""
    lumen = np.clip((scale - patch.rho) * patch.a_px + 0.5, 0.0, 1.0)
    outer = np.clip((scale + patch.wall_rel - patch.rho) * patch.a_px + 0.5, 0.0, 1.0)
    wall = outer - lumen
    echo[patch.rows, patch.cols] = patch.echo_bg * (1.0 - outer) + ECHO["vessel_wall"] * wall + ECHO["lumen"] * lumen
    alpha[patch.rows, patch.cols] = patch.alpha_bg * (1.0 - lumen) + ATTENUATION["lumen"] * lumen


def _vessel_patch(blob: Blob, grid: ImageGrid, echo: np.ndarray, alpha: np.ndarray, max_scale: float) -> VesselPatch:
    s = grid.spacing_mm
    (cr, cc), (a, b) = blob.centre_mm, blob.semi_axes_mm
    wall = VESSEL_WALL_MM.get(blob.tissue, 0.4)
    reach_r, reach_c = a * max_scale + wall + 3 * s, b * max_scale + wall + 3 * s
    r0 = max(int(np.floor((cr - reach_r) / s + grid.origin_px[0])), 0)
    r1 = min(int(np.ceil((cr + reach_r) / s + grid.origin_px[0])) + 1, grid.rows)
    c0 = max(int(np.floor((cc - reach_c) / s + grid.origin_px[1])), 0)
    c1 = min(int(np.ceil((cc + reach_c) / s + grid.origin_px[1])) + 1, grid.cols)
    rows, cols = slice(r0, r1), slice(c0, c1)
    rr = (np.arange(r0, r1)[:, None] - grid.origin_px[0]) * s
    ccol = (np.arange(c0, c1)[None, :] - grid.origin_px[1]) * s
    rho = np.hypot((rr - cr) / a, (ccol - cc) / b).astype(np.float32)
    return VesselPatch(rows, cols, rho, a / s, wall / a, echo[rows, cols].copy(), alpha[rows, cols].copy())


def _paint_bone(echo: np.ndarray, alpha: np.ndarray, mask: np.ndarray, row_px: np.ndarray, sigma_px: float) -> None:
    cols_with = np.asarray(mask.any(axis=0))  # (cols,) bool
    top = np.argmax(mask, axis=0).astype(np.float32)
    echo[mask] = 0.0
    alpha[mask] = ATTENUATION["bone"]
    ridge = _ridge(row_px, top[None, :] - 0.5 * sigma_px, sigma_px) * cols_with[None, :]
    ridge[row_px > top[None, :] + 3 * sigma_px] = 0.0
    echo += ECHO["bone_cortex"] * ridge


def _paint_kidney(
    echo: np.ndarray, alpha: np.ndarray, mask: np.ndarray, blob: Blob, grid: ImageGrid, fields: dict[str, np.ndarray]
) -> None:
    """Kidney: hypoechoic cortex, bright capsule, echogenic central sinus (half its size)."""
    (cr, cc), (a, b) = blob.centre_mm, blob.semi_axes_mm
    row_mm, col_mm = grid.row_mm(), grid.col_mm()
    sinus = mask & ((((row_mm - cr) / (0.45 * a)) ** 2 + ((col_mm - cc) / (0.55 * b)) ** 2) <= 1.0)
    fine = fields["fine"][: grid.rows, : grid.cols]
    septa = fields["septa"][: grid.rows, : grid.cols]
    echo[mask] = ECHO["kidney"] * (1.0 + 0.2 * fine[mask])
    echo[sinus] = ECHO["renal_sinus"] * (1.0 + 0.5 * np.clip(septa[sinus], -1, 2))
    edge = mask & ~ndimage.binary_erosion(mask, iterations=2)
    echo[edge] = ECHO["kidney_capsule"]
    alpha[mask] = ATTENUATION["kidney"]


def paint_static(
    scene: Scene,
    grid: ImageGrid,
    rng: np.random.Generator,
    psf_px: tuple[float, float],
    max_vessel_scale: float,
) -> StaticMaps:
    """Paint layers, fascia, skin line and blobs; return the static maps and the moving parts."""
    probe: Probe = scene.probe
    shape = (grid.rows, grid.cols)
    sp = grid.spacing_mm
    row_mm = grid.row_mm().astype(np.float32)
    col_mm = grid.col_mm()[0]
    row_px = np.arange(grid.rows, dtype=np.float32)[:, None]
    big = (grid.rows + 64, grid.cols + 64)
    fields = {
        "fine": streaks(big, (0.8, 2.0), rng),
        "septa": streaks(big, (0.12 / sp, 4.0 / sp), rng),
        "lobule": streaks(big, (2.0 / sp, 3.0 / sp), rng),
        "fibre": streaks(big, (0.09 / sp, 2.5 / sp), rng),
    }
    tops = np.stack([layer.top.row_mm(col_mm, probe) for layer in scene.layers]).astype(np.float32)
    tops[0] = skin_row_mm(probe, col_mm)
    index = (row_mm[None, :, :] >= tops[:, None, :]).sum(axis=0) - 1  # -1 above the skin
    echo = np.zeros(shape, dtype=np.float32)
    alpha = np.zeros(shape, dtype=np.float32)
    for i, layer in enumerate(scene.layers):
        m = index == i
        echo[m] = _layer_texture(layer.tissue, layer.fibre_deg, fields, shape)[m]
        alpha[m] = ATTENUATION[layer.tissue]
    fascia_sigma = FASCIA_SIGMA_MM / sp
    for i in range(1, len(scene.layers)):
        layer = scene.layers[i]
        amp = (ECHO["fascia"] if layer.tissue == "muscle" else 0.5 * ECHO["fascia"]) * layer.fascia
        echo += amp * _ridge(row_px, tops[i][None, :] / sp + grid.origin_px[0], fascia_sigma) * (index >= 0)
    echo += ECHO["skin_line"] * _ridge(row_px, tops[0][None, :] / sp + grid.origin_px[0], fascia_sigma)

    solid = np.zeros(shape, dtype=bool)
    pulsing: list[Blob] = []
    for blob in scene.blobs:
        mask = blob_mask(blob, grid)
        if blob.tissue in ("artery", "vein"):
            if blob.pulsatile:
                pulsing.append(blob)
                continue
            patch = _vessel_patch(blob, grid, echo, alpha, 1.0)
            paint_vessel(echo, alpha, patch, 1.0)
        elif blob.tissue == "bone":
            _paint_bone(echo, alpha, mask, row_px, CORTEX_SIGMA_MM / sp)
            solid |= mask
        elif blob.tissue == "nerve":
            centre_px = (blob.centre_mm[0] / sp + grid.origin_px[0], blob.centre_mm[1] / sp + grid.origin_px[1])
            semi_px = (blob.semi_axes_mm[0] / sp, blob.semi_axes_mm[1] / sp)
            fasc = fascicle_mask(shape, centre_px, semi_px, rng)
            echo[mask] = (ECHO["epineurium"] * (1.0 - fasc) + ECHO["fascicle"] * fasc)[mask]
            rim = ndimage.binary_dilation(mask, iterations=max(int(round(0.3 / sp)), 1)) & ~mask
            echo[rim] = ECHO["nerve_rim"]  # hyperechoic epineurium / fat rim (1I Nerve)
            alpha[mask] = ATTENUATION["nerve"]
        elif blob.tissue == "kidney":
            _paint_kidney(echo, alpha, mask, blob, grid, fields)
        elif blob.tissue == "ligament":  # ligamentum flavum, dura: bright bands, no shadow (1I)
            echo[mask] = ECHO["ligament"] * (1.0 + 0.2 * fields["fine"][: grid.rows, : grid.cols][mask])
            alpha[mask] = ATTENUATION["ligament"]
        else:  # target: a hypoechoic oval with soft edges
            soft = ndimage.gaussian_filter(mask.astype(np.float32), 1.0)
            fine = fields["fine"][: grid.rows, : grid.cols]
            echo[:] = echo * (1.0 - soft) + ECHO["target"] * (1.0 + 0.3 * fine) * soft
    echo = ndimage.gaussian_filter(echo, (0.5 * psf_px[0], 0.5 * psf_px[1]))
    vessels = [_vessel_patch(b, grid, echo, alpha, max_vessel_scale) for b in pulsing]
    for patch in vessels:
        paint_vessel(echo, alpha, patch, 1.0)
    pleura = scene.pleura.row_mm(col_mm, probe) if scene.pleura is not None else None
    return StaticMaps(echo, alpha, solid, vessels, pleura)
