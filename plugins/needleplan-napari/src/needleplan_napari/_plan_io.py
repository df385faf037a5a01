"""Save and open plans, and calibrate the image: :class:`PlanFiles`, one per session.

Qt-free.  Opening a plan opens (or reuses) its image, checks the binding to the exact frame,
restores the plan's calibration on the image layer, and redraws every mark in its own kind layer
and the needle, so that saving again writes the same plan.  Every failure is a
:class:`~needleplan.errors.NeedleplanError` (or ``OSError``) with the core's one-line reason: the
widget shows it, ``needleplan view`` prints it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from needleplan_napari import _layers
from needleplan_napari._depth_ruler import show_depth_ruler, show_home
from needleplan_napari._state import PlanInputs

if TYPE_CHECKING:
    from napari.layers import Image

    from needleplan.calibration import Calibration
    from needleplan.plan import Plan, Structure
    from needleplan.safety import SafetyReport
    from needleplan_napari._session import PlanSession

__all__ = ["PlanFiles", "write_report_file", "saved_differences", "by_kind", "image_path_of"]


class PlanFiles:
    """The plan file and the image calibration of one :class:`~needleplan_napari._session.PlanSession`."""

    def __init__(self, session: PlanSession) -> None:
        self.session = session

    def save(self, path: str | Path) -> Plan:
        """Save the current plan (with the frame's pixel SHA-256 and the safety report) atomically.

        Raises
        ------
        needleplan.errors.CalibrationError
            Without a length calibration: calibrate first (two points of known distance).
        """
        from needleplan.plan import save_plan
        from needleplan.safety import check_plan

        plan = self.checked_plan()
        save_plan(plan, path, report=check_plan(plan, regions=self.session.regions()))
        return plan

    def report_inputs(self) -> tuple[Plan, np.ndarray | None]:
        """The checked, bound plan and its display frame, read on the main thread for a report."""
        plan = self.checked_plan()
        source = _layers.image_source(self.session.image_layer())
        return plan, (None if source is None else source.frame(plan.image.frame_index))

    def checked_plan(self) -> Plan:
        """The plan bound to its frame; refused without an image or without a length calibration."""
        from needleplan.errors import CalibrationError, NeedleplanError

        plan = self.session.build_plan()
        if plan is None:
            raise NeedleplanError("no image is open; open an ultrasound DICOM first")
        if not plan.calibration.is_calibrated:
            raise CalibrationError(
                "this image has no length calibration, so the plan has no millimetres; "
                "calibrate with two points of known distance first"
            )
        return self.session.with_binding(plan)

    def _find_or_open_image(self, plan: Plan, plan_path: Path) -> Image:
        from needleplan.errors import ImageReadError
        from needleplan.io import open_image

        viewer = self.session.viewer
        uid = plan.image.sop_instance_uid
        for layer in viewer.layers:
            src = _layers.image_source(layer)
            if src is not None and uid and src.info.sop_instance_uid == uid:
                return layer
        path = image_path_of(plan, plan_path)
        if path is None or not path.exists():
            raise ImageReadError(f"the plan's image {plan.image.path!r} was not found; open that image, then the plan")
        data, kwargs, _ = _layers.image_layer_data(open_image(path))
        return viewer.add_image(data, **kwargs)

    def open(self, path: str | Path, *, force: bool = False) -> Plan:
        """Open a plan file: its image, calibration, marks, needle and form values.

        Raises
        ------
        needleplan.errors.ImageBindingError
            The image is not the frame the plan was made on (unless ``force``).
        """
        from needleplan.plan import load_plan, verify_binding

        session, viewer = self.session, self.session.viewer
        path = Path(path)
        plan = load_plan(path)
        image = self._find_or_open_image(plan, path)
        verify_binding(plan, _layers.image_source(image), force=force)
        viewer.layers.selection.active = image
        if _layers.image_calibration(image) != plan.calibration:
            self.apply_calibration(plan.calibration)
        with session.paused():
            for layer in list(viewer.layers):
                if _layers.role_of_layer(layer) in ("structure", "needle"):
                    viewer.layers.remove(layer)
            for kind, group in by_kind(plan.structures).items():
                _layers.draw_structures(session.kind_layer(kind), group, image)
            session.inputs = PlanInputs.from_plan(plan)
            if plan.needle is not None:
                session.set_needle(plan.needle.entry_mm, plan.needle.target_mm, plan.image.frame_index)
            if image.ndim == 3:
                viewer.dims.set_current_step(0, plan.image.frame_index)
        session.loaded_plan = plan
        session.load_inputs(session.inputs)  # the form shows the plan's values
        session.refresh(force=True)
        show_home(viewer, image)  # the whole image, the ruler, and no layer where a click moves a mark
        return plan

    def two_point_calibration(
        self, p0_world: Iterable[float], p1_world: Iterable[float], distance_mm: float
    ) -> Calibration:
        """Calibrate the (uncalibrated) image from two world points ``distance_mm`` apart, and apply it.

        The points are where the user clicked (world = pixel indices on an uncalibrated image), e.g.
        two 1 cm ticks of the depth ruler.  World (0, 0) stays at pixel (0, 0).
        """
        from needleplan.calibration import manual_calibration

        image = self.session.image_layer()
        p0, p1 = _layers.world_to_index(image, [p0_world, p1_world])[:, -2:]
        cal = manual_calibration(p0, p1, distance_mm)
        self.apply_calibration(cal)
        return cal

    def apply_calibration(self, cal: Calibration) -> None:
        """Put a calibration on the image layer and move every mark to the new world coordinates.

        Each mark keeps the image pixels it was drawn on: world -> image index (old geometry) ->
        world (new geometry), with its type, colour and per-shape fields.
        """
        session = self.session
        image = session.image_layer()
        with session.paused():
            moves = []
            for layer in list(session.viewer.layers):
                if _layers.role_of_layer(layer) in ("structure", "needle", "calibration") and len(layer.data):
                    moves.append((layer, _layers.image_indices_of(layer, image)))
            kw = _layers.set_image_calibration(image, cal)
            for layer, indices in moves:
                _layers.place_at_image_indices(layer, image, indices, kw["units"])
                kind = layer.metadata[_layers.META].get("kind")
                if kind in _layers.STYLES:  # widths were pixels, now millimetres
                    layer.edge_width = _layers.STYLES[kind].edge_width_mm
                    layer.current_edge_width = _layers.STYLES[kind].edge_width_mm
        session.refresh(force=True)
        show_depth_ruler(session.viewer, image)  # now in millimetres (or gone, without them)


def write_report_file(plan: Plan, frame: np.ndarray | None, path: str | Path) -> int:
    """Write the report (PDF, PNG or HTML by suffix); pages written.  Pure: safe in a worker."""
    from needleplan.report import write_report

    return write_report(plan, path, frame=frame)


def image_path_of(plan: Plan, plan_path: Path) -> Path | None:
    """The plan's image file: as the plan names it (relative to the plan file), else beside the plan."""
    if not plan.image.path:
        return None
    p = Path(plan.image.path)
    if not p.is_absolute():
        p = plan_path.parent / p
    if not p.exists():  # moved together with the plan: look beside it
        beside = plan_path.parent / p.name
        p = beside if beside.exists() else p
    return p


def by_kind(structures: Iterable[Structure]) -> dict[str, list[Structure]]:
    """Structures grouped by the layer they are drawn in (unknown kinds go to ``other``)."""
    out: dict[str, list[Structure]] = {}
    for s in structures:
        out.setdefault(s.kind if s.kind in _layers.STYLES else "other", []).append(s)
    return out


def saved_differences(plan: Plan, report: SafetyReport | None) -> list[str]:
    """Finding codes that appeared or went away since the plan was saved (docs/contracts.md §4)."""
    if not plan.findings or report is None:
        return []
    before = {f.get("code") for f in plan.findings}
    now = set(report.codes)
    return [f"new since saved: {c}" for c in sorted(now - before)] + [
        f"gone since saved: {c}" for c in sorted(before - now)
    ]
