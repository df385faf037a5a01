"""The calibration ruler: a line the user draws between two depth-ruler ticks (Qt-free).

The ruler lives in its own shapes layer (role ``calibration``); applying it hands the line's two
ends and their known distance to :meth:`~needleplan_napari._plan_io.PlanFiles.two_point_calibration`
and removes the layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from needleplan_napari import _layers

if TYPE_CHECKING:
    from napari.layers import Shapes

    from needleplan.calibration import Calibration
    from needleplan_napari._session import PlanSession

__all__ = ["Ruler"]

_RULER_COLOUR = "#ff00ff"


class Ruler:
    """Draw a ruler line on the open image, then calibrate from it."""

    def __init__(self, session: PlanSession) -> None:
        self.session = session

    def layer(self) -> Shapes | None:
        """The ruler's shapes layer, if one is open."""
        for layer in self.session.viewer.layers:
            if _layers.role_of_layer(layer) == "calibration":
                return layer
        return None

    def has_line(self) -> bool:
        """Whether a ruler line has been drawn."""
        ruler = self.layer()
        return ruler is not None and len(ruler.data) > 0

    def start(self) -> Shapes | None:
        """Select the ruler layer (made on first use) in line mode; None without an image."""
        image = self.session.image_layer()
        if image is None:
            return None
        ruler = self.layer()
        if ruler is None:
            kw = _layers.shapes_layer_kwargs("needle", image)
            kw.update(
                name="calibration ruler",
                edge_color=_RULER_COLOUR,
                metadata={_layers.META: {"role": "calibration", "kind": "ruler"}},
            )
            ruler = self.session.viewer.add_shapes(**kw)
        self.session.viewer.layers.selection.active = ruler
        ruler.mode = "add_line"
        return ruler

    def apply(self, distance_mm: float) -> Calibration | None:
        """Calibrate from the last line drawn (``distance_mm`` apart) and remove the ruler.

        None when no line was drawn yet.  Raises what the core's manual calibration raises.
        """
        ruler = self.layer()
        if ruler is None or not self.has_line():
            return None
        w = _layers.world_vertices(ruler, len(ruler.data) - 1)
        cal = self.session.files.two_point_calibration(w[0], w[-1], distance_mm)
        self.session.viewer.layers.remove(ruler)
        return cal
