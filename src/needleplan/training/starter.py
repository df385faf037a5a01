"""The starter set: teaching cases made from the phantom's site presets.

Each preset is rendered (:func:`needleplan.synth.generate_case`), written with its ground truth
(``<stem>.truth.json``: the true anatomy and the reference needle), and turned into a case with
:func:`~needleplan.training.cases.create_case`, so a phantom case goes through the same
de-identification and re-binding as a real one.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from needleplan.clinical import site_profile
from needleplan.plan import load_plan
from needleplan.synth import generate_case, write_case
from needleplan.training.cases import TeachingCase, create_case, list_cases, reference_blocks

__all__ = ["STARTER_SET", "StarterResult", "build_starter_set"]

#: (preset, habitus, difficulty): the thoracic presets are harder in a thin patient, where the
#: pleura lies shallowest (docs/clinical-rules.md 1B "Thin habitus in pneumothorax case reports").
STARTER_SET: tuple[tuple[str, str, str], ...] = (
    ("upper_trapezius", "average", "intermediate"),
    ("upper_trapezius", "thin", "advanced"),
    ("rhomboid_rib", "average", "intermediate"),
    ("rhomboid_intercostal", "thin", "advanced"),
    ("thoracic_paraspinal", "average", "intermediate"),
    ("gluteus_medius", "average", "beginner"),
    ("piriformis", "average", "intermediate"),
    ("quadratus_lumborum", "average", "intermediate"),
)

_POINTS = {
    "thoracic": (
        "Find and mark the pleura before you draw the needle.",
        "Keep the tip over a rib, never over an intercostal space.",
        "Choose a needle that cannot reach the pleura on this path.",
    ),
    "deep": (
        "Mark the nerve and the vessels near the path before you draw the needle.",
        "Check the needle is long enough to reach the target with some left outside the skin.",
    ),
    "lumbar": (
        "Mark what lies under the target (kidney, peritoneum) and keep clear of it.",
        "Check the needle is long enough to reach the target with some left outside the skin.",
    ),
    "superficial": ("Mark the target and the vessels near the path.",),
}


def _title(preset: str, habitus: str) -> str:
    return f"{preset.replace('_', ' ').capitalize()}, {habitus} habitus (phantom)"


@dataclass(frozen=True, slots=True)
class StarterResult:
    """Cases made, and presets left out with the reason (a reference that would not be safe)."""

    made: tuple[TeachingCase, ...]
    skipped: tuple[tuple[str, str], ...]  # (source, reason)


def build_starter_set(
    cases_dir: str | os.PathLike[str] | None = None,
    *,
    secret: str | None = None,
    only_missing: bool = True,
    presets: tuple[tuple[str, str, str], ...] = STARTER_SET,
) -> StarterResult:
    """Make the starter cases in ``cases_dir``; with ``only_missing`` skip those already there.

    ``presets`` are ``(site preset, habitus, difficulty)`` triples (default :data:`STARTER_SET`).
    A preset whose ground-truth plan has a ``block`` finding is not made into a case (a reference
    must be a plan that may be carried out); it is listed in ``skipped`` with the findings.
    """
    have = {c.source for c in list_cases(cases_dir)} if only_missing else set()
    made, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="needleplan-starter-") as tmp:
        for preset, habitus, difficulty in presets:
            source = f"phantom:{preset}:{habitus}"
            if source in have:
                continue
            case = generate_case(preset, habitus)
            written = write_case(case, Path(tmp) / f"{preset}-{habitus}.dcm")
            blocks = reference_blocks(load_plan(written.truth_path))
            if blocks:
                skipped.append((source, "; ".join(blocks)))
                continue
            region = site_profile(case.site).region
            made.append(
                create_case(
                    written.dicom_path,
                    written.truth_path,
                    title=_title(preset, habitus),
                    difficulty=difficulty,
                    points=_POINTS.get(region, ()),
                    cases_dir=cases_dir,
                    secret=secret,
                    source=source,
                )
            )
    return StarterResult(tuple(made), tuple(skipped))
