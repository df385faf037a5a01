"""Point spread functions of the physical phantom, simulated with PyMUST.

For a probe and a depth, one point scatterer is insonified by a transmit focused at that depth
through a MUST array model (``L11-5v`` for a linear probe, ``C5-2v`` for a curvilinear one, at the
probe's centre frequency), the element signals are demodulated to I/Q and beamformed by
delay-and-sum (``pymust.simus``, ``rf2iq``, ``dasmtx``).  The beamformed point image, brought to
baseband along depth and averaged into image pixels, is the complex PSF the physical renderer
convolves with the scatterer map.  Its peak is made real and its energy 1, so a field of unit-power
complex scatterers gives unit mean echo power and PSFs of neighbouring depth bands add in phase.

PSFs are deterministic per probe, depth and sampling: they are kept in memory and on disk
(``$NEEDLEPLAN_CACHE_DIR`` or the user cache folder, ``psf-*.npy``), so the simulation runs once.

PyMUST (``pymust``, LGPL-3.0) is an optional dependency (``pip install needleplan[physical]``):
it is only imported here, unmodified and dynamically, which the LGPL permits under our BSD licence.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from needleplan.errors import UnknownPresetError
from needleplan.synth.probe import Probe

__all__ = ["MUST_ARRAY", "SPEED_OF_SOUND_M_S", "point_spread_function", "psf_cache_dir"]

#: MUST array model standing in for each probe kind (element geometry and bandwidth).
MUST_ARRAY = {"linear": "L11-5v", "curvilinear": "C5-2v"}
SPEED_OF_SOUND_M_S = 1540.0
#: Axial and lateral half-extent of the kernel, in wavelengths [inference: the PSF's envelope is
#: below 1 % of its peak there for both arrays at their focus].
HALF_EXTENT_WAVELENGTHS = (8.0, 16.0)
#: Receive and transmit f-numbers, each a Hann-apodised aperture (the aperture grows with depth)
#: [inference: a Hann-apodised aperture of f-number 1 resolves like an unapodised one of about
#: 1.6, a typical scanner setting; apodisation keeps side lobes from filling cysts].
RECEIVE_F_NUMBER = 1.0
TRANSMIT_F_NUMBER = 2.0
_FINE = 4  # sub-samples per pixel in each direction before averaging into the pixel


def psf_cache_dir() -> Path:
    """Folder of the on-disk PSF cache (``$NEEDLEPLAN_CACHE_DIR`` or the user cache folder)."""
    env = os.environ.get("NEEDLEPLAN_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("needleplan"))


def _key(probe: Probe, depth_mm: float, axial_mm: float, lateral_mm: float) -> str:
    import pymust

    text = repr(
        (
            getattr(pymust, "__version__", "0.1.9"),
            MUST_ARRAY[probe.kind],
            probe.frequency_mhz,
            round(depth_mm, 3),
            round(axial_mm, 5),
            round(lateral_mm, 5),
            HALF_EXTENT_WAVELENGTHS,
            _FINE,
            RECEIVE_F_NUMBER,
            TRANSMIT_F_NUMBER,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=64)
def point_spread_function(probe: Probe, depth_mm: float, axial_mm: float, lateral_mm: float) -> np.ndarray:
    """The complex baseband PSF at ``depth_mm`` sampled at ``axial_mm`` x ``lateral_mm`` pixels.

    Returns a ``(2 m + 1, 2 n + 1)`` complex64 kernel (rows = depth), peak at the centre, real and
    positive there, ``sum(|h|**2) == 1``.  Read-only (it is cached): copy before changing it.

    Example: the 10 MHz linear probe at 20 mm on 0.1 mm pixels has a wavelength of
    1.54 / 10 = 0.154 mm, so the kernel reaches 8 x 0.154 = 1.2 mm (13 px) axially and
    16 x 0.154 = 2.5 mm (25 px) laterally: shape ``(27, 51)``.
    """
    if probe.kind not in MUST_ARRAY:
        raise UnknownPresetError(f"no ultrasound array model for a {probe.kind!r} probe")
    path = psf_cache_dir() / f"psf-{_key(probe, depth_mm, axial_mm, lateral_mm)}.npy"
    if path.is_file():
        kernel = np.load(path)
    else:
        kernel = _simulate(probe, depth_mm, axial_mm, lateral_mm)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, kernel)
        os.replace(tmp, path)
    kernel.setflags(write=False)
    return kernel


def _hann_aperture(param: Any, depth_mm: float, f_number: float) -> np.ndarray:
    """Hann apodisation over the elements of an aperture ``depth / f_number`` wide, centred."""
    element_mm = (np.arange(param.Nelements) - (param.Nelements - 1) / 2.0) * param.pitch * 1e3
    half_mm = 0.5 * depth_mm / f_number
    return np.where(np.abs(element_mm) < half_mm, 0.5 + 0.5 * np.cos(np.pi * element_mm / half_mm), 0.0)


def _simulate(probe: Probe, depth_mm: float, axial_mm: float, lateral_mm: float) -> np.ndarray:
    try:
        import pymust
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UnknownPresetError("the physical phantom needs PyMUST: pip install 'needleplan[physical]'") from exc
    param = pymust.getparam(MUST_ARRAY[probe.kind])
    param.fc = probe.frequency_mhz * 1e6
    param.fs = 4.0 * param.fc
    param.c = SPEED_OF_SOUND_M_S
    param.fnumber = 0.0  # the receive aperture is set by the Hann apodisation below
    z0 = depth_mm * 1e-3
    # Transmit from a Hann-apodised sub-aperture of f-number TRANSMIT_F_NUMBER, as a scanner's
    # focused line does (a full, unapodised aperture would add edge waves that fill cysts).
    param.TXapodization = _hann_aperture(param, depth_mm, TRANSMIT_F_NUMBER)
    delays = pymust.txdelay(0.0, z0, param)
    with np.errstate(all="ignore"):
        rf, _ = pymust.simus(np.array([0.0]), np.array([z0]), np.array([1.0]), delays, param)
    if not np.all(np.isfinite(rf)):
        raise UnknownPresetError(
            f"PyMUST could not simulate a point {depth_mm:g} mm under the {MUST_ARRAY[probe.kind]} array"
        )
    iq = pymust.rf2iq(rf, param)
    wavelength_mm = SPEED_OF_SOUND_M_S / param.fc * 1e3
    m = int(math.ceil(HALF_EXTENT_WAVELENGTHS[0] * wavelength_mm / axial_mm))
    n = int(math.ceil(HALF_EXTENT_WAVELENGTHS[1] * wavelength_mm / lateral_mm))
    # Sub-pixel grid: _FINE samples per pixel, centred on each pixel's centre.
    sub = (np.arange(_FINE) - (_FINE - 1) / 2.0) / _FINE
    zi = ((np.arange(-m, m + 1)[:, None] + sub[None, :]).ravel() * axial_mm + depth_mm) * 1e-3
    xi = ((np.arange(-n, n + 1)[:, None] + sub[None, :]).ravel() * lateral_mm) * 1e-3
    xg, zg = np.meshgrid(xi, zi)
    das = pymust.dasmtx(1j * np.array(iq.shape), xg, zg, delays, param)
    iq = iq * _hann_aperture(param, depth_mm, RECEIVE_F_NUMBER)[None, :]
    image = (das @ iq.flatten(order="F")).reshape(xg.shape, order="F")
    # Bring to baseband along depth: remove the carrier estimated at the peak (the beamformed I/Q
    # oscillates at about 2 fc / c along depth), so that pixel-sized averaging keeps the signal.
    r, c = np.unravel_index(int(np.argmax(np.abs(image))), image.shape)
    lo, hi = max(int(r) - 2 * _FINE, 0), min(int(r) + 2 * _FINE, image.shape[0] - 1)
    phase = np.unwrap(np.angle(image[lo : hi + 1, c]))
    k_rad_per_m = (phase[-1] - phase[0]) / (zg[hi, c] - zg[lo, c])
    image = image * np.exp(-1j * k_rad_per_m * (zg - z0))
    kernel = image.reshape(2 * m + 1, _FINE, 2 * n + 1, _FINE).mean(axis=(1, 3))
    peak = kernel[m, n]
    kernel = kernel * (np.conj(peak) / abs(peak))
    kernel /= math.sqrt(float(np.sum(np.abs(kernel) ** 2)))
    return kernel.astype(np.complex64)
