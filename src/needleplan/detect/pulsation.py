"""Artery or vein: pulsation of a vessel's lumen area over a cine.

Clinical cue (docs/clinical-rules.md 1I, Artery row): an artery is "pulsatile" ("use pulsatility"
rather than compressibility to tell it from a vein, Artery row caveat); a vein has "phasic"
(breathing-paced) flow and is compressible (Vein row).  The lumen's area is measured in every frame
(a soft count of lumen-dark pixels in an ellipse around it); after removing a slow linear trend
(breathing, probe drift), a relative swing above :data:`PULSE_MIN` means artery, provided that

* the swing is beyond what the image noise makes: the same count is kept apart on two halves of
  the ellipse, alternate angular sectors around the lumen's centre.  A pulse widens the lumen in
  both halves alike, so the halves' difference only carries the noise; the area's variance must be
  at least :data:`NOISE_VARIANCE_RATIO` times the difference's (:attr:`PulseResult.noise_ratio`);
* on a cine long enough to tell, most of the swing is at a cardiac rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from needleplan.detect._frame import FrameView
from needleplan.detect.vessels import VesselBlob

__all__ = ["PulseResult", "PulseTracker", "PULSE_MIN", "CARDIAC_HZ", "NOISE_VARIANCE_RATIO", "NOISE_SECTORS"]

#: Relative peak-to-peak change of lumen area (5th to 95th percentile over the median) that counts
#: as pulsation [inference, tuned on the phantom: speckle alone moves the measured area by a few %].
PULSE_MIN = 0.08
#: Heart rates, Hz (36-180 beats per minute) [inference: the adult resting to exercise range].
CARDIAC_HZ = (0.6, 3.0)
#: A pulse's area variance over the noise's: the detrended area's variance over that of the two
#: halves' difference.  Noise alone gives about 1 (an F ratio with 22 and 22 degrees of freedom on
#: 24 frames).  Measured on development seeds 100-102 (physical phantom, gain 75 % + noise 12, 24
#: frames): deep still vessels 0.95-1.94, deep pulsating arteries 3.0-12 (shallow ones 9-110).  Set
#: nearer the still vessels than the middle of that gap (2.4) because calling an artery a vein
#: hides a hazard.  Noise correlated from pixel to pixel (speckle that decorrelates, clutter) is
#: partly missed by the halves: it raises the ratio, so it errs toward "artery" [inference].
NOISE_VARIANCE_RATIO = 2.2
#: The ellipse is cut into this many equal angular sectors around the lumen's centre; alternate
#: sectors make the two halves, and a second cut turned by half a sector gives a second estimate
#: (the two are averaged).  Opposite sectors share a half, so each half holds the same share of a
#: round lumen's wall and a pulse, which widens the lumen all round, cancels in the difference.
#: Measured on development seeds 100-102: with 8 sectors (or a 1 mm checkerboard, tried first) the
#: smoothing made neighbouring sectors' noise alike near their borders and the noise was
#: underestimated for the small deep vessels (still vessels up to 3.3); quarters keep the borders
#: short against the area.  An oval lumen's long axis may fall in one half for one of the two
#: cuts: some of the pulse then counts as noise, lowering the ratio (arteries are round,
#: docs/clinical-rules.md 1I; an oval vein is the case it leans toward) [inference].
NOISE_SECTORS = 4
#: Highest confidence of a "type not confirmed" call, whose swing the noise explains: it shows only
#: that no pulse larger than the noise is there, which settles neither artery nor vein [inference].
NOISE_LIKE_MAX_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class PulseResult:
    """Pulsation measured for one vessel."""

    artery: bool
    swing: float  # (p95 - p5) / median of the detrended area
    rate_hz: float | None  # dominant frequency, when the cine is long enough to tell
    cardiac_fraction: float | None  # share of the area signal's power at cardiac rates
    frames: int
    noise_ratio: float = float("inf")  # area variance / variance the image noise explains

    @property
    def noise_like(self) -> bool:
        """True if the swing is large but no larger than the image noise makes it."""
        return self.swing >= PULSE_MIN and self.noise_ratio < NOISE_VARIANCE_RATIO

    def evidence(self) -> str:
        """One line for the vessel's evidence."""
        rate = f" at {60 * self.rate_hz:.0f}/min" if self.rate_hz else ""
        if self.artery:
            return f"pulsatile (lumen area swings {100 * self.swing:.0f}%{rate}, beyond the image noise)"
        if self.noise_like:
            return (
                f"type not confirmed (lumen area swings {100 * self.swing:.0f}%, no more than image noise "
                "makes it: could be a weak pulse; check with Doppler)"
            )
        return f"not pulsatile (lumen area swings {100 * self.swing:.0f}%)"

    @property
    def confidence(self) -> float:
        """How clearly the swing (and its excess over the noise) is above or below the threshold
        (0.5 at the threshold)."""
        x = self.swing / PULSE_MIN
        if self.artery:
            margin = min(x, self.noise_ratio / NOISE_VARIANCE_RATIO) - 1.0
        elif self.noise_like:
            margin = 1.0 - self.noise_ratio / NOISE_VARIANCE_RATIO
            return float(np.clip(0.5 + 0.5 * np.tanh(1.5 * margin), 0, NOISE_LIKE_MAX_CONFIDENCE))
        else:
            margin = 1.0 - x
        return float(np.clip(0.5 + 0.5 * np.tanh(1.5 * margin), 0, 1))


class PulseTracker:
    """Measure one vessel's lumen area frame by frame (``add``), then ``result(frame_time_ms)``.

    The area is a soft count inside an ellipse 1.4 times the lumen's: each pixel counts from 0 (at
    the wall's grey level) to 1 (at the lumen's), so a sub-pixel change of the lumen's edge changes
    the area smoothly, whatever the pixel size.  The count is also kept apart on two halves,
    alternate sectors of :data:`NOISE_SECTORS` (and of the same turned by half a sector): their
    difference measures the noise.
    """

    def __init__(self, view: FrameView, blob: VesselBlob) -> None:
        a, b = blob.axes
        pad = 1.6 * a + view.mm_to_work(1.0, 0)
        rows, cols = view.image.shape
        cy, cx = blob.centre
        self._r0, self._r1 = int(max(cy - pad, 0)), int(min(cy + pad + 1, rows))
        self._c0, self._c1 = int(max(cx - pad, 0)), int(min(cx + pad + 1, cols))
        rr, cc = np.mgrid[self._r0 : self._r1, self._c0 : self._c1].astype(float)
        dr, dc = rr - cy, cc - cx
        o = blob.orientation
        u = dr * np.cos(o) + dc * np.sin(o)
        v = -dr * np.sin(o) + dc * np.cos(o)
        self._mask = (u / (1.4 * max(a, 0.5))) ** 2 + (v / (1.4 * max(b, 0.5))) ** 2 <= 1.0
        self._sigma = max(view.mm_to_work(0.15, 0), 0.5)
        self._wall = blob.wall_level
        self._span = max(blob.wall_level - blob.lumen_level, 1e-3)
        sector = np.arctan2(dr, dc)[self._mask] * (NOISE_SECTORS / (2 * np.pi))
        self._halves = [np.floor(sector + turn).astype(int) % 2 == 0 for turn in (0.0, 0.5)]
        self._areas: list[float] = []
        self._halves_diff: list[list[float]] = [[] for _ in self._halves]

    def add(self, img: np.ndarray) -> None:
        """Add the next working frame."""
        patch = ndi.gaussian_filter(img[self._r0 : self._r1, self._c0 : self._c1], self._sigma, mode="nearest")
        w = np.clip((self._wall - patch[self._mask]) / self._span, 0.0, 1.0)
        self._areas.append(float(w.sum()))
        for half, diff in zip(self._halves, self._halves_diff, strict=True):
            diff.append(2.0 * float(w[half].sum()) - self._areas[-1])

    def result(self, frame_time_ms: float | None) -> PulseResult | None:
        """The verdict, or None with fewer than 4 frames or a lumen lost in most frames."""
        a = np.asarray(self._areas, dtype=float)
        if a.size < 4 or np.mean(a > 0) < 0.8:
            return None
        med = float(np.median(a))
        resid = _detrended(a)
        noise_var = float(np.mean([np.var(_detrended(np.asarray(d, dtype=float))) for d in self._halves_diff]))
        noise_ratio = float(np.var(resid)) / noise_var if noise_var > 0 else float("inf")
        swing = float((np.percentile(resid, 95) - np.percentile(resid, 5)) / max(med, 1e-6))
        rate = frac = None
        if frame_time_ms and frame_time_ms > 0:
            fs = 1000.0 / frame_time_ms
            if a.size / fs >= 2.0 / CARDIAC_HZ[0]:  # two cycles of the slowest heart rate
                spec = np.abs(np.fft.rfft(resid * np.hanning(a.size))) ** 2
                freqs = np.fft.rfftfreq(a.size, d=1.0 / fs)
                band = (freqs >= CARDIAC_HZ[0]) & (freqs <= CARDIAC_HZ[1])
                total = float(spec[1:].sum())
                if total > 0 and band.any():
                    frac = float(spec[band].sum() / total)
                    rate = float(freqs[1:][np.argmax(spec[1:])])
        artery = swing >= PULSE_MIN and noise_ratio >= NOISE_VARIANCE_RATIO and (frac is None or frac >= 0.4)
        return PulseResult(artery, swing, rate, frac, int(a.size), noise_ratio)


def _detrended(x: np.ndarray) -> np.ndarray:
    """``x`` less its least-squares straight line (breathing, probe drift)."""
    t = np.arange(x.size, dtype=float)
    return x - np.polyval(np.polyfit(t, x, 1), t)
