"""Save and open plans, and two-point calibration, on a :class:`~needleplan_napari._session.PlanSession`.

Qt-free.  Opening a plan opens (or reuses) its image, checks the binding to the exact frame,
restores the plan's calibration on the image layer, and redraws every mark in its own kind layer
and the needle, so that saving again writes the same plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from needleplan_napari import _layers

if TYPE_CHECKING:
    from needleplan.calibration import Calibration
    from needleplan.plan import Plan

    from needleplan_napari._session import PlanSession

__all__ = ["save", "report_inputs", "write_report_file", "open_plan", "apply_calibration", "two_point_calibration", "inputs_from_plan", "saved_differences",
           "by_kind"]


def save(session: PlanSession, path: str | Path) -> Plan:
    """Save the current plan (with the frame's pixel SHA-256 and the safety report) atomically.

    Raises
    ------
    needleplan.errors.CalibrationError
        Without a length calibration: calibrate first (two points of known distance).
    """
    from needleplan.plan import save_plan
    from needleplan.safety import check_plan

    plan = _checked_plan(session)
    save_plan(plan, path, report=check_plan(plan, regions=session.regions()))
    return plan


def report_inputs(session: PlanSession) -> tuple[Plan, Any]:
    """The checked, bound plan and its display frame, read on the main thread for a report."""
    plan = _checked_plan(session)
    source = _layers.image_source(session.image_layer())
    return plan, (None if source is None else source.frame(plan.image.frame_index))


def write_report_file(plan: Plan, frame: Any, path: str | Path) -> int:
    """Write the report (PDF, PNG or HTML by suffix); pages written.  Pure: safe in a worker."""
    from needleplan.report import write_report

    return write_report(plan, path, frame=frame)


def _checked_plan(session: PlanSession) -> Plan:
    from needleplan.errors import CalibrationError, NeedleplanError

    plan = session.build_plan()
    if plan is None:
        raise NeedleplanError("no image is open; open an ultrasound DICOM first")
    if not plan.calibration.is_calibrated:
        raise CalibrationError("this image has no length calibration, so the plan has no millimetres; "
                               "calibrate with two points of known distance first")
    return session.with_binding(plan)


def _image_path(plan: Plan, plan_path: Path) -> Path | None:
    if not plan.image.path:
        return None
    p = Path(plan.image.path)
    if not p.is_absolute():
        p = plan_path.parent / p
    if not p.exists():  # moved together with the plan: look beside it
        beside = plan_path.parent / p.name
        p = beside if beside.exists() else p
    return p


def _find_or_open_image(session: PlanSession, plan: Plan, plan_path: Path) -> Any:
    from needleplan.errors import ImageReadError
    from needleplan.io import open_image

    for layer in session.viewer.layers:
        src = _layers.image_source(layer)
        if src is not None and plan.image.sop_instance_uid and src.info.sop_instance_uid == plan.image.sop_instance_uid:
            return layer
    path = _image_path(plan, plan_path)
    if path is None or not path.exists():
        raise ImageReadError(f"the plan's image {plan.image.path!r} was not found; open that image, then the plan")
    data, kwargs, _ = _layers.image_layer_data(open_image(path))
    return session.viewer.add_image(data, **kwargs)


def inputs_from_plan(plan: Plan) -> Any:
    """The form values a plan carries."""
    from needleplan_napari._session import PlanInputs

    p, n = plan.patient, plan.needle
    return PlanInputs(
        site=plan.site, approach=plan.approach,
        needle_length_mm=38.0 if n is None else n.length_mm, gauge=None if n is None else n.gauge,
        bmi=p.bmi, weight_kg=p.weight_kg, sex=p.sex,
        lung_disease=bool(p.lung_disease), anticoagulated=bool(p.anticoagulated),
        injectate=tuple((i.drug, i.concentration_pct, i.volume_ml, i.epinephrine) for i in plan.injectate),
    )


def open_plan(session: PlanSession, path: str | Path, *, force: bool = False) -> Plan:
    """Open a plan file: its image, calibration, marks, needle and form values.

    Raises
    ------
    needleplan.errors.ImageBindingError
        The image is not the frame the plan was made on (unless ``force``).
    """
    from needleplan.plan import load_plan, verify_binding

    path = Path(path)
    plan = load_plan(path)
    image = _find_or_open_image(session, plan, path)
    verify_binding(plan, _layers.image_source(image), force=force)
    session.viewer.layers.selection.active = image
    if _layers.image_calibration(image) != plan.calibration:
        apply_calibration(session, plan.calibration)
    with _quiet(session):
        for layer in list(session.viewer.layers):
            meta = getattr(layer, "metadata", {}).get(_layers.META, {})
            if meta.get("role") in ("structure", "needle"):
                session.viewer.layers.remove(layer)
        for kind, group in by_kind(plan.structures).items():
            _layers.draw_structures(session.kind_layer(kind), group, image)
        session.inputs = inputs_from_plan(plan)
        if plan.needle is not None:
            session.set_needle(plan.needle.entry_mm, plan.needle.target_mm, plan.image.frame_index)
        if image.ndim == 3:
            session.viewer.dims.set_current_step(0, plan.image.frame_index)
    session.loaded_plan = plan
    session.refresh(force=True)
    return plan


def by_kind(structures: Any) -> dict[str, list]:
    """Structures grouped by the layer they are drawn in (unknown kinds go to ``other``)."""
    out: dict[str, list] = {}
    for s in structures:
        out.setdefault(s.kind if s.kind in _layers.STYLES else "other", []).append(s)
    return out


class _quiet:
    """Pause the session's live checks while many layers change at once."""

    def __init__(self, session: PlanSession) -> None:
        self.session = session
        self.was = session.enabled

    def __enter__(self) -> None:
        self.session.disable()

    def __exit__(self, *exc: Any) -> None:
        if self.was:
            self.session.enable()


def two_point_calibration(session: PlanSession, p0_world: Any, p1_world: Any, distance_mm: float) -> Calibration:
    """Calibrate the (uncalibrated) image from two world points ``distance_mm`` apart, and apply it.

    The points are where the user clicked (world = pixel indices on an uncalibrated image), e.g.
    two 1 cm ticks of the depth ruler.  World (0, 0) stays at pixel (0, 0).
    """
    from needleplan.calibration import manual_calibration

    image = session.image_layer()
    p0, p1 = _layers.world_to_index(image, [p0_world, p1_world])[:, -2:]
    cal = manual_calibration(p0, p1, distance_mm)
    apply_calibration(session, cal)
    return cal


def apply_calibration(session: PlanSession, cal: Calibration) -> None:
    """Put a calibration on the image layer and move every mark to the new world coordinates.

    Each mark keeps the image pixels it was drawn on: world -> image index (old geometry) ->
    world (new geometry), with its type, colour and per-shape fields.
    """
    image = session.image_layer()
    with _quiet(session):
        moves = []
        for layer in list(session.viewer.layers):
            meta = getattr(layer, "metadata", {}).get(_layers.META, {})
            if meta.get("role") in ("structure", "needle", "calibration") and len(layer.data):
                moves.append((layer, _layers.image_indices_of(layer, image)))
        kw = _layers.set_image_calibration(image, cal)
        for layer, indices in moves:
            _layers.place_at_image_indices(layer, image, indices, kw["units"])
            kind = layer.metadata[_layers.META].get("kind")
            if kind in _layers.STYLES:  # widths were pixels, now millimetres
                layer.edge_width = _layers.STYLES[kind].edge_width_mm
                layer.current_edge_width = _layers.STYLES[kind].edge_width_mm
    session.refresh(force=True)


def saved_differences(plan: Plan, report: Any) -> list[str]:
    """Finding codes that appeared or went away since the plan was saved (docs/contracts.md §4)."""
    if not plan.findings or report is None:
        return []
    before = {f.get("code") for f in plan.findings}
    now = set(report.codes)
    return ([f"new since saved: {c}" for c in sorted(now - before)]
            + [f"gone since saved: {c}" for c in sorted(before - now)])

