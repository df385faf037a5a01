"""Artery or vein: pulsation of a vessel's lumen area over a cine.

Clinical cue (docs/clinical-rules.md 1I, Artery row): an artery is "pulsatile" ("use pulsatility"
rather than compressibility to tell it from a vein, Artery row caveat); a vein has "phasic"
(breathing-paced) flow and is compressible (Vein row).  The lumen's area is measured in every frame
(a soft count of lumen-dark pixels in an ellipse around it); after removing a slow linear trend
(breathing, probe drift), a relative swing above :data:`PULSE_MIN` means artery, provided that, on
a cine long enough to tell, most of the swing is at a cardiac rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from needleplan.detect._frame import FrameView
from needleplan.detect.vessels import VesselBlob

__all__ = ["PulseResult", "PulseTracker", "PULSE_MIN", "CARDIAC_HZ"]

#: Relative peak-to-peak change of lumen area (5th to 95th percentile over the median) that counts
#: as pulsation [inference, tuned on the phantom: speckle alone moves the measured area by a few %].
PULSE_MIN = 0.08
#: Heart rates, Hz (36-180 beats per minute) [inference: the adult resting to exercise range].
CARDIAC_HZ = (0.6, 3.0)


@dataclass(frozen=True, slots=True)
class PulseResult:
    """Pulsation measured for one vessel."""

    artery: bool
    swing: float  # (p95 - p5) / median of the detrended area
    rate_hz: float | None  # dominant frequency, when the cine is long enough to tell
    cardiac_fraction: float | None  # share of the area signal's power at cardiac rates
    frames: int

    def evidence(self) -> str:
        """One line for the vessel's evidence."""
        rate = f" at {60 * self.rate_hz:.0f}/min" if self.rate_hz else ""
        if self.artery:
            return f"pulsatile (lumen area swings {100 * self.swing:.0f}%{rate})"
        return f"not pulsatile (lumen area swings {100 * self.swing:.0f}%)"

    @property
    def confidence(self) -> float:
        """How clearly the swing is above or below the threshold (0.5 at the threshold)."""
        x = self.swing / PULSE_MIN
        return float(np.clip(0.5 + 0.5 * np.tanh(1.5 * (x - 1.0) if self.artery else 1.5 * (1.0 - x)), 0, 1))


class PulseTracker:
    """Measure one vessel's lumen area frame by frame (``add``), then ``result(frame_time_ms)``.

    The area is a soft count inside an ellipse 1.4 times the lumen's: each pixel counts from 0 (at
    the wall's grey level) to 1 (at the lumen's), so a sub-pixel change of the lumen's edge changes
    the area smoothly, whatever the pixel size.
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
        self._areas: list[float] = []

    def add(self, img: np.ndarray) -> None:
        """Add the next working frame."""
        patch = ndi.gaussian_filter(img[self._r0 : self._r1, self._c0 : self._c1], self._sigma, mode="nearest")
        w = np.clip((self._wall - patch[self._mask]) / self._span, 0.0, 1.0)
        self._areas.append(float(w.sum()))

    def result(self, frame_time_ms: float | None) -> PulseResult | None:
        """The verdict, or None with fewer than 4 frames or a lumen lost in most frames."""
        a = np.asarray(self._areas, dtype=float)
        if a.size < 4 or np.mean(a > 0) < 0.8:
            return None
        t = np.arange(a.size, dtype=float)
        trend = np.polyval(np.polyfit(t, a, 1), t)
        med = float(np.median(a))
        resid = a - trend
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
        artery = swing >= PULSE_MIN and (frac is None or frac >= 0.4)
        return PulseResult(artery, swing, rate, frac, int(a.size))
