"""The grid of "mark a kind" buttons, with their Alt+letter shortcuts."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QGridLayout, QPushButton, QWidget

from needleplan_napari._styles import MARK_KINDS, NEEDLE

__all__ = ["MarkButtons", "SHORTCUTS", "BUTTON_KINDS"]

#: Alt+key: napari's own Shift+letter shortcuts (polygon lasso, polyline, select all...) stay intact.
SHORTCUTS = {
    "Alt-T": "target",
    "Alt-P": "pleura",
    "Alt-R": "rib",
    "Alt-V": "vessel",
    "Alt-A": "artery",
    "Alt-E": "vein",
    "Alt-N": "nerve",
    "Alt-K": "skin",
    "Alt-B": "bone",
    "Alt-X": "neuraxis",
    "Alt-L": "needle",
}
#: One button per kind a physician marks, then the needle.
BUTTON_KINDS: tuple[str, ...] = (*MARK_KINDS, NEEDLE)
_PER_ROW = 5


class MarkButtons(QWidget):
    """One button per kind; a click calls ``mark(kind)``."""

    def __init__(self, mark: Callable[[str], object]) -> None:
        super().__init__()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        keys = {v: k for k, v in SHORTCUTS.items()}
        self.buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate(BUTTON_KINDS):
            b = QPushButton(kind.capitalize())
            b.setToolTip(f"Mark {kind} ({keys[kind].replace('-', '+')})")
            b.clicked.connect(lambda _=False, k=kind: mark(k))
            grid.addWidget(b, i // _PER_ROW, i % _PER_ROW)
            self.buttons[kind] = b
