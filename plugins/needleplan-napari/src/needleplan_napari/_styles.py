"""How each structure kind is drawn: napari shape type, colours and edge width in mm.

The kinds are the core's (:class:`needleplan.vocabulary.StructureKind`); ``needle`` is the
plugin's own layer for the needle, which is no structure.
"""

from __future__ import annotations

from dataclasses import dataclass

from needleplan.vocabulary import StructureKind as K

__all__ = ["MARK_KINDS", "NEEDLE", "KindStyle", "STYLES"]

#: The kinds with a "mark" button and a shortcut, in the order of the buttons.
MARK_KINDS: tuple[K, ...] = (K.TARGET, K.PLEURA, K.RIB, K.VESSEL, K.ARTERY, K.VEIN, K.NERVE, K.SKIN, K.BONE,
                             K.NEURAXIS)
#: The needle's layer kind (not a structure kind).
NEEDLE = "needle"


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How one structure kind is drawn: napari shape type, colours, edge width in mm."""

    shape_type: str
    edge_color: str
    face_color: str
    edge_width_mm: float = 0.4


#: One style per structure kind of the core, and the needle's.
STYLES: dict[str, KindStyle] = {
    K.TARGET: KindStyle("ellipse", "#ffd400", "#ffd40033"),
    K.PLEURA: KindStyle("path", "#00e5ff", "transparent", 0.5),
    K.NEURAXIS: KindStyle("path", "#ff4fd8", "transparent", 0.5),
    K.RIB: KindStyle("path", "#f5f5f5", "transparent", 0.6),
    K.VESSEL: KindStyle("ellipse", "#ff3030", "#ff303026"),
    K.ARTERY: KindStyle("ellipse", "#ff3030", "#ff303026"),
    K.VEIN: KindStyle("ellipse", "#3d7bff", "#3d7bff26"),
    K.NERVE: KindStyle("ellipse", "#b6ff3d", "#b6ff3d26"),
    K.SKIN: KindStyle("path", "#ffb38a", "transparent", 0.4),
    K.BONE: KindStyle("path", "#d9d2c5", "transparent", 0.6),
    K.FASCIA: KindStyle("path", "#c58aff", "transparent", 0.3),
    K.VISCERA: KindStyle("polygon", "#ff8c00", "#ff8c0026"),
    K.OTHER: KindStyle("polygon", "#aaaaaa", "#aaaaaa22"),
    NEEDLE: KindStyle("line", "#39ff14", "transparent", 0.35),
}
