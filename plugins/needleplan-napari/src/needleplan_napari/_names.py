"""The plugin's names as napari knows them (the manifest's ``name`` and widget display names)."""

from __future__ import annotations

__all__ = ["PLUGIN", "PLAN_WIDGET", "TEACHING_WIDGET", "PACS_WIDGET"]

#: The npe2 plugin name (``napari.yaml`` ``name``; the entry point in pyproject.toml).
PLUGIN = "needleplan-napari"
PLAN_WIDGET = "Needle Plan"
TEACHING_WIDGET = "Teaching case"
PACS_WIDGET = "PACS"
