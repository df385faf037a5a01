"""The headless core imports no Qt, napari, vispy or magicgui (docs/contracts.md §2)."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("qtpy", "napari", "PyQt6", "PyQt5", "PySide6", "vispy", "magicgui")

SCRIPT = f"""
import importlib, pkgutil, sys
import needleplan
names = []
for info in pkgutil.walk_packages(needleplan.__path__, "needleplan."):
    if info.name.endswith("__main__"):
        continue  # running it would run the command line
    importlib.import_module(info.name)
    names.append(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})
print(len(names), ",".join(bad))
"""


def test_importing_every_core_module_pulls_in_no_gui() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    count, bad = proc.stdout.strip().split(" ", 1) if " " in proc.stdout.strip() else (proc.stdout.strip(), "")
    assert int(count) >= 5  # calibration, io and its parts, cli... were really imported
    assert bad == "", f"GUI modules imported by the core: {bad}"
