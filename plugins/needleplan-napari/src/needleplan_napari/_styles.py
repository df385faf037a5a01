"""How each structure kind is drawn: napari shape type, colours and edge width in mm."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MARK_KINDS", "KindStyle", "STYLES"]

MARK_KINDS: tuple[str, ...] = (
    "target", "pleura", "rib", "vessel", "artery", "vein", "nerve", "skin", "bone",
)


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How one structure kind is drawn: napari shape type, colours, edge width in mm."""

    shape_type: str
    edge_color: str
    face_color: str
    edge_width_mm: float = 0.4


STYLES: dict[str, KindStyle] = {
    "target": KindStyle("ellipse", "#ffd400", "#ffd40033"),
    "pleura": KindStyle("path", "#00e5ff", "transparent", 0.5),
    "rib": KindStyle("path", "#f5f5f5", "transparent", 0.6),
    "vessel": KindStyle("ellipse", "#ff3030", "#ff303026"),
    "artery": KindStyle("ellipse", "#ff3030", "#ff303026"),
    "vein": KindStyle("ellipse", "#3d7bff", "#3d7bff26"),
    "nerve": KindStyle("ellipse", "#b6ff3d", "#b6ff3d26"),
    "skin": KindStyle("path", "#ffb38a", "transparent", 0.4),
    "bone": KindStyle("path", "#d9d2c5", "transparent", 0.6),
    "fascia": KindStyle("path", "#c58aff", "transparent", 0.3),
    "viscera": KindStyle("polygon", "#ff8c00", "#ff8c0026"),
    "other": KindStyle("polygon", "#aaaaaa", "#aaaaaa22"),
    "needle": KindStyle("line", "#39ff14", "transparent", 0.35),
}
