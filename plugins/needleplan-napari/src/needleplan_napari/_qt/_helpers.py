"""Small Qt helpers of the dock widget: key-binding callables, spin boxes, combo boxes, overlays."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QComboBox, QDoubleSpinBox

__all__ = ["MarkKey", "Call", "canvas_overlay", "spin", "set_combo"]


class MarkKey:
    """A key binding that starts marking one kind (a small callable, not a closure: easy to unbind)."""

    def __init__(self, widget: Any, kind: str) -> None:
        self.widget, self.kind = widget, kind

    def __call__(self, viewer: Any) -> None:
        self.widget.mark(self.kind)


class Call:
    def __init__(self, func: Any) -> None:
        self.func = func

    def __call__(self, viewer: Any) -> None:
        self.func()


def canvas_overlay(viewer: Any, name: str) -> Any:
    """A canvas overlay (``scale_bar``, ``text``): ``viewer.canvas.overlays`` from napari 0.9 on."""
    canvas = getattr(viewer, "canvas", None)
    if canvas is not None:
        return canvas.overlays[name]
    return getattr(viewer, "text_overlay" if name == "text" else name)  # napari < 0.9


def spin(lo: float, hi: float, value: float, suffix: str, special: str | None = None) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(1)
    s.setValue(value)
    s.setSuffix(suffix)
    if special:
        s.setSpecialValueText(special)
    return s


def set_combo(combo: QComboBox, text: str, add: bool = False) -> None:
    i = combo.findText(text)
    if i < 0 and add:
        combo.addItem(text)
        i = combo.count() - 1
    if i >= 0:
        combo.setCurrentIndex(i)
