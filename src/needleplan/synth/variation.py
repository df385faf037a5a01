"""Departures from a site preset's anatomy that real scans show: probe pressure, curving fascia,
B-lines.

A preset draws flat, parallel layers under a probe that only touches the skin.  A real scan is
made with the probe pressed in (the subcutaneous fat thins, and everything below comes closer to
the probe: clinical-rules 1A López-Castellanos 2022, open question 3), its fasciae arch over
muscle bellies instead of running parallel to the skin, and an aerated lung may throw B-lines
(vertical comet tails from the pleural line that move with lung sliding: clinical-rules 1I
B-lines).  :class:`Variation` asks for them; :func:`apply_variation` changes the
:class:`~needleplan.synth.scene.Scene` accordingly, so the ground truth (made from the scene)
follows the image.  ``Variation()`` changes nothing: the preset's case, bit for bit.

Its random draws come from their own generator, so a case with a variation keeps the speckle and
textures of the same seed without it: the two differ only in what was asked for.

Worked example (pressure): a fat layer from 1.5 mm to 9.5 mm (8 mm thick) pressed by 25 % is
2 mm thinner, so every deeper layer, the pleura and every structure move 2 mm up.

>>> from needleplan.synth.scene import Boundary, Layer, Scene, blob
>>> from needleplan.synth.probe import LINEAR
>>> t = blob("taut band", "target", "target", (14.0, 0.0), (1.7, 3.0))
>>> layers = (Layer("skin", "dermis", Boundary(0.0)), Layer("fat", "fat", Boundary(1.5)),
...           Layer("muscle", "muscle", Boundary(9.5)))
>>> scene = Scene("p", "s", LINEAR, layers, (t,), Boundary(20.0), t)
>>> pressed = apply_variation(scene, Variation(pressure=0.25), np.random.default_rng(0))
>>> pressed.layers[2].top.depth_mm, pressed.pleura.depth_mm, pressed.target.centre_mm
(7.5, 18.0, (12.0, 0.0))
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from needleplan.errors import UnknownPresetError
from needleplan.synth.scene import Blob, Boundary, Layer, Scene, bow_shape

__all__ = ["Variation", "apply_variation", "MAX_PRESSURE", "MAX_FASCIA_BOW_MM", "MAX_B_LINES"]

#: At most this fraction of the subcutaneous fat is squeezed out by the probe [inference: fat is
#: the most compressible layer; clinical-rules 1A López-Castellanos 2022 measured depths changing
#: with compression but gives no fraction].
MAX_PRESSURE = 0.6
#: The deepest fascia bows at most this far from flat [inference: a muscle belly's arch across a
#: 40-60 mm footprint].
MAX_FASCIA_BOW_MM = 6.0
#: At most this many B-lines in one view (clinical-rules 1I B-lines; three or more in one
#: intercostal space is already significant).
MAX_B_LINES = 8
#: Depth scale (mm) of the bow: a boundary at depth ``d`` bows by ``bow * d / (d + 10)``, so the
#: skin stays flat and deeper fasciae arch more; the layers can never cross (the derivative of
#: the bow with depth stays below 1 for any bow under 10 mm).
BOW_DEPTH_SCALE_MM = 10.0
#: Neighbouring boundaries' bows differ by at most this fraction of the gap between them; both
#: follow the same arch (at most 1), so a thin layer keeps at least 1 - 0.3 = 70 % of its thickness.
BOW_GAP_FRACTION = 0.3
#: B-lines keep this far (mm) from a rib's edge: a rib's shadow hides the pleural line they start at.
B_LINE_RIB_CLEARANCE_MM = 1.5


@dataclass(frozen=True, slots=True)
class Variation:
    """What to change in a preset's anatomy; the default changes nothing.

    ``pressure``: fraction (0 to :data:`MAX_PRESSURE`) of the subcutaneous fat's thickness the
    probe squeezes out.  ``fascia_bow_mm``: how far (0 to :data:`MAX_FASCIA_BOW_MM`) the deep
    fasciae and the pleura arch, each by its own amount, towards or away from the probe.
    ``b_lines``: number of B-lines (0 to :data:`MAX_B_LINES`; only where a pleura is seen).
    """

    pressure: float = 0.0
    fascia_bow_mm: float = 0.0
    b_lines: int = 0

    def __post_init__(self) -> None:
        for name, value, top in (
            ("pressure", self.pressure, MAX_PRESSURE),
            ("fascia bow", self.fascia_bow_mm, MAX_FASCIA_BOW_MM),
        ):
            if not (math.isfinite(value) and 0.0 <= value <= top):
                raise UnknownPresetError(f"{name} must be between 0 and {top}, got {value}")
        if not 0 <= self.b_lines <= MAX_B_LINES:
            raise UnknownPresetError(f"B-lines must be between 0 and {MAX_B_LINES}, got {self.b_lines}")

    @property
    def is_none(self) -> bool:
        """True when nothing is changed."""
        return self.pressure == 0.0 and self.fascia_bow_mm == 0.0 and self.b_lines == 0

    def as_dict(self) -> dict[str, object]:
        """The fields that change something, for the ground truth's ``synth`` record."""
        out: dict[str, object] = {}
        if self.pressure:
            out["pressure"] = self.pressure
        if self.fascia_bow_mm:
            out["fascia_bow_mm"] = self.fascia_bow_mm
        if self.b_lines:
            out["b_lines"] = self.b_lines
        return out


def apply_variation(scene: Scene, variation: Variation, rng: np.random.Generator) -> Scene:
    """``scene`` pressed, bowed and given B-lines as ``variation`` asks (the same scene if not)."""
    if variation.is_none:
        return scene
    if variation.pressure:
        scene = _press(scene, variation.pressure)
    if variation.fascia_bow_mm:
        scene = _bow(scene, variation.fascia_bow_mm, rng)
    if variation.b_lines and scene.pleura is not None:
        scene = dataclasses.replace(scene, b_lines_col_mm=_b_line_columns(scene, variation.b_lines, rng))
    return scene


def _moved(blob: Blob, drow_mm: float) -> Blob:
    """``blob`` moved ``drow_mm`` deeper (negative: towards the probe)."""
    points = tuple((r + drow_mm, c) for r, c in blob.points_mm)
    centre = (blob.centre_mm[0] + drow_mm, blob.centre_mm[1])
    return dataclasses.replace(blob, points_mm=points, centre_mm=centre)


def _with_blobs(scene: Scene, move: dict[int, Blob], layers: tuple[Layer, ...], pleura: Boundary | None) -> Scene:
    """``scene`` with new layers and pleura, and each blob replaced by ``move[id(blob)]`` (the
    target too)."""
    blobs = tuple(move[id(b)] for b in scene.blobs)
    return dataclasses.replace(scene, blobs=blobs, target=move[id(scene.target)], layers=layers, pleura=pleura)


def _press(scene: Scene, fraction: float) -> Scene:
    """The subcutaneous fat thinned by ``fraction``; everything below it moved up by as much."""
    fat = next((i for i, layer in enumerate(scene.layers) if layer.tissue == "fat"), None)
    if fat is None or fat + 1 >= len(scene.layers):
        return scene
    shift = fraction * (scene.layers[fat + 1].top.depth_mm - scene.layers[fat].top.depth_mm)
    layers = tuple(
        layer if i <= fat else dataclasses.replace(layer, top=_deepened(layer.top, -shift))
        for i, layer in enumerate(scene.layers)
    )
    pleura = _deepened(scene.pleura, -shift) if scene.pleura is not None else None
    move = {id(b): _moved(b, -shift) for b in (*scene.blobs, scene.target)}
    return _with_blobs(scene, move, layers=layers, pleura=pleura)


def _deepened(boundary: Boundary, drow_mm: float) -> Boundary:
    return dataclasses.replace(boundary, depth_mm=boundary.depth_mm + drow_mm)


def _bow(scene: Scene, bow_mm: float, rng: np.random.Generator) -> Scene:
    """Every boundary below the skin (and the pleura) arched by its own amount; structures moved
    with the arch at their centre, so they keep their place between the fasciae."""
    half = 0.5 * scene.probe.footprint_mm
    centre = float(rng.uniform(-0.5 * half, 0.5 * half))
    half_width = float(rng.uniform(1.2, 2.0)) * half
    sign = 1.0 if rng.random() < 0.5 else -1.0
    tops = [layer.top for layer in scene.layers[1:]] + ([scene.pleura] if scene.pleura is not None else [])
    depths = [b.depth_mm for b in tops]
    amounts: list[float] = []
    for i, depth in enumerate(depths):
        want = sign * bow_mm * float(rng.uniform(0.6, 1.0)) * depth / (depth + BOW_DEPTH_SCALE_MM)
        if i:  # keep neighbours from closing the layer between them
            gap = BOW_GAP_FRACTION * max(depth - depths[i - 1], 0.0)
            want = float(np.clip(want, amounts[-1] - gap, amounts[-1] + gap))
        amounts.append(want)
    bowed = [
        dataclasses.replace(b, bow_mm=a, bow_centre_mm=centre, bow_half_width_mm=half_width)
        for b, a in zip(tops, amounts, strict=True)
    ]
    layers: tuple[Layer, ...] = (scene.layers[0],) + tuple(
        dataclasses.replace(layer, top=top) for layer, top in zip(scene.layers[1:], bowed, strict=False)
    )
    pleura = bowed[-1] if scene.pleura is not None else None
    order = np.argsort(depths)
    xs, ys = np.asarray(depths)[order], np.asarray(amounts)[order]

    def lift(b: Blob) -> Blob:
        arch = float(bow_shape(np.array([b.centre_mm[1]]), centre, half_width)[0])
        return _moved(b, float(np.interp(b.centre_mm[0], xs, ys)) * arch)

    move = {id(b): lift(b) for b in (*scene.blobs, scene.target)}
    return _with_blobs(scene, move, layers=layers, pleura=pleura)


def _b_line_columns(scene: Scene, n: int, rng: np.random.Generator) -> tuple[float, ...]:
    """``n`` columns (mm) across the footprint, clear of the ribs, at least 3 mm apart where room
    allows."""
    half = 0.5 * scene.probe.footprint_mm - 2.0
    ribs = [b for b in scene.blobs if b.kind == "rib"]
    cols: list[float] = []
    for _ in range(200 * n):
        if len(cols) == n:
            break
        c = float(rng.uniform(-half, half))
        if any(abs(c - r.centre_mm[1]) < r.semi_axes_mm[1] + B_LINE_RIB_CLEARANCE_MM for r in ribs):
            continue
        if any(abs(c - o) < 3.0 for o in cols):
            continue
        cols.append(c)
    return tuple(sorted(cols))
