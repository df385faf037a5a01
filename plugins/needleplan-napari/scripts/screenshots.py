"""Screenshots of the real napari window with the Needle Plan widget docked (run under Xvfb).

``xvfb-run -a -s "-screen 0 1600x1000x24" python plugins/needleplan-napari/scripts/screenshots.py``
writes ``docs/screenshots/trapezius_thin.png``, ``docs/screenshots/piriformis.png`` and
``docs/screenshots/trapezius_suggest.png`` (the safe angle window and the suggested trajectory) and
``docs/screenshots/uncalibrated.png`` (a real file without calibration: pixels only, two-point
calibration offered) at 1280x800, and copies ``trapezius_thin.png`` to the plugin's ``docs/`` for its
README.  The cases are the bundled samples (``sample_dicom/``) when present, else the same
synthetic presets written by :func:`needleplan.synth.write_case` into a temporary folder.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from needleplan_napari._names import PLAN_WIDGET, PLUGIN

REPO = Path(__file__).resolve().parents[3]
OUT = REPO / "docs" / "screenshots"
PLUGIN_DOCS = Path(__file__).resolve().parents[1] / "docs"
CASES = (
    ("trapezius_thin", "upper_trapezius", "thin"),
    ("piriformis", "piriformis", "average"),
    ("lumbar_paraspinal", "lumbar_paraspinal", "average"),
)


def case_plan(key: str, preset: str, habitus: str, folder: Path) -> Path:
    """The sample's reference plan file (bundled if built, else synthesised into ``folder``)."""
    from needleplan.errors import NeedleplanError
    from needleplan_napari._sample_data import find_sample

    try:
        return find_sample(key)
    except NeedleplanError:
        from needleplan.synth import generate_case, write_case

        written = write_case(generate_case(preset, habitus), folder / f"{preset}_{habitus}.dcm")
        return Path(written.plan_path)


def take(viewer, widget, plan_path: Path, out: Path, *, suggest: bool = False) -> Path:
    """Open a plan in the docked widget, frame the image and save the whole window as PNG."""
    from qtpy.QtWidgets import QApplication

    if widget.open_plan(plan_path) is None:
        raise RuntimeError(widget.status.text())
    if suggest:
        widget.suggest(background=False)
    viewer.reset_view()
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(out), canvas_only=False)
    return out


def main(out_dir: Path = OUT) -> list[Path]:
    import napari

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, preset, habitus in CASES:
            viewer = napari.Viewer(title="needleplan", show=True)
            viewer.window.resize(1280, 800)
            _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
            written.append(take(viewer, widget, case_plan(key, preset, habitus, Path(tmp)), out_dir / f"{key}.png"))
            if key == "trapezius_thin":
                written.append(
                    take(
                        viewer,
                        widget,
                        case_plan(key, preset, habitus, Path(tmp)),
                        out_dir / "trapezius_suggest.png",
                        suggest=True,
                    )
                )
            viewer.close()
    written.append(take_uncalibrated(out_dir / "uncalibrated.png"))
    if out_dir == OUT:  # the plugin's README (napari hub) shows the same picture
        written.append(Path(shutil.copy(out_dir / "trapezius_thin.png", PLUGIN_DOCS / "trapezius_thin.png")))
    return written


def take_uncalibrated(out: Path) -> Path:
    """A real DICOM with no calibration (US1_J2KR.dcm): the panel says so and offers the ruler."""
    import napari
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(title="needleplan", show=True)
    viewer.window.resize(1280, 800)
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, PLAN_WIDGET)
    viewer.open(str(REPO / "tests" / "data" / "real_dicom" / "US1_J2KR.dcm"), plugin=PLUGIN)
    widget.set_needle((100.0, 250.0), (250.0, 300.0))
    for _ in range(5):
        QApplication.processEvents()
    viewer.screenshot(str(out), canvas_only=False)
    viewer.close()
    return out


if __name__ == "__main__":
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(p)
