"""The plugin's model modules (everything outside ``_qt/``) never import Qt, napari's Qt layer or magicgui.

Two checks: every model module imports in a fresh interpreter where those packages cannot be
imported at all, and no model module names them in any import statement (function-level imports
included, which the first check would only catch when the function runs).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "needleplan_napari"
QT = (
    "qtpy",
    "PyQt5",
    "PyQt6",
    "PySide2",
    "PySide6",
    "magicgui",
    "vispy",
    "napari._qt",
    "napari.qt",
    "napari._vispy",
    "napari.window",
)


def _model_modules() -> list[str]:
    return sorted(f"needleplan_napari.{p.stem}" for p in PACKAGE.glob("_*.py"))


def _is_qt(name: str) -> bool:
    return any(name == q or name.startswith(q + ".") for q in QT)


def test_there_is_a_model_and_a_qt_package():
    names = _model_modules()
    # the session, plan files, layer adapter and the session's values are model modules
    for m in ("_session", "_plan_io", "_layers", "_state", "_drawing", "_ruler"):
        assert f"needleplan_napari.{m}" in names
    assert (PACKAGE / "_qt" / "_plan_widget.py").exists()
    assert not (PACKAGE / "_widget.py").exists()


def test_model_modules_name_no_qt_import():
    offenders = []
    for path in sorted(PACKAGE.glob("_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                offenders += [(path.name, a.name) for a in node.names if _is_qt(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and _is_qt(node.module):
                offenders.append((path.name, node.module))
    assert offenders == []


def test_model_modules_import_where_qt_cannot(tmp_path):
    # A meta-path finder that refuses the Qt packages: any import of them raises ImportError.
    script = f"""
import importlib, sys
QT = {QT!r}
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if any(name == q or name.startswith(q + ".") for q in QT):
            raise ImportError("Qt refused in the model: " + name)
        return None
sys.meta_path.insert(0, Refuse())
for m in {_model_modules()!r}:
    importlib.import_module(m)
print("ok", len({_model_modules()!r}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ok", str(len(_model_modules()))]
