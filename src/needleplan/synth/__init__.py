"""The phantom: synthetic B-mode ultrasound cases whose anatomy is known to the millimetre.

``generate_case(site, habitus, frames=..., seed=...)`` builds the anatomy of a site preset for a
habitus (:mod:`~needleplan.synth.sites`, :mod:`~needleplan.synth.habitus`), renders it
(:mod:`~needleplan.synth.render`) and returns a :class:`SyntheticCase`; ``write_case`` writes the
DICOM, ``<stem>.truth.json`` (a full plan file whose structures are the ground truth) and
``<stem>.plan.json`` (a reference plan drawn the way a physician would).  The same arguments give
the same bytes.
"""

from __future__ import annotations

import dataclasses
import errno
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pydicom

from needleplan.errors import UnknownPresetError
from needleplan.synth.dicom import COMPRESSIONS, frame_hashes, write_dicom
from needleplan.synth.habitus import HABITUS, habitus_preset
from needleplan.synth.motion import DEFAULT_MOTION, Motion
from needleplan.synth.probe import CURVILINEAR, LINEAR, Probe, image_grid
from needleplan.synth.render import Renderer
from needleplan.synth.sites import PLAN_SITE, SITE_PRESETS, build_scene
from needleplan.synth.truth import reference_needle, reference_structures, truth_structures
from needleplan.synth.variation import Variation, apply_variation

if TYPE_CHECKING:  # imported where used: the plan model and the PyMUST renderer are not needed to import synth
    from needleplan.plan import Plan
    from needleplan.synth.physical import PhysicalRenderer

__all__ = [
    "SyntheticCase",
    "WrittenCase",
    "generate_case",
    "write_case",
    "SITE_PRESETS",
    "HABITUS",
    "Probe",
    "Motion",
    "UnknownPresetError",
    "MODELS",
    "Variation",
]

#: Image models: ``smooth`` (the default: echogenicity maps times filtered speckle, bit-for-bit
#: reproducible) and ``physical`` (scatterers imaged through PyMUST point spread functions).
MODELS = ("smooth", "physical")

CREATED = "2025-01-06T09:30:00Z"
INJECTATE = [{"drug": "lidocaine", "concentration_pct": 1.0, "volume_ml": 2.0, "epinephrine": False}]


@dataclass(frozen=True, slots=True)
class SyntheticCase:
    """A rendered case.  ``frames`` is ``(n, rows, cols)`` uint8; geometry in world mm.

    ``structures`` (ground truth) and ``plan`` are plain dicts in the plan-file format of
    docs/contracts.md §4; ``plan["image"]`` is completed by :func:`write_case`.
    """

    preset: str
    site: str
    habitus: str
    seed: int
    probe: Probe
    motion: Motion
    frames: np.ndarray
    spacing_mm: tuple[float, float]
    origin_px: tuple[float, float]
    region_box_px: tuple[int, int, int, int]
    structures: tuple[dict, ...]
    reference_structures: tuple[dict, ...]
    needle: dict
    patient: dict
    model: str = "smooth"
    variation: Variation = Variation()
    b_lines_col_mm: tuple[float, ...] = ()  # where the B-lines start, at rest (world mm)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.frames.shape[0])

    @property
    def calibration(self) -> dict:
        """The plan's ``calibration`` object (docs/contracts.md §4, docs/internals.md)."""
        return {
            "source": "US_REGION",
            "spacing_mm": list(self.spacing_mm),
            "origin_px": list(self.origin_px),
            "region_index": 0,
            "region_box_px": list(self.region_box_px),
        }

    def plan_dict(self, *, truth: bool, image: dict | None = None) -> dict:
        """The truth file (``truth=True``) or the reference plan as a plan-file dict."""
        needle = self.needle
        notes = (
            "Ground truth of a synthetic phantom: every structure as generated."
            if truth
            else "Reference plan: in plane from the image's right, "
            f"entry {abs(needle['entry_mm'][1] - needle['target_mm'][1]):.1f} mm "
            f"lateral to the target, {needle['length_mm']:.0f} mm {needle['gauge']} G needle."
        )
        synth = {
            "generator": "needleplan.synth",
            "preset": self.preset,
            "habitus": self.habitus,
            "seed": self.seed,
            "frames": self.n_frames,
            "probe": dataclasses.asdict(self.probe),
        }
        if self.model != "smooth":  # the default model's files stay as they were
            synth["model"] = self.model
        if not self.variation.is_none:
            variation = self.variation.as_dict()
            if self.b_lines_col_mm:  # where they are: the B-lines are not plan structures
                variation["b_lines_col_mm"] = [round(c, 3) for c in self.b_lines_col_mm]
            synth["variation"] = variation
        if self.n_frames > 1:
            synth["motion"] = self.motion.table(self.n_frames)
        return {
            "format": "needleplan.plan",
            "version": 1,
            "image": image if image is not None else {"frame_index": 0},
            "calibration": self.calibration,
            "site": self.site,
            "approach": "in_plane",
            "patient": dict(self.patient),
            "structures": list(self.structures if truth else self.reference_structures),
            "needle": dict(needle),
            "injectate": [dict(i) for i in INJECTATE],
            "author": "needleplan synth (ground truth)" if truth else "needleplan synth (reference plan)",
            "created": CREATED,
            "notes": notes,
            "synth": synth,
        }

    @property
    def plan(self) -> dict:
        """The reference plan (image binding incomplete until written)."""
        return self.plan_dict(truth=False)

    def to_plan(self, *, truth: bool = False, image: dict | None = None) -> Plan:
        """The truth or the reference plan as a :class:`needleplan.plan.Plan` value (its
        ``structures`` are plan ``Structure`` objects)."""
        from needleplan.plan import plan_from_dict

        return plan_from_dict(self.plan_dict(truth=truth, image=image))


@dataclass(frozen=True, slots=True)
class WrittenCase:
    """Paths written by :func:`write_case` and the stored-bytes hash of each frame."""

    dicom_path: Path
    truth_path: Path
    plan_path: Path
    sop_instance_uid: str
    frame_sha256: tuple[str, ...]


def _resolve_probe(scene_probe: Probe, probe: Probe | str | None) -> Probe:
    if probe is None:
        return scene_probe
    if isinstance(probe, Probe):
        return probe
    presets = {"linear": LINEAR, "curvilinear": CURVILINEAR}
    if probe not in presets:
        raise UnknownPresetError(f"unknown probe {probe!r}; choose linear or curvilinear")
    return presets[probe].with_depth(scene_probe.depth_mm)


def generate_case(
    site: str,
    habitus: str,
    *,
    frames: int = 1,
    seed: int = 0,
    probe: Probe | str | None = None,
    motion: Motion | None = None,
    model: str = "smooth",
    variation: Variation | None = None,
) -> SyntheticCase:
    """Generate a case of site preset ``site`` for ``habitus``.

    ``probe`` overrides the site's probe (a :class:`Probe`, or ``"linear"``/``"curvilinear"``
    keeping the site's depth).  ``frames > 1`` makes a cine with breathing, lung sliding and
    arterial pulsation (:class:`Motion`).  ``model`` is one of :data:`MODELS`; both draw the same
    anatomy, so the ground truth and the reference plan are the same for a given seed.
    ``variation`` presses the probe in, bows the fasciae or adds B-lines
    (:mod:`~needleplan.synth.variation`); the ground truth follows it.
    """
    if model not in MODELS:
        raise UnknownPresetError(f"unknown image model {model!r}; choose one of: {', '.join(MODELS)}")
    if frames < 1:
        raise UnknownPresetError(f"frames must be at least 1, got {frames}")
    h = habitus_preset(habitus)
    if site not in SITE_PRESETS:
        build_scene(site, h, np.random.default_rng(0))  # raises UnknownPresetError
    rng = np.random.default_rng([int(seed), list(SITE_PRESETS).index(site), list(HABITUS).index(habitus)])
    scene = build_scene(site, h, rng)
    scene = dataclasses.replace(scene, probe=_resolve_probe(scene.probe, probe))
    variation = variation or Variation()
    # its own generator: the variation leaves the speckle and textures of the seed as they were
    vrng = np.random.default_rng([int(seed), list(SITE_PRESETS).index(site), list(HABITUS).index(habitus), 1])
    scene = apply_variation(scene, variation, vrng)
    grid = image_grid(scene.probe)
    motion = motion or DEFAULT_MOTION
    renderer: Renderer | PhysicalRenderer
    if model == "physical":
        from needleplan.synth.physical import MAP_PSF_PX, PhysicalRenderer

        renderer = PhysicalRenderer.build(Renderer.build(scene, grid, motion, rng, map_psf_px=MAP_PSF_PX), rng)
    else:
        renderer = Renderer.build(scene, grid, motion, rng)
    data = np.empty((frames, grid.rows, grid.cols), dtype=np.uint8)
    for i in range(frames):
        data[i] = renderer.frame(i)
    return SyntheticCase(
        preset=site,
        site=PLAN_SITE.get(site, site),
        habitus=habitus,
        seed=int(seed),
        probe=scene.probe,
        motion=motion,
        frames=data,
        spacing_mm=(grid.spacing_mm, grid.spacing_mm),
        origin_px=(float(grid.origin_px[0]), float(grid.origin_px[1])),
        region_box_px=grid.box_px,
        structures=tuple(truth_structures(scene, grid, cine=frames > 1)),
        reference_structures=tuple(reference_structures(scene, grid)),
        needle=reference_needle(scene, grid),
        patient=h.patient(),
        model=model,
        variation=variation,
        b_lines_col_mm=scene.b_lines_col_mm,
    )


def _stem(path: Path) -> Path:
    return path.with_suffix("") if path.suffix.lower() in (".dcm", ".dicom") else path


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def write_case(case: SyntheticCase, path: str | Path, *, compression: str | None = None) -> WrittenCase:
    """Write the DICOM to ``path`` and, beside it, ``<stem>.truth.json`` and ``<stem>.plan.json``.

    ``compression``: ``None``/``"none"`` (Explicit VR Little Endian) or ``"jpeg"`` (JPEG Baseline).
    The plans bind frame 0 by SOP Instance UID and the SHA-256 of its stored bytes.
    """
    compression = compression or "none"
    if compression not in COMPRESSIONS:
        raise UnknownPresetError(f"unknown compression {compression!r}; choose none or jpeg")
    path = Path(path)
    stem = _stem(path)
    truth_path = stem.with_name(stem.name + ".truth.json")
    plan_path = stem.with_name(stem.name + ".plan.json")
    for target in (path, truth_path, plan_path):  # fail before writing any, not after the DICOM
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder; choose another output name", str(target))
    write_dicom(case, path, compression)
    ds = pydicom.dcmread(path)
    hashes = tuple(frame_hashes(ds))
    image = {
        "path": path.name,
        "sop_instance_uid": str(ds.SOPInstanceUID),
        "frame_index": 0,
        "pixel_sha256": hashes[0],
    }
    _write_json(truth_path, case.plan_dict(truth=True, image=image))
    _write_json(plan_path, case.plan_dict(truth=False, image=image))
    return WrittenCase(path, truth_path, plan_path, str(ds.SOPInstanceUID), hashes)
