"""The npe2 manifest: valid, and every python_name importable exactly as napari imports it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.gui

MANIFEST = Path(__file__).resolve().parents[1] / "src" / "needleplan_napari" / "napari.yaml"


def _python_names() -> list[str]:
    data = yaml.safe_load(MANIFEST.read_text())
    return [c["python_name"] for c in data["contributions"]["commands"]]


def test_npe2_validate_with_imports():
    out = subprocess.run(
        [sys.executable, "-m", "npe2", "validate", "needleplan-napari", "--imports"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in (out.stdout + out.stderr).lower()


@pytest.mark.parametrize("python_name", _python_names())
def test_manifest_command_importable(python_name):
    module_name, _, attr = python_name.partition(":")
    assert callable(getattr(importlib.import_module(module_name), attr))


def test_core_import_stays_qt_free():
    code = (
        "import sys, needleplan, needleplan.cli, needleplan.cli.view, needleplan.safety, needleplan.plan; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('napari', 'qtpy', 'PyQt6', 'PyQt5', 'PySide6', "
        "'magicgui', 'vispy')]; print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_qt_binding_only_in_the_testing_extra():
    import tomllib

    meta = tomllib.loads((MANIFEST.parents[2] / "pyproject.toml").read_text())["project"]
    assert not any(d.lower().startswith(("pyqt", "pyside")) for d in meta["dependencies"])
    assert any(d.lower().startswith("pyqt6") for d in meta["optional-dependencies"]["testing"])
    assert meta["entry-points"]["napari.manifest"]["needleplan-napari"] == "needleplan_napari:napari.yaml"
