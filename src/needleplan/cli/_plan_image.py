"""Where a plan's image is: ``--image``, else the plan's ``image.path`` beside the plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plan_image_path", "plan_on_its_image"]


def plan_image_path(plan: Any, folder: Path, explicit: str | None) -> Path | None:
    """The image to open for ``plan`` whose file is in ``folder``; None when the plan names none.

    A relative ``image.path`` is taken relative to the plan file's folder, as the phantom and the
    plugin write it.

    >>> from types import SimpleNamespace as NS
    >>> str(plan_image_path(NS(image=NS(path="case.dcm")), Path("/data"), None))
    '/data/case.dcm'
    >>> str(plan_image_path(NS(image=NS(path="case.dcm")), Path("."), "/x/other.dcm"))
    '/x/other.dcm'
    """
    if explicit:
        return Path(explicit)
    if not plan.image.path:
        return None
    path = Path(plan.image.path)
    return path if path.is_absolute() else folder / path


def plan_on_its_image(plan_arg: str, image_arg: str | None) -> tuple[Any, Path, Path]:
    """Load a plan and find the DICOM image it was made on, refusing any other image.

    For the commands that write something referencing the image (SR export, PACS store): the image
    is required.  Returns ``(plan, plan_path, image_path)``; raises ``FileNotFoundError`` when the
    plan names no image or it is not there, ``ImageBindingError`` when it is another image or frame.
    """
    from needleplan.io import open_image
    from needleplan.plan import load_plan, verify_binding

    plan_path = Path(plan_arg)
    plan = load_plan(plan_path)
    image_path = plan_image_path(plan, plan_path.parent, image_arg)
    if image_path is None:
        raise FileNotFoundError("the plan names no image; give the DICOM image it was made on with --image")
    if not image_path.is_file():
        raise FileNotFoundError(f"image {image_path} not found; give the DICOM image it was made on with --image")
    verify_binding(plan, open_image(image_path))  # a plan for another image or frame is refused
    return plan, plan_path, image_path
