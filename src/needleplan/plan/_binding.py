"""Check that an image is the exact frame a plan was made on."""

from __future__ import annotations

from typing import Any

from needleplan.errors import ImageBindingError
from needleplan.plan._model import Plan


def verify_binding(plan: Plan, image: Any, *, force: bool = False) -> tuple[str, ...]:
    """Check that ``image`` (a ``LoadedImage``) is the exact frame the plan was made on.

    Compares the SOP Instance UID, that the frame exists, and the frame's pixel SHA-256.  Raises
    :class:`ImageBindingError` on a mismatch unless ``force``; returns the mismatches (empty if none).
    """
    problems: list[str] = []
    info = image.info
    b = plan.image
    if b.sop_instance_uid and info.sop_instance_uid and b.sop_instance_uid != info.sop_instance_uid:
        problems.append(f"SOP Instance UID {info.sop_instance_uid} is not the plan's {b.sop_instance_uid}")
    if b.frame_index >= info.frames:
        problems.append(f"the plan is on frame {b.frame_index} but the image has {info.frames} frame(s)")
    elif b.pixel_sha256:
        actual = image.frame_sha256(b.frame_index)
        if actual != b.pixel_sha256:
            problems.append(
                f"frame {b.frame_index} pixel SHA-256 {actual[:12]}... differs from the plan's {b.pixel_sha256[:12]}..."
            )
    if problems and not force:
        raise ImageBindingError(
            "this image is not the one the plan was made on: "
            + "; ".join(problems)
            + " (open the plan's own image, or force to override)"
        )
    return tuple(problems)
