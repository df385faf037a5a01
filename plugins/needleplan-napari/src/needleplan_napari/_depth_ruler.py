"""The depth ruler on the canvas and the first view of an image (Qt-free).

As on an ultrasound screen, millimetre ticks run down the left edge of the calibrated region, on
the image, a longer labelled tick every centimetre (:func:`needleplan.viewing.depth_ruler_ticks`); depth is the
world row in mm, 0 at the calibration's reference row.  The ruler lives in its own shapes layer
(role ``overlay``, never part of the plan) that cannot be edited.  An uncalibrated image gets no
ruler: it has no millimetres.

The first view (:func:`show_home`) is what napari's Home button shows, with the image selected and
every mark layer in pan-and-zoom mode, so a stray click on the canvas moves nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from needleplan_napari import _layers

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Shapes

__all__ = ["RULER_NAME", "ruler_drawing", "show_depth_ruler", "show_home"]

RULER_NAME = "depth ruler (mm)"
_COLOUR = "#ffffff"
_MAJOR_MM, _MINOR_MM = 2.0, 1.0  # tick lengths, inward from the region's left edge
_LABEL_MM = 3.5  # label centre right of a major tick's centre (on the image: Home frames the image)


def _shape_px(image: Image) -> tuple[int, int]:
    shape = image.data.shape[:-1] if image.rgb else image.data.shape
    return int(shape[-2]), int(shape[-1])


def ruler_drawing(image: Image) -> tuple[list[np.ndarray], list[str]] | None:
    """Tick lines (world mm ``(row, col)`` pairs) and their labels for a calibrated image layer.

    Returns None for an uncalibrated image.  Each tick is horizontal at its depth, from the
    calibrated region's left edge into the image; major ticks are ``_MAJOR_MM`` long and labelled,
    minor ticks ``_MINOR_MM`` long with an empty label.

    Examples
    --------
    See ``tests/test_depth_ruler.py``: on the thin trapezius sample (0.1 mm pixels, region box
    rows 20..380, cols 24..524, reference pixel (20, 274)) the ticks run from 0 to 36 mm and
    the left edge is at (24 - 0.5 - 274) * 0.1 = -25.05 mm.
    """
    from needleplan.viewing import depth_ruler_ticks, home_box_mm

    cal = _layers.image_calibration(image)
    if cal is None or not cal.is_calibrated:
        return None
    top, left, bottom, _ = home_box_mm(cal, _shape_px(image))
    lines, labels = [], []
    for t in depth_ruler_ticks(top, bottom):
        length = _MAJOR_MM if t.major else _MINOR_MM
        lines.append(np.array([[t.depth_mm, left], [t.depth_mm, left + length]]))
        labels.append(t.label or "")
    return lines, labels


def _ruler_layer(viewer: napari.Viewer) -> Shapes | None:
    for layer in viewer.layers:
        if _layers.role_of_layer(layer) == "overlay" and layer.metadata[_layers.META].get("name") == RULER_NAME:
            return layer
    return None


def show_depth_ruler(viewer: napari.Viewer, image: Image | None) -> Shapes | None:
    """Draw (or redraw) the depth ruler of ``image``; remove it when the image has no millimetres."""
    old = _ruler_layer(viewer)
    if old is not None:
        viewer.layers.remove(old)
    drawing = None if image is None else ruler_drawing(image)
    if drawing is None:
        return None
    lines, labels = drawing
    units = tuple(str(u) for u in image.units[-2:])
    layer = viewer.add_shapes(
        lines,
        shape_type="line",
        ndim=2,
        units=units,
        name=RULER_NAME,
        edge_color=_COLOUR,
        edge_width=0.15,
        features={"label": labels},
        text={"string": "{label}", "color": _COLOUR, "size": 9, "anchor": "center", "translation": [0.0, _LABEL_MM]},
        metadata={_layers.META: {"role": "overlay", "name": RULER_NAME}},
    )
    layer.editable = False
    return layer


def show_home(viewer: napari.Viewer, image: Image | None) -> None:
    """The first view: the depth ruler, the image selected, marks in pan-and-zoom mode, then Home."""
    show_depth_ruler(viewer, image)
    for layer in viewer.layers:
        if _layers.role_of_layer(layer) in ("structure", "needle", "overlay") and hasattr(layer, "mode"):
            layer.mode = "pan_zoom"
    if image is not None:
        viewer.layers.selection.active = image
    viewer.reset_view()
