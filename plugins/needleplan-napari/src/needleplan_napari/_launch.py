"""Open napari with the Needle Plan widget docked and an image or plan loaded (``needleplan view``).

The core's ``needleplan view`` command checks its argument and hands over here, so the headless
core never imports napari or Qt itself.
"""

from __future__ import annotations

from pathlib import Path

from needleplan_napari._names import PLAN_WIDGET, PLUGIN

__all__ = ["launch"]


def launch(path: Path, *, is_plan: bool) -> int:
    """Open the viewer, dock the widget, load ``path`` (a plan or an image), run the event loop."""
    import napari

    viewer = napari.Viewer(title="needleplan")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
    if is_plan:
        widget.session.files.open(path)  # the model raises the core's own error, one line for the CLI
    else:
        viewer.open(str(path), plugin=PLUGIN)
    napari.run()
    return 0
