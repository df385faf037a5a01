"""Teaching cases: a de-identified image and the expert's reference plan, with what it teaches.

A case is a folder in the case library::

    CASES/<case_id>/
      case.json              title, site, difficulty, teaching points, when and how it was made
      image.dcm              the image, de-identified (header profile + clean pixel data)
      reference.plan.json    the expert's plan, re-bound to image.dcm (UID and pixel SHA-256)

The case library is ``$NEEDLEPLAN_CASES``, else ``<plan library>/cases``.  A case folder is
written under a temporary name and renamed into place, so a half-made case is never listed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from needleplan.deid import Deidentifier, read_secret
from needleplan.errors import CalibrationError, LibraryError
from needleplan.io import open_image
from needleplan.library import default_library_dir
from needleplan.library.store import utc_now
from needleplan.plan import ImageBinding, Plan, load_plan, save_plan, verify_binding

__all__ = [
    "CASES_ENV",
    "DIFFICULTIES",
    "TeachingCase",
    "default_cases_dir",
    "create_case",
    "list_cases",
    "load_case",
    "reference_blocks",
    "CASE_FILE",
    "IMAGE_NAME",
    "REFERENCE_NAME",
]

CASES_ENV = "NEEDLEPLAN_CASES"
CASE_FILE, IMAGE_NAME, REFERENCE_NAME = "case.json", "image.dcm", "reference.plan.json"
DIFFICULTIES = ("beginner", "intermediate", "advanced")
CASE_FORMAT = "needleplan.case"


@dataclass(frozen=True, slots=True)
class TeachingCase:
    """One case of the case library (``folder`` holds its image and reference plan)."""

    case_id: str
    title: str
    site: str
    difficulty: str
    teaching_points: tuple[str, ...]
    folder: str
    created: str
    source: str  # "image" (de-identified from a real image) or "phantom:<preset>"

    @property
    def image_path(self) -> Path:
        return Path(self.folder) / IMAGE_NAME

    @property
    def reference_path(self) -> Path:
        return Path(self.folder) / REFERENCE_NAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CASE_FORMAT,
            "version": 1,
            "case_id": self.case_id,
            "title": self.title,
            "site": self.site,
            "difficulty": self.difficulty,
            "teaching_points": list(self.teaching_points),
            "created": self.created,
            "source": self.source,
            "folder": self.folder,
            "image": str(self.image_path),
            "reference": str(self.reference_path),
        }


def default_cases_dir() -> Path:
    """``$NEEDLEPLAN_CASES``, else ``<plan library>/cases``."""
    env = os.environ.get(CASES_ENV)
    return Path(env).expanduser() if env else default_library_dir() / "cases"


def _slug(title: str) -> str:
    """A folder-safe case id stem.

    >>> _slug("Rhomboid, thin patient (BMI 17)!")
    'rhomboid-thin-patient-bmi-17'
    """
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "case"


def create_case(
    image: str | os.PathLike[str],
    reference: Plan | str | os.PathLike[str],
    *,
    title: str,
    difficulty: str,
    points: tuple[str, ...] | list[str] = (),
    cases_dir: str | os.PathLike[str] | None = None,
    secret: str | None = None,
    source: str = "image",
) -> TeachingCase:
    """De-identify ``image``, re-bind the reference plan to the result, store both as a case.

    The reference plan must have been drawn on this very image (its binding is checked first).
    Its free-text ``notes`` are dropped, since they may name the patient; put what the case
    teaches in ``points``.
    """
    if not title.strip():
        raise LibraryError("a case needs a title (--title); say what the resident will see")
    if difficulty not in DIFFICULTIES:
        raise LibraryError(f"difficulty {difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    plan = reference if isinstance(reference, Plan) else load_plan(reference)
    if plan.needle is None:
        raise LibraryError("the reference plan has no needle: draw the expert's needle first")
    blocks = reference_blocks(plan)
    if blocks:
        raise LibraryError(
            "the reference plan must not be carried out as drawn, so it cannot teach: "
            + "; ".join(blocks)
            + " (fix the expert's plan first)"
        )
    verify_binding(plan, open_image(image))
    root = Path(cases_dir) if cases_dir is not None else default_cases_dir()
    root.mkdir(parents=True, exist_ok=True)
    case_id = f"{_slug(title)}-{uuid.uuid4().hex[:6]}"
    tmp = root / f".tmp-{case_id}"
    tmp.mkdir()
    try:
        Deidentifier(secret if secret is not None else read_secret(None)[0]).deidentify_file(image, tmp / IMAGE_NAME)
        final = root / case_id
        rebound = _rebind(plan, tmp / IMAGE_NAME)
        save_plan(rebound, tmp / REFERENCE_NAME)
        case = TeachingCase(
            case_id,
            title.strip(),
            plan.site,
            difficulty,
            tuple(p.strip() for p in points if p.strip()),
            str(final.resolve()),
            utc_now(),
            source,
        )
        (tmp / CASE_FILE).write_text(json.dumps(case.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return case


def reference_blocks(plan: Plan) -> list[str]:
    """The block findings of a plan, as "CODE: message" (empty when it may serve as a reference)."""
    from needleplan.safety import check_plan

    return [f"{f.code}: {f.message}" for f in check_plan(plan).findings if f.severity == "block"]


def _rebind(plan: Plan, written: Path) -> Plan:
    """The plan bound to the de-identified image (new UID and pixel hash; same calibration).

    ``image.path`` is the file name, relative to the plan's folder, as the phantom writes it.
    """
    loaded = open_image(written)
    info = loaded.info
    cal, new_cal = plan.calibration, info.calibration
    if cal.source == "US_REGION" and (
        new_cal.spacing_mm != cal.spacing_mm or tuple(new_cal.origin_px) != tuple(cal.origin_px)
    ):
        raise CalibrationError(  # pragma: no cover - de-identification keeps the regions
            f"the de-identified image calibrates as {new_cal.spacing_mm} mm/px at {new_cal.origin_px}, "
            f"the reference plan as {cal.spacing_mm} at {cal.origin_px}; the case is not made"
        )
    binding = ImageBinding(
        path=IMAGE_NAME,
        sop_instance_uid=info.sop_instance_uid,
        frame_index=plan.image.frame_index,
        pixel_sha256=loaded.frame_sha256(plan.image.frame_index),
    )
    return replace(plan, image=binding, notes=None)


def load_case(case: str | os.PathLike[str], cases_dir: str | os.PathLike[str] | None = None) -> TeachingCase:
    """A case by id (in the case library) or by folder path."""
    folder = Path(case)
    if not (folder / CASE_FILE).is_file():
        folder = (Path(cases_dir) if cases_dir is not None else default_cases_dir()) / str(case)
    path = folder / CASE_FILE
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LibraryError(
            f"no teaching case {case!r} (looked for {path}); list them with `needleplan case list`"
        ) from None
    except json.JSONDecodeError as exc:
        raise LibraryError(f"{path}: not valid JSON ({exc.msg}); the case folder is damaged") from None
    return TeachingCase(
        str(d["case_id"]),
        str(d["title"]),
        str(d["site"]),
        str(d["difficulty"]),
        tuple(d.get("teaching_points") or ()),
        str(folder.resolve()),
        str(d.get("created") or ""),
        str(d.get("source") or "image"),
    )


def list_cases(cases_dir: str | os.PathLike[str] | None = None) -> list[TeachingCase]:
    """Every case in the case library, oldest first (hidden temporary folders skipped)."""
    root = Path(cases_dir) if cases_dir is not None else default_cases_dir()
    if not root.is_dir():
        return []
    cases = [
        load_case(p)
        for p in sorted(root.iterdir())
        if p.is_dir() and not p.name.startswith(".") and (p / CASE_FILE).is_file()
    ]
    return sorted(cases, key=lambda c: (c.created, c.case_id))
