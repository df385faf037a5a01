"""The planning session: the viewer's layers -> a core ``Plan`` -> ``check_plan``, live.

Qt-free (napari models and psygnal only), so the dock widget stays a thin view.  The session
listens to the data events of every shapes layer and rebuilds the plan on each one (a dragged
needle end fires ``set_data`` on every mouse move), runs the safety check and emits
:attr:`PlanSession.updated`; then it redraws the overlays (deepest safe insertion tick, dashed
overshoot, margin bands).  Callbacks are connected by :meth:`enable` and removed by
:meth:`disable`, and both are idempotent, so hiding and re-showing the dock never piles them up.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from psygnal import Signal

from needleplan_napari import _layers
from needleplan_napari._drawing import OverlayPainter
from needleplan_napari._plan_io import PlanFiles
from needleplan_napari._state import PlanInputs, SessionState

if TYPE_CHECKING:
    import napari
    from napari.layers import Image, Layer, Shapes

    from needleplan.calibration import Calibration
    from needleplan.io import UltrasoundRegion
    from needleplan.plan import Plan
    from needleplan.planner import AngleWindow

__all__ = ["PlanSession"]


class PlanSession:
    """Layers <-> plan, the live safety check, suggestions and the keyboard shortcuts.

    Parameters
    ----------
    viewer : napari.Viewer
        The viewer (a ``PublicOnlyProxy`` when given to a plugin; only public API is used).
    """

    updated = Signal(object)  # SessionState
    suggested = Signal(object)  # the suggested Plan (or None when it was cleared)
    inputs_loaded = Signal(object)  # PlanInputs taken from a plan (sample data, opened plan)
    image_added = Signal(object)  # a plugin image layer was added: the view shows it first (show_home)

    def __init__(self, viewer: napari.Viewer) -> None:
        self.viewer = viewer
        self.inputs = PlanInputs()
        self.state = SessionState()
        self.suggestion: Plan | None = None
        self.loaded_plan: Plan | None = None
        self._enabled = False
        self._watched: list[Layer] = []
        self._painter = OverlayPainter(viewer)
        self.files = PlanFiles(self)  # save, open, calibrate: the plan's files and the image's calibration

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._enabled

    def enable(self) -> None:
        """Connect to the viewer (idempotent)."""
        if self._enabled:
            return
        self._enabled = True
        self.viewer.layers.events.inserted.connect(self._on_inserted)
        self.viewer.layers.events.removed.connect(self._on_removed)
        for layer in list(self.viewer.layers):
            self._watch(layer)
            self._adopt_plan(layer)
        self.refresh(force=True)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Pause the live checks while many layers change at once (then resume if it was on)."""
        was = self._enabled
        self.disable()
        try:
            yield
        finally:
            if was:
                self.enable()

    def disable(self) -> None:
        """Disconnect every callback this session made (idempotent)."""
        if not self._enabled:
            return
        self._enabled = False
        self.viewer.layers.events.inserted.disconnect(self._on_inserted)
        self.viewer.layers.events.removed.disconnect(self._on_removed)
        for layer in self._watched:
            self._unwatch(layer)
        self._watched.clear()

    def connection_count(self) -> int:
        """How many layer callbacks are live (for the pile-up test)."""
        n = 0
        for layer in self.viewer.layers:
            for emitter in (layer.events.data, layer.events.set_data, layer.events.name):
                n += sum(1 for cb in emitter.callbacks if _is_ours(cb, self))
        return n

    def _watch(self, layer: Layer) -> None:
        if layer.__class__.__name__ != "Shapes" or self._painter.owns(layer) or layer in self._watched:
            return
        # first: the findings panel is updated before napari re-renders the moved shape
        layer.events.data.connect(self._on_layer_event, position="first")
        layer.events.set_data.connect(self._on_layer_event, position="first")
        layer.events.name.connect(self._on_layer_event)
        self._watched.append(layer)

    def _unwatch(self, layer: Layer) -> None:
        for emitter in (layer.events.data, layer.events.set_data, layer.events.name):
            emitter.disconnect(self._on_layer_event)

    def _on_inserted(self, event: Any) -> None:
        self._watch(event.value)
        self._adopt_plan(event.value)
        self.refresh()
        if _layers.role_of_layer(event.value) == "image":
            self.image_added.emit(event.value)

    def _adopt_plan(self, layer: Layer) -> None:
        """A sample image carries its reference plan: take its site, patient and needle choices."""
        plan = getattr(layer, "metadata", {}).get(_layers.META, {}).get("plan")
        if plan is None or plan is self.loaded_plan:
            return
        self.loaded_plan = plan
        self.load_inputs(PlanInputs.from_plan(plan))

    def load_inputs(self, inputs: PlanInputs) -> None:
        """Take the form values of a plan (sample data, an opened plan): the form shows them."""
        self.inputs = inputs
        self.inputs_loaded.emit(inputs)

    def _on_removed(self, event: Any) -> None:
        if event.value in self._watched:
            self._unwatch(event.value)
            self._watched.remove(event.value)
        self.refresh()

    def _on_layer_event(self, event: Any = None) -> None:
        layer = getattr(event, "source", None)
        if (
            str(getattr(event, "action", "")) == "added"
            and _layers.kind_of_layer(layer) == "needle"
            and len(layer.data) > 1
        ):
            # one needle: a line drawn in the needle layer replaces the previous one
            layer.selected_data = set(range(len(layer.data) - 1))
            layer.remove_selected()
            return  # the removal's own events refresh the check
        self.refresh()

    # --- layers -------------------------------------------------------------------------------

    def image_layer(self) -> Image | None:
        return _layers.viewer_image_layer(self.viewer)

    def regions(self) -> tuple[UltrasoundRegion, ...] | None:
        """The image's ultrasound regions (for CROSS_REGION), as ``needleplan check --image`` uses."""
        source = _layers.image_source(self.image_layer())
        return None if source is None else source.info.regions

    def calibration(self) -> Calibration | None:
        image = self.image_layer()
        return None if image is None else _layers.image_calibration(image)

    def kind_layer(self, kind: str, *, create: bool = True) -> Shapes | None:
        """The shapes layer holding marks of ``kind`` (``needle`` for the needle); made on demand."""
        for layer in self.viewer.layers:
            if layer.__class__.__name__ == "Shapes" and _layers.kind_of_layer(layer) == kind:
                return layer
        image = self.image_layer()
        if not create or image is None:
            return None
        return self.viewer.add_shapes(**_layers.shapes_layer_kwargs(kind, image))

    def start_marking(self, kind: str) -> Shapes | None:
        """One click: select the kind's layer and put it in the drawing mode of its shape type."""
        layer = self.kind_layer(kind)
        if layer is None:
            return None
        self.viewer.layers.selection.active = layer
        layer.mode = "add_" + _layers.STYLES[kind].shape_type
        return layer

    def set_needle(self, entry_mm: Sequence[float], tip_mm: Sequence[float], frame_index: int | None = None) -> None:
        """Draw (or move) the needle from entry to tip, world mm ``(row, col)``."""
        from needleplan.plan import Needle

        layer = self.kind_layer("needle")
        if frame_index is None:
            frame_index = self.current_frame()
        needle = Needle(tuple(entry_mm), tuple(tip_mm), self.inputs.needle_length_mm, self.inputs.gauge)
        data = _layers.to_layer_data(layer, _layers.needle_shape(needle, self.image_layer(), frame_index))
        if len(layer.data) == 1 and layer.shape_type == ["line"]:
            layer.data = [data]  # a move: keeps the line's style
        else:
            if len(layer.data):
                layer.data = []
            layer.add_lines(
                [data],
                edge_width=_layers.STYLES["needle"].edge_width_mm,
                edge_color=_layers.STYLES["needle"].edge_color,
            )

    def add_structure(
        self,
        kind: str,
        points_mm: Iterable[Sequence[float]],
        shape_type: str | None = None,
        frame_index: int | None = None,
    ) -> None:
        """Add one mark of ``kind`` with world vertices ``(row, col)`` (an ellipse: 4 corners)."""
        from needleplan.plan import Structure

        layer = self.kind_layer(kind)
        shape_type = shape_type or _layers.STYLES[kind].shape_type
        if frame_index is None:
            frame_index = self.current_frame()
        pts = [[float(r), float(c)] for r, c in points_mm]
        extra = {"napari_shape": shape_type, "corners_mm": pts} if shape_type in ("ellipse", "rectangle") else {}
        closed = shape_type not in ("path", "line")
        _layers.draw_structures(
            layer, [Structure(kind, tuple(map(tuple, pts)), closed, frame_index, extra=extra)], self.image_layer()
        )

    def current_frame(self) -> int | None:
        return _layers.frame_of_world(self.image_layer(), np.asarray(self.viewer.dims.point, float))

    # --- the plan -----------------------------------------------------------------------------

    def set_inputs(self, inputs: PlanInputs) -> None:
        self.inputs = inputs
        self.refresh()

    def build_plan(self) -> Plan | None:
        """The plan the layers and the form describe now, or ``None`` without a plugin image."""
        from needleplan.plan import ImageBinding, Injectate, Needle, Patient, Plan

        image = self.image_layer()
        if image is None:
            return None
        cal = _layers.image_calibration(image)
        source = _layers.image_source(image)
        structures: list = []
        needle = None
        base = self.loaded_plan  # its author, notes and unknown fields, if it is this image's plan
        if base is not None and source is not None and base.image.sop_instance_uid != source.info.sop_instance_uid:
            base = None
        frame = self.current_frame() or 0
        if cal.is_calibrated:  # without a length calibration nothing is handed over as mm
            for layer in self.viewer.layers:
                kind = _layers.kind_of_layer(layer) if layer.__class__.__name__ == "Shapes" else None
                if kind and kind != "needle":
                    structures.extend(_layers.layer_structures(layer, kind, image))
            got = _layers.needle_from_layer(self.kind_layer("needle", create=False), image)
            if got is not None:
                entry, tip, nframe = got
                frame = nframe if nframe is not None else frame
                needle = Needle(entry, tip, self.inputs.needle_length_mm, self.inputs.gauge, _extra(base, "needle"))
        i = self.inputs
        injectate = tuple(Injectate(d, c, v, e) for d, c, v, e in i.injectate)
        if base is not None and injectate == tuple(replace(x, extra={}) for x in base.injectate):
            injectate = base.injectate  # unchanged: keep their unknown fields
        return Plan(
            image=ImageBinding(
                path=None if source is None else str(source.info.path),
                sop_instance_uid=None if source is None else source.info.sop_instance_uid,
                frame_index=frame,
                extra=_extra(base, "image"),
            ),
            calibration=cal,
            site=i.site,
            approach=i.approach,
            patient=Patient(i.bmi, i.weight_kg, i.sex, i.lung_disease, i.anticoagulated, _extra(base, "patient")),
            structures=tuple(structures),
            needle=needle,
            injectate=injectate,
            author=None if base is None else base.author,
            created=None if base is None else base.created,
            notes=None if base is None else base.notes,
            extra={} if base is None else base.extra,
        )

    def refresh(self, force: bool = False) -> SessionState:
        """Rebuild the plan; if it changed, check it, emit :attr:`updated`, redraw the overlays."""
        from needleplan.safety import check_plan

        plan = self.build_plan()
        if not force and plan == self.state.plan and plan is not None:
            return self.state
        if plan is None:
            self.state = SessionState()
        else:
            from needleplan.errors import NeedleplanError

            try:
                # the one core call per change: findings, metrics and the margins it applied
                self.state = SessionState(plan.calibration, plan, check_plan(plan, regions=self.regions()))
            except NeedleplanError as exc:  # a drawing the core refuses: say why, check nothing
                self.state = SessionState(plan.calibration, plan, None, " ".join(str(exc).split()))
        self.updated.emit(self.state)
        self._painter.paint(self.state, self.image_layer())
        return self.state

    # --- suggestion -----------------------------------------------------------------------------

    def suggestion_work(self) -> Callable[[], tuple[Plan | None, AngleWindow]] | None:
        """The pure core call behind "Suggest" (safe in a worker thread), or None without a needle.

        The widget runs it (in a napari worker) and hands the result to :meth:`show_suggestion`.
        """
        plan = self.state.plan
        if plan is None or plan.needle is None or not plan.calibration.is_calibrated:
            return None

        def work() -> tuple[Plan | None, AngleWindow]:
            from needleplan.planner import safe_angle_window, suggest

            return suggest(plan), safe_angle_window(plan)  # the core is pure: safe off the main thread

        return work

    def show_suggestion(self, result: tuple[Plan | None, AngleWindow]) -> None:
        """Draw a suggestion (trajectory and angle window) and tell the widget."""
        suggestion, window = result
        self.suggestion = suggestion
        self._painter.paint_suggestion(suggestion, window, self.image_layer())
        self.suggested.emit(suggestion)

    def accept_suggestion(self) -> None:
        """Move the needle to the suggested trajectory."""
        if self.suggestion is None or self.suggestion.needle is None:
            return
        n = self.suggestion.needle
        self.set_needle(n.entry_mm, n.target_mm, self.suggestion.image.frame_index)
        self.suggestion = None
        self._painter.paint_suggestion(None, None, self.image_layer())
        self.suggested.emit(None)

    def with_binding(self, plan: Plan) -> Plan:
        """The plan with the frame's pixel SHA-256 (computed only when saving)."""
        source = _layers.image_source(self.image_layer())
        if source is None:
            return plan
        sha = source.frame_sha256(plan.image.frame_index)
        return replace(plan, image=replace(plan.image, pixel_sha256=sha))


def _extra(base: Plan | None, part: str) -> dict:
    """Unknown fields of a part of the plan that was opened (kept on save, docs/contracts.md §4)."""
    obj = None if base is None else getattr(base, part)
    return dict(obj.extra) if obj is not None else {}


def _is_ours(callback: Any, session: PlanSession) -> bool:
    """napari keeps a bound-method callback as ``(weakref(obj), name)``."""
    if isinstance(callback, tuple) and callback and isinstance(callback[0], weakref.ref):
        return callback[0]() is session
    return getattr(callback, "__self__", None) is session
