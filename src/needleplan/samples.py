"""The bundled samples, for an installed package as well as a clone.

Each sample is a phantom case (:mod:`needleplan.synth`, not a patient) made from a fixed preset and
seed, so it is generated on first use, bit for bit the same as the repository's ``sample_dicom/``,
into a per-user cache (no file of the repository is needed).  The cache folder is
``$NEEDLEPLAN_SAMPLES`` when set, else the platform's user cache (``~/.cache/needleplan/samples/<version>``
on Linux).

Examples
--------
>>> [s.key for s in SAMPLES][:2]
['trapezius_thin', 'rhomboid_intercostal_cine']
>>> sample_spec("piriformis").stem
'piriformis_average_frame'
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from needleplan.errors import NeedleplanError

__all__ = [
    "SampleSpec",
    "SAMPLES",
    "SAMPLES_ENV",
    "DEFAULT_SAMPLE",
    "sample_spec",
    "samples_dir",
    "sample_plan",
    "write_sample",
]

SAMPLES_ENV = "NEEDLEPLAN_SAMPLES"


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """One sample: its key (napari's sample menu), file stem, phantom preset and what it shows."""

    key: str
    stem: str
    preset: str
    habitus: str
    frames: int
    seed: int
    compression: str
    what: str


SAMPLES: tuple[SampleSpec, ...] = (
    SampleSpec(
        "trapezius_thin",
        "upper_trapezius_thin_frame",
        "upper_trapezius",
        "thin",
        1,
        1,
        "none",
        "thin woman (BMI 17.5), upper trapezius at GB21: pleura 14.6 mm deep, lung apex under the target",
    ),
    SampleSpec(
        "rhomboid_intercostal_cine",
        "rhomboid_intercostal_thin_cine",
        "rhomboid_intercostal",
        "thin",
        80,
        1,
        "jpeg",
        "4 s cine over an intercostal space (bat sign): lung sliding, a breath moving the "
        "pleura, a pulsating dorsal scapular artery",
    ),
    SampleSpec(
        "rhomboid_rib",
        "rhomboid_rib_average_frame",
        "rhomboid_rib",
        "average",
        1,
        1,
        "none",
        "rhomboid major with a rib under the target and the needle's extension (the rib is the backstop)",
    ),
    SampleSpec(
        "piriformis",
        "piriformis_average_frame",
        "piriformis",
        "average",
        1,
        1,
        "none",
        "piriformis 63 mm deep (curvilinear probe), sciatic nerve deep to it, an inferior gluteal artery branch",
    ),
    SampleSpec(
        "lumbar_paraspinal",
        "lumbar_paraspinal_average_frame",
        "lumbar_paraspinal",
        "average",
        1,
        1,
        "none",
        "lumbar erector spinae and multifidus over two laminae (shadows), the interlaminar "
        "window with the ligamentum flavum and dura; the knot over a lamina (the backstop)",
    ),
)

#: the sample ``needleplan view`` opens with no argument
DEFAULT_SAMPLE = "trapezius_thin"


def sample_spec(key: str) -> SampleSpec:
    """The sample with this key; NeedleplanError naming the keys there are."""
    for spec in SAMPLES:
        if spec.key == key:
            return spec
    raise NeedleplanError(f"no sample called {key!r}; the samples are " + ", ".join(s.key for s in SAMPLES))


def samples_dir() -> Path:
    """The folder samples are generated into (created on first use)."""
    explicit = os.environ.get(SAMPLES_ENV)
    if explicit:
        return Path(explicit)
    from needleplan import __version__

    try:
        import platformdirs

        base = Path(platformdirs.user_cache_dir("needleplan", appauthor=False))
    except ImportError:  # pragma: no cover - platformdirs is a dependency
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "needleplan"
    return base / "samples" / __version__


def write_sample(spec: SampleSpec, folder: Path) -> Path:
    """Generate one sample (DICOM, ground truth, reference plan) into ``folder``; return the plan.

    The files are written in a temporary folder beside ``folder`` and moved in, plan last, so a
    reader never sees a half-written sample and two processes generating at once both succeed.
    """
    from needleplan.synth import generate_case, write_case

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".sample-") as tmp:
        case = generate_case(spec.preset, spec.habitus, frames=spec.frames, seed=spec.seed)
        written = write_case(case, Path(tmp) / f"{spec.stem}.dcm", compression=spec.compression)
        for path in (written.dicom_path, written.truth_path, written.plan_path):
            os.replace(path, folder / path.name)
    return folder / written.plan_path.name


def sample_plan(key: str = DEFAULT_SAMPLE) -> Path:
    """The reference plan file of a sample, its image beside it; generated on first use.

    Raises
    ------
    NeedleplanError
        Unknown key, or the cache folder cannot be written (the message says which folder and
        how to choose another).
    """
    spec = sample_spec(key)
    folder = samples_dir()
    plan = folder / f"{spec.stem}.plan.json"
    if plan.is_file() and (folder / f"{spec.stem}.dcm").is_file():
        return plan
    try:
        return write_sample(spec, folder)
    except OSError as exc:
        raise NeedleplanError(
            f"cannot write the {key} sample into {folder}: {exc.strerror or exc}; "
            f"set {SAMPLES_ENV} to a writable folder"
        ) from exc
