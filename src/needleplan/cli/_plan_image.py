"""Where a plan's image is: ``--image``, else the plan's ``image.path`` beside the plan file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plan_image_path"]


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
