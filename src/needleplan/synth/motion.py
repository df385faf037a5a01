"""Cine motion: breathing (pleura depth and lung sliding) and arterial pulsation.

Frame 0 is at time 0 where every motion is at its rest value, so the ground truth (which binds
frame 0) is the scene exactly as built.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Motion", "DEFAULT_MOTION"]


@dataclass(frozen=True, slots=True)
class Motion:
    """Timing and amplitudes of the cine motion.

    - ``frame_time_ms``: 50 ms (20 frames/s) samples a 72/min pulse about 17 times per beat and a
      breath 80 times [inference: a typical MSK cine rate].
    - ``breaths_per_min`` 15, ``heart_rate_bpm`` 72 [inference: resting adult].
    - ``pleura_shift_mm`` 1.5 (3 mm peak to peak): breathing moves the pleura "usually <1 mm,
      sometimes >4.5 mm" (clinical-rules 1G Chu 2018); 3 mm is a visible middle value.
    - ``sliding_mm`` 2.5: lung sliding amplitude along the pleura [inference].
    - ``pulse_fraction`` 0.07: arterial diameter change over a beat [inference].

    >>> m = Motion()
    >>> m.pleura_shift(0.0), m.sliding(0.0), m.artery_scale(0.0)
    (0.0, 0.0, 1.0)
    >>> round(m.pleura_shift(1.0), 3)  # a quarter breath (4 s cycle): full shift
    1.5
    """

    frame_time_ms: float = 50.0
    breaths_per_min: float = 15.0
    heart_rate_bpm: float = 72.0
    pleura_shift_mm: float = 1.5
    sliding_mm: float = 2.5
    pulse_fraction: float = 0.07
    systole_fraction: float = 0.4

    def time_s(self, frame_index: int) -> float:
        """Time of a frame in seconds (frame 0 at 0)."""
        return frame_index * self.frame_time_ms / 1000.0

    def pleura_shift(self, t_s: float) -> float:
        """Downward displacement (mm) of the pleura and the lung at time ``t_s``."""
        return self.pleura_shift_mm * math.sin(2.0 * math.pi * t_s * self.breaths_per_min / 60.0)

    def sliding(self, t_s: float) -> float:
        """Horizontal displacement (mm) of the lung texture under the pleura (lung sliding)."""
        return self.sliding_mm * math.sin(2.0 * math.pi * t_s * self.breaths_per_min / 60.0)

    def artery_scale(self, t_s: float) -> float:
        """Artery radius relative to diastole: a systolic bump each beat, 1.0 in diastole."""
        phase = (t_s * self.heart_rate_bpm / 60.0) % 1.0
        if phase >= self.systole_fraction:
            return 1.0
        return 1.0 + self.pulse_fraction * math.sin(math.pi * phase / self.systole_fraction) ** 2

    def table(self, frames: int) -> dict[str, list[float]]:
        """Per-frame motion, for the ground truth: times, pleura shift, sliding, artery scale."""
        t = [self.time_s(i) for i in range(frames)]
        return {
            "time_ms": [round(v * 1000.0, 3) for v in t],
            "pleura_shift_mm": [round(self.pleura_shift(v), 4) for v in t],
            "lung_sliding_mm": [round(self.sliding(v), 4) for v in t],
            "artery_scale": [round(self.artery_scale(v), 5) for v in t],
        }


DEFAULT_MOTION = Motion()
