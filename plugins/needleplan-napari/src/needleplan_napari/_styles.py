"""How each structure kind is drawn: napari shape type, colours and edge width in mm.

Every value comes from the core's one scheme (:data:`needleplan.colours.KIND_STYLES`), which the
printed report draws with too, so the pleura is the same colour on screen and on paper.  The kinds
are the core's (:class:`needleplan.vocabulary.StructureKind`); ``needle`` is the plugin's own
layer for the needle, which is no structure.

Examples
--------
>>> STYLES["pleura"].edge_color, STYLES["pleura"].face_color
('#00e5ff', 'transparent')
>>> STYLES["target"].face_color   # #ffd400 at the core's face opacity 0.2: round(0.2 * 255) = 51 = 0x33
'#ffd40033'
"""

from __future__ import annotations

from dataclasses import dataclass

from needleplan.colours import KIND_STYLES
from needleplan.colours import KindStyle as CoreKindStyle
from needleplan.vocabulary import StructureKind as K

__all__ = ["MARK_KINDS", "NEEDLE", "KindStyle", "STYLES", "napari_style"]

#: The kinds with a "mark" button and a shortcut, in the order of the buttons.
MARK_KINDS: tuple[K, ...] = (K.TARGET, K.PLEURA, K.RIB, K.VESSEL, K.ARTERY, K.VEIN, K.NERVE, K.SKIN, K.BONE, K.NEURAXIS)
#: The needle's layer kind (not a structure kind).
NEEDLE = "needle"


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How one structure kind is drawn: napari shape type, colours, edge width in mm."""

    shape_type: str
    edge_color: str
    face_color: str
    edge_width_mm: float = 0.4


def napari_style(core: CoreKindStyle) -> KindStyle:
    """The napari drawing of one core style: the fill is the edge colour at the core's face opacity."""
    face = "transparent" if core.face_alpha <= 0 else f"{core.colour}{round(core.face_alpha * 255):02x}"
    return KindStyle(core.symbol, core.colour, face, core.width_mm)


#: One style per structure kind of the core, and the needle's.
STYLES: dict[str, KindStyle] = {kind: napari_style(style) for kind, style in KIND_STYLES.items()}
