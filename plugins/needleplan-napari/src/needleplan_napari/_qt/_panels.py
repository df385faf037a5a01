"""What the dock widgets share: the Needle Plan widget, guarded calls, worker threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from needleplan_napari._names import PLAN_WIDGET, PLUGIN

if TYPE_CHECKING:
    import napari
    from napari.qt.threading import FunctionWorker
    from qtpy.QtWidgets import QLabel

    from needleplan_napari._qt._plan_widget import PlanWidget

T = TypeVar("T")

__all__ = ["PLUGIN", "plan_widget", "guarded", "run_worker"]


def plan_widget(viewer: napari.Viewer) -> PlanWidget:
    """The Needle Plan dock widget (docked if it is not yet): its session builds the plan."""
    return viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)[1]


def guarded(status: QLabel, func: Callable[..., T], *args: Any, **kw: Any) -> T | None:
    """``func(*args, **kw)``, or ``None`` with the core's one-line message in the ``status`` label."""
    from needleplan.errors import NeedleplanError

    try:
        return func(*args, **kw)
    except (NeedleplanError, OSError) as exc:
        status.setText(f"<b>Not done:</b> {exc}")
        return None


def run_worker(
    status: QLabel,
    func: Callable[..., T],
    *args: Any,
    done: Callable[[T], None],
    background: bool = True,
    working: str = "Working...",
    failed: str = "Not done",
) -> FunctionWorker | T | None:
    """Run ``func(*args)`` in a napari worker thread; ``done(result)`` runs on the main thread.

    A failure is shown as ``<b>{failed}:</b> message`` in ``status``.  With ``background=False``
    the call runs at once (and its result is returned instead of the worker).
    """
    if not background:
        result = guarded(status, func, *args)
        if result is not None:
            done(result)
        return result
    from napari.qt.threading import create_worker

    from needleplan.errors import NeedleplanError

    def fail(exc: BaseException) -> None:
        why = str(exc) if isinstance(exc, (NeedleplanError, OSError)) else f"{type(exc).__name__}: {exc}"
        status.setText(f"<b>{failed}:</b> {why}")

    status.setText(working)
    # errors are shown in the panel, not re-raised into Qt's event loop
    worker = create_worker(func, *args, _ignore_errors=True)
    worker.returned.connect(done)  # handlers run on the main thread
    worker.errored.connect(fail)
    worker.start()
    return worker
