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
    "sample_layers",
    "find_sample",
    "sample_trapezius_thin",
    "sample_piriformis",
    "sample_rhomboid_intercostal_cine",
    "sample_rhomboid_rib",
    "sample_lumbar_paraspinal",
]


def find_sample(key: str) -> Path:
    """The reference plan of the sample ``key`` (generated on first use: works from a wheel)."""
    from needleplan.samples import sample_plan

    return sample_plan(key)


def sample_layers(plan_path: Path) -> list[tuple]:
    """Image, mark and needle ``LayerData`` of a sample plan (as the reader opens any plan file)."""
    from needleplan_napari._plan_layers import plan_layers

    return plan_layers(plan_path)


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
