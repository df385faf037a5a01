"""The overlay layers the session draws into: safety (tick, margins), overshoot (dashed), suggestion.

The painter owns three shapes layers, made on first use and recognised by their metadata, and
rewrites them after each check.  Geometry comes from the core's numbers through
:mod:`needleplan_napari._overlays`; vertices are placed through ``_layers`` (world -> layer data).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from needleplan_napari import _layers, _overlays
from needleplan_napari._overlays import Drawing

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Layer

    from needleplan.plan import Plan
    from needleplan.planner import AngleWindow
    from needleplan.safety.report import AppliedMargin
    from needleplan_napari._state import NeedleNumbers, SessionState

__all__ = ["OverlayPainter", "SAFETY", "OVERSHOOT", "SUGGESTION", "MARGINS"]

SAFETY, OVERSHOOT, SUGGESTION = "needleplan: safety", "needleplan: overshoot", "needleplan: suggestion"
MARGINS = "needleplan: margins"

_MARGIN_COLOUR = {
    "pleura": "#00e5ff30",
    "vessel": "#ff303030",
    "nerve": "#b6ff3d30",
    "viscera": "#ff8c0030",
    "neuraxis": "#ff4fd830",
}
_TICK_OK, _TICK_SHORT = "#39ff14", "#ff9f1a"
_OVERSHOOT_COLOUR, _OVERSHOOT_SAFE = "#ff4040", "#ffb000"
_SUGGEST_COLOUR, _WINDOW_COLOUR = "#ffffff", "#ffffff80"


class OverlayPainter:
    """Writes :class:`~needleplan_napari._overlays.Drawing` lists into the plugin's overlay layers."""

    def __init__(self, viewer: napari.Viewer) -> None:
        self.viewer = viewer
        self._drawn: dict[str, tuple] = {}  # layer name -> (signature, styles) of what it shows

    @staticmethod
    def owns(layer: Layer) -> bool:
        return _layers.role_of_layer(layer) == "overlay"

    def _layer(self, name: str, image: Any, *, create: bool, vectors: bool = False) -> Any:
        for layer in self.viewer.layers:
            if self.owns(layer) and layer.metadata[_layers.META].get("name") == name:
                return layer
        if not create or image is None:
            return None
        kw = _layers.shapes_layer_kwargs("other", image)
        meta = {_layers.META: {"role": "overlay", "name": name}}
        self._drawn.pop(name, None)
        if vectors:  # a vectors layer redraws several times faster than shapes while dragging
            return self.viewer.add_vectors(
                np.zeros((0, 2, image.ndim)),
                ndim=image.ndim,
                scale=kw["scale"],
                units=kw["units"],
                name=name,
                metadata=meta,
                edge_width=0.4,
                length=1.0,
                vector_style="line",
                opacity=1.0,
            )
        kw.update(name=name, metadata=meta, opacity=0.9)
        layer = self.viewer.add_shapes(**kw)
        layer.editable = False
        return layer

    def _write_lines(self, name: str, drawings: list[Drawing], image: Any, frame: int | None) -> None:
        """Show straight-line drawings as vectors (entry point + direction) in layer ``name``."""
        layer = self._layer(name, image, create=bool(drawings), vectors=True)
        if layer is None:
            return
        if not drawings:
            if len(layer.data):
                layer.data = np.zeros((0, 2, layer.ndim))
            self._drawn.pop(name, None)
            return
        vecs = []
        for d in drawings:
            a, b = _layers.to_layer_data(layer, _layers.world_on_frame(d.points_mm, image, frame))
            vecs.append([a, b - a])
        colours = [d.edge_color for d in drawings]
        width = max(d.edge_width_mm for d in drawings)
        layer.data = np.asarray(vecs, float)
        if self._drawn.get(name) != (colours, width):
            layer.edge_color = colours
            layer.edge_width = width
            self._drawn[name] = (colours, width)

    def _write(self, name: str, drawings: list[Drawing], image: Any, frame: int | None) -> None:
        """Show ``drawings`` in the overlay layer ``name``, touching napari as little as possible.

        Unchanged drawings are skipped; the same shapes with new vertices (a dragged needle) are
        one ``data`` assignment; anything else is cleared and added again.
        """
        layer = self._layer(name, image, create=bool(drawings))
        if layer is None:
            return
        styles = [(d.shape_type, d.edge_color, d.face_color, round(d.edge_width_mm, 6)) for d in drawings]
        world = [_layers.world_on_frame(d.points_mm, image, frame) for d in drawings]
        signature = (tuple(styles), tuple(w.round(6).tobytes() for w in world))
        last = self._drawn.get(name)
        if last is not None and last[0] == signature and len(layer.data) == len(drawings):
            return
        data = [_layers.to_layer_data(layer, w) for w in world]
        if not drawings:
            if len(layer.data):
                layer.data = []
        elif last is not None and list(last[1]) == styles and len(layer.data) == len(drawings):
            layer.data = data
        else:
            if len(layer.data):
                layer.data = []
            layer.add(
                data,
                shape_type=[d.shape_type for d in drawings],
                edge_width=[d.edge_width_mm for d in drawings],
                edge_color=[d.edge_color for d in drawings],
                face_color=[d.face_color for d in drawings],
            )
        self._drawn[name] = (signature, styles)

    def paint(self, state: SessionState, image: Image | None) -> None:
        """Redraw the safety and overshoot layers for a session state."""
        active = self.viewer.layers.selection.active
        plan = state.plan
        safety: list[Drawing] = []
        dashes: list[Drawing] = []
        margins: list[Drawing] = []
        frame = None if plan is None else plan.image.frame_index
        numbers = state.needle_numbers
        if plan is not None and numbers is not None:
            margins = _margin_bands(plan, state.applied_margins)
            tick, dashes = _needle_drawings(plan, numbers)
            if tick is not None:
                safety.append(tick)
        self._write(MARGINS, margins, image, frame)
        self._write_lines(SAFETY, safety, image, frame)
        self._write_lines(OVERSHOOT, dashes, image, frame)
        if active is not None and active in self.viewer.layers:
            self.viewer.layers.selection.active = active

    def paint_suggestion(self, suggestion: Plan | None, window: AngleWindow | None, image: Image | None) -> None:
        """Draw the suggested trajectory and the safe angle window (or clear them)."""
        drawings: list[Drawing] = []
        frame = None
        if suggestion is not None and suggestion.needle is not None:
            n = suggestion.needle
            frame = suggestion.image.frame_index
            drawings.extend(_overlays.dashed(n.entry_mm, n.target_mm, _SUGGEST_COLOUR, 12))
            drawings.extend(_overlays.angle_rays(n.target_mm, _window_entries(window), _WINDOW_COLOUR))
        active = self.viewer.layers.selection.active
        self._write(SUGGESTION, drawings, image, frame)
        if active is not None and active in self.viewer.layers:
            self.viewer.layers.selection.active = active


def _margin_bands(plan: Plan, margins: Iterable[AppliedMargin]) -> list[Drawing]:
    """A band around each hazard as wide as the margin the check applied to it (nothing recomputed).

    ``margins`` are :attr:`SessionState.applied_margins`: e.g. 10 mm for a pleura marked on another
    frame where the same pleura on the checked frame gets 5 mm.
    """
    out = []
    for m in sorted(margins, key=lambda m: m.structure_index):
        s = plan.structures[m.structure_index]
        if m.margin_mm > 0 and m.family in _MARGIN_COLOUR:
            out.append(_overlays.margin_band(s.points_mm, s.closed, m.margin_mm, _MARGIN_COLOUR[m.family]))
    return out


def _needle_drawings(plan: Plan, numbers: NeedleNumbers) -> tuple[Drawing | None, list[Drawing]]:
    """The deepest-safe-insertion tick and the dashed overshoot, from the check's numbers."""
    n = plan.needle
    tick = None
    if numbers.max_safe_insertion_mm is not None and numbers.remaining_mm is not None:
        # remaining_mm = deepest safe insertion - path to the tip, both from the skin crossing
        colour = _TICK_OK if numbers.remaining_mm >= 0 else _TICK_SHORT
        tick = _overlays.tick(n.entry_mm, n.target_mm, numbers.remaining_mm, colour)
    dashes: list[Drawing] = []
    reach = numbers.overshoot_reach_mm
    if reach is not None and reach > 0:
        end = _overlays.along(n.entry_mm, n.target_mm, reach)
        hazard = numbers.overshoot_first_hit in ("pleura", "viscera", "neuraxis")
        colour = _OVERSHOOT_COLOUR if hazard else _OVERSHOOT_SAFE
        dashes = _overlays.dashed(n.target_mm, end, colour)
    return tick, dashes


def _window_entries(window: AngleWindow | None) -> list[tuple[float, float]]:
    """Entry points bounding each safe interval of the angle window."""
    if window is None:
        return []
    out = []
    for iv in window.intervals:
        out.extend([iv.entry_from_mm, iv.entry_to_mm])
    return out
