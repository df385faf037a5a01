"""A teaching case on the viewer (Qt-free): the score in a teacher's words, the expert's reference layer.

The Teaching dock (``_qt/_teaching.py``) shows these; the score itself is the core's
(:class:`needleplan.training.CaseAttempt`).  No geometry here: the numbers are only formatted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from needleplan_napari import _layers

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Shapes

    from needleplan.plan import Plan
    from needleplan.training import Score

__all__ = ["score_lines", "draw_reference", "reference_layer", "clear_case", "REFERENCE_NAME", "REFERENCE_COLOUR"]

REFERENCE_NAME = "expert reference (read-only)"
#: One colour for everything the expert drew, unlike any kind colour (_styles.STYLES), so the
#: resident never mistakes it for a mark of their own.
REFERENCE_COLOUR = "#ff4fd8"
_RESULT_WORDS = {"pass": "PASS", "needs_work": "NEEDS WORK", "fail": "FAIL"}


def score_lines(score: Score) -> list[str]:
    """The score as a teacher reads it: result, needle errors (mm, deg), hazards, then the reasons."""
    lines = [f"Result: {_RESULT_WORDS.get(score.result, score.result)}"]
    n = score.needle
    if n is not None:
        past = "past" if n.target_along_mm > 0 else "short of"
        lines.append(
            f"Tip {abs(n.target_along_mm):.1f} mm {past} the expert's along the needle, "
            f"{n.target_across_mm:.1f} mm across it ({n.target_distance_mm:.1f} mm in all)"
        )
        lines.append(
            f"Angle difference {n.angle_deg:.1f} deg; entry point {n.entry_mm:.1f} mm away"
            + ("" if n.depth_mm is None else f"; tip depth {n.depth_mm:+.1f} mm")
        )
    for h in score.hazards:
        name = h.kind + (f" ({h.label})" if h.label else "")
        if h.status == "missed":
            lines.append(f"Missed hazard: {name}")
        elif h.status == "mislocated":
            lines.append(f"Mislocated hazard: {name}, {h.distance_mm:.1f} mm from the expert's mark")
        else:
            lines.append(f"Found hazard: {name} ({h.distance_mm:.1f} mm)")
    return lines + [f"- {r}" for r in score.reasons]


def reference_layer(viewer: napari.Viewer) -> Shapes | None:
    """The expert's reference layer, if it is shown."""
    for layer in viewer.layers:
        if getattr(layer, "metadata", {}).get(_layers.META, {}).get("name") == REFERENCE_NAME:
            return layer
    return None


def draw_reference(viewer: napari.Viewer, reference: Plan, image: Image) -> Shapes:
    """Draw the expert's plan (marks and needle) in one read-only layer of its own colour."""
    kw = _layers.shapes_layer_kwargs("other", image)
    kw.update(
        name=REFERENCE_NAME,
        edge_color=REFERENCE_COLOUR,
        face_color="transparent",
        opacity=0.85,
        metadata={_layers.META: {"role": "overlay", "name": REFERENCE_NAME}},
    )
    layer = viewer.add_shapes(**kw)
    for s in reference.structures:
        world, shape_type = _layers.structure_shape(s, image)
        layer.add(_layers.to_layer_data(layer, world), shape_type=shape_type, edge_color=REFERENCE_COLOUR)
    if reference.needle is not None:
        world = _layers.needle_shape(reference.needle, image, reference.image.frame_index)
        layer.add_lines([_layers.to_layer_data(layer, world)], edge_color=REFERENCE_COLOUR)
    layer.editable = False
    layer.locked = True
    return layer


def clear_case(viewer: napari.Viewer, image: Image | None) -> None:
    """Remove a case from the viewer: its image, every mark and needle, and the reference layer."""
    for layer in list(viewer.layers):
        meta = getattr(layer, "metadata", {}).get(_layers.META, {})
        if layer is image or meta.get("role") in ("structure", "needle") or meta.get("name") == REFERENCE_NAME:
            viewer.layers.remove(layer)
