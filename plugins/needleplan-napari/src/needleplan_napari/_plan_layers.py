"""A plan file as napari layers: its image in millimetres, one shapes layer per marked kind, the needle.

Used by the reader (``*.plan.json`` through File > Open or ``viewer.open(path, plugin=...)``) and
by the sample contributions.  The image is the plan's own (found as the plan names it, or beside
the plan file), checked against the plan's binding (SOP Instance UID, frame, pixel SHA-256) as
``needleplan check --image`` checks it, and shown with the plan's calibration, so every mark lands
on the pixels it was drawn on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plan_layers"]


def plan_layers(plan_path: str | Path) -> list[tuple[Any, dict, str]]:
    """Image, mark and needle ``LayerData`` of a plan file (through the ``_layers`` adapter).

    Raises
    ------
    needleplan.errors.PlanError
        The file is not a valid plan.
    needleplan.errors.ImageReadError
        The plan's image is missing or cannot be decoded.
    needleplan.errors.ImageBindingError
        The image found is not the frame the plan was made on.
    """
    from napari.layers import Image, Shapes

    from needleplan.errors import ImageReadError
    from needleplan.io import open_image
    from needleplan.plan import load_plan, verify_binding
    from needleplan_napari import _layers
    from needleplan_napari._plan_io import by_kind, image_path_of

    plan_path = Path(plan_path)
    plan = load_plan(plan_path)
    image_path = image_path_of(plan, plan_path)
    if image_path is None or not image_path.exists():
        raise ImageReadError(
            f"the plan's image {plan.image.path!r} was not found; put it beside the plan file or open that image first"
        )
    loaded = open_image(image_path)
    verify_binding(plan, loaded)
    data, kwargs, kind = _layers.image_layer_data(loaded)
    if plan.calibration != loaded.info.calibration:  # e.g. a two-point calibration made in the plugin
        kwargs.update(
            _layers.calibrated_image_kwargs(
                plan.calibration, 3 if loaded.info.frames > 1 else 2, loaded.info.frame_time_ms
            )
        )
        kwargs["name"] = f"{image_path.name} [{_layers.calibration_label(plan.calibration)}]"
        kwargs["metadata"][_layers.META]["calibration"] = plan.calibration
    kwargs["metadata"][_layers.META]["plan"] = plan
    image = Image(data, **kwargs)
    out = [(data, kwargs, kind)]
    for k, structures in by_kind(plan.structures).items():
        layer = Shapes(**_layers.shapes_layer_kwargs(k, image))
        _layers.draw_structures(layer, structures, image)
        out.append(layer.as_layer_data_tuple())
    if plan.needle is not None:
        layer = Shapes(**_layers.shapes_layer_kwargs("needle", image))
        layer.add_lines(_layers.to_layer_data(layer, _layers.needle_shape(plan.needle, image, plan.image.frame_index)))
        out.append(layer.as_layer_data_tuple())
    return out
