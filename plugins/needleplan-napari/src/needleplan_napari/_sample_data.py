"""Sample data contribution: the bundled synthetic cases with their reference plans.

napari guide: https://napari.org/stable/plugins/building_a_plugin/guides.html#sample-data

Each sample gives the calibrated image layer plus one shapes layer per marked kind and the needle,
drawn from the case's reference plan (:func:`needleplan.samples.sample_plan`, generated on first use
into the user's cache, so it works from installed wheels); the image layer carries the plan so the
docked widget takes over its site, patient and needle.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "sample_layers", "find_sample", "sample_trapezius_thin", "sample_piriformis",
    "sample_rhomboid_intercostal_cine", "sample_rhomboid_rib", "sample_lumbar_paraspinal",
]


def find_sample(key: str) -> Path:
    """The reference plan of the sample ``key`` (generated on first use: works from a wheel)."""
    from needleplan.samples import sample_plan

    return sample_plan(key)


def sample_layers(plan_path: Path) -> list[tuple]:
    """Image, mark and needle ``LayerData`` of a sample plan (through the ``_layers`` adapter)."""
    from napari.layers import Image, Shapes

    from needleplan.io import open_image
    from needleplan.plan import load_plan
    from needleplan_napari import _layers
    from needleplan_napari._plan_io import by_kind

    plan = load_plan(plan_path)
    image_path = Path(plan.image.path or "")
    if not image_path.is_absolute():
        image_path = plan_path.parent / image_path
    data, kwargs, kind = _layers.image_layer_data(open_image(image_path))
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


def sample_trapezius_thin() -> list[tuple]:
    """Upper trapezius in a thin patient: pleura close under the muscle."""
    return sample_layers(find_sample("trapezius_thin"))


def sample_piriformis() -> list[tuple]:
    """Piriformis: deep target, sciatic nerve and gluteal vessels nearby."""
    return sample_layers(find_sample("piriformis"))


def sample_rhomboid_intercostal_cine() -> list[tuple]:
    """Rhomboid over an intercostal space in a thin patient, a breathing cine (time slider in ms)."""
    return sample_layers(find_sample("rhomboid_intercostal_cine"))


def sample_rhomboid_rib() -> list[tuple]:
    """Rhomboid with a rib under the target: the bony backstop case."""
    return sample_layers(find_sample("rhomboid_rib"))


def sample_lumbar_paraspinal() -> list[tuple]:
    """Lumbar paraspinal: the knot over a lamina, the interlaminar window and the neuraxis beside it."""
    return sample_layers(find_sample("lumbar_paraspinal"))
