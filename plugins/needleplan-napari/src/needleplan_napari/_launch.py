"""Open napari with the Needle Plan widget docked and an image or plan loaded (``needleplan view``).

The core's ``needleplan view`` command checks its argument and hands over here, so the headless
core never imports napari or Qt itself.
"""

from __future__ import annotations

from pathlib import Path

from needleplan.errors import NeedleplanError

__all__ = ["launch"]

PLUGIN = "needleplan-napari"
WIDGET = "Needle Plan"


def launch(path: Path, *, is_plan: bool) -> int:
    """Open the viewer, dock the widget, load ``path`` (a plan or an image), run the event loop."""
    import napari

    viewer = napari.Viewer(title="needleplan")
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, WIDGET)
    if is_plan:
        if widget.open_plan(path) is None:
            raise NeedleplanError(widget.status.text().replace("<b>Not done:</b> ", ""))
    else:
        viewer.open(str(path), plugin=PLUGIN)
    napari.run()
    return 0
