"""The anatomy of a synthetic case, in world millimetres.

A :class:`Scene` is tissue layers stacked from the skin down (each bounded above by a smooth
:class:`Boundary`), an optional pleura below which lies lung, and :class:`Blob` objects (ribs,
bones, vessels, nerves, the target, viscera) drawn over the layers.  The renderer rasterises
exactly these shapes and the ground truth lists exactly these shapes, so the two cannot drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from needleplan.synth.probe import Probe, skin_row_mm

__all__ = ["Boundary", "Layer", "Blob", "Scene", "bow_shape", "ellipse_points", "rounded_box_points"]

#: Depth scale (mm) over which a boundary stops following the curvilinear probe's skin arc.
SKIN_FOLLOW_MM = 25.0


def bow_shape(col_mm: np.ndarray, centre_mm: float, half_width_mm: float) -> np.ndarray:
    """The arch of a bowed fascia: 1 at ``centre_mm``, 0 at ``half_width_mm`` either side of it.

    >>> [round(float(v), 3) for v in bow_shape(np.array([-20.0, 0.0, 10.0]), 0.0, 20.0)]
    [0.0, 1.0, 0.707]
    """
    return np.cos(0.5 * math.pi * (np.asarray(col_mm, dtype=np.float64) - centre_mm) / half_width_mm)


@dataclass(frozen=True, slots=True)
class Boundary:
    """A smooth interface: ``row_mm(col) = depth + slope*col + wobble*sin(2 pi col/period + phase)``,
    plus ``bow * cos(pi/2 (col - bow_centre)/bow_half_width)`` when it arches (:func:`bow_shape`).

    Under a curvilinear probe the boundary also follows the skin arc, fading with depth
    (``exp(-depth/25 mm)``), so shallow layers hug the probe face and deep ones are flat.

    >>> b = Boundary(depth_mm=10.0, slope=0.1)
    >>> [round(float(v), 3) for v in b.row_mm(np.array([-10.0, 0.0, 10.0]))]
    [9.0, 10.0, 11.0]
    """

    depth_mm: float
    slope: float = 0.0
    wobble_mm: float = 0.0
    period_mm: float = 40.0
    phase: float = 0.0
    bow_mm: float = 0.0
    bow_centre_mm: float = 0.0
    bow_half_width_mm: float = 40.0

    def row_mm(self, col_mm: np.ndarray, probe: Probe | None = None) -> np.ndarray:
        """Row (mm) of the boundary at each ``col_mm`` (any shape)."""
        col_mm = np.asarray(col_mm, dtype=np.float64)
        row = (
            self.depth_mm
            + self.slope * col_mm
            + self.wobble_mm * np.sin(2.0 * math.pi * col_mm / self.period_mm + self.phase)
        )
        if self.bow_mm != 0.0:  # a fascia that arches (needleplan.synth.variation); 0 keeps the bytes
            row = row + self.bow_mm * bow_shape(col_mm, self.bow_centre_mm, self.bow_half_width_mm)
        if probe is not None and probe.kind == "curvilinear":
            row = row + skin_row_mm(probe, col_mm) * math.exp(-self.depth_mm / SKIN_FOLLOW_MM)
        return row


@dataclass(frozen=True, slots=True)
class Layer:
    """A tissue layer: from its ``top`` boundary down to the next layer's top (or the pleura).

    ``tissue`` is one of ``dermis``, ``fat``, ``muscle``; ``fibre_deg`` tilts a muscle's
    fibre texture (long-axis pennation).
    """

    label: str
    tissue: str
    top: Boundary
    fibre_deg: float = 0.0
    fascia: float = 1.0  # brightness of the fascia line on the layer's top (relative)


@dataclass(frozen=True, slots=True)
class Blob:
    """A closed structure: a polygon in world mm plus the ellipse it was drawn from.

    ``tissue``: ``target``, ``artery``, ``vein``, ``nerve``, ``bone`` (ribs included),
    ``kidney``.  ``kind`` is the plan structure kind (docs/contracts.md §4).
    """

    label: str
    kind: str
    tissue: str
    points_mm: tuple[tuple[float, float], ...]
    centre_mm: tuple[float, float]
    semi_axes_mm: tuple[float, float]
    pulsatile: bool = False

    def polygon(self) -> np.ndarray:
        """The polygon as an ``(N, 2)`` float array of ``(row_mm, col_mm)``."""
        return np.asarray(self.points_mm, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Scene:
    """Everything the renderer draws and the ground truth lists, for one case."""

    preset: str
    site: str
    probe: Probe
    layers: tuple[Layer, ...]
    blobs: tuple[Blob, ...]
    pleura: Boundary | None
    target: Blob
    approach_side: int = 1  # +1: the needle enters from the image's right (positive col_mm)
    max_needle_mm: float = 89.0
    notes: str = ""
    b_lines_col_mm: tuple[float, ...] = ()  # comet tails from the pleura, at rest (1I B-lines)


def ellipse_points(
    centre_mm: tuple[float, float], semi_axes_mm: tuple[float, float], n: int = 48
) -> tuple[tuple[float, float], ...]:
    """Vertices of an ellipse ``(row, col)``, counter-clockwise, first vertex not repeated.

    >>> pts = ellipse_points((10.0, 0.0), (2.0, 3.0), n=4)
    >>> [(round(r, 3), round(c, 3)) for r, c in pts]
    [(10.0, 3.0), (12.0, 0.0), (10.0, -3.0), (8.0, -0.0)]
    """
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    rows = centre_mm[0] + semi_axes_mm[0] * np.sin(t)
    cols = centre_mm[1] + semi_axes_mm[1] * np.cos(t)
    return tuple((float(r), float(c)) for r, c in zip(rows, cols, strict=True))


def rounded_box_points(
    centre_mm: tuple[float, float], half_mm: tuple[float, float], power: float = 4.0, n: int = 64
) -> tuple[tuple[float, float], ...]:
    """A superellipse (a box with rounded corners), e.g. a transverse process or a bone edge."""
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    s, c = np.sin(t), np.cos(t)
    rows = centre_mm[0] + half_mm[0] * np.sign(s) * np.abs(s) ** (2.0 / power)
    cols = centre_mm[1] + half_mm[1] * np.sign(c) * np.abs(c) ** (2.0 / power)
    return tuple((float(r), float(cc)) for r, cc in zip(rows, cols, strict=True))


def blob(
    label: str,
    kind: str,
    tissue: str,
    centre_mm: tuple[float, float],
    semi_axes_mm: tuple[float, float],
    *,
    box: bool = False,
    pulsatile: bool = False,
) -> Blob:
    """Build a :class:`Blob` from an ellipse (or a rounded box when ``box``)."""
    points = rounded_box_points(centre_mm, semi_axes_mm) if box else ellipse_points(centre_mm, semi_axes_mm)
    return Blob(
        label=label,
        kind=kind,
        tissue=tissue,
        points_mm=points,
        centre_mm=(float(centre_mm[0]), float(centre_mm[1])),
        semi_axes_mm=(float(semi_axes_mm[0]), float(semi_axes_mm[1])),
        pulsatile=pulsatile,
    )
