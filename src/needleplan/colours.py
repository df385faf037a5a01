"""The one colour and symbol of every structure kind, on screen and on paper.

A physician who learnt that the pleura is the cyan line in napari must find the same cyan line on
the printed report.  Colours are chosen to read on a dark B-mode image; on white paper every mark
is drawn over a dark outline (:data:`OUTLINE`), so the light ones (rib, pleura) stay visible in a
legend on white.  Keys are the plan's structure kind strings (:class:`needleplan.vocabulary.StructureKind`)
plus ``"needle"``.

Examples
--------
>>> kind_style("pleura").colour, kind_style("pleura").words
('#00e5ff', 'pleura')
>>> kind_style("unknown kind") is kind_style("other")
True
>>> rgba("#ff3030", 0.15)
(1.0, 0.188, 0.188, 0.15)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["KindStyle", "KIND_STYLES", "OUTLINE", "SEVERITY_COLOURS", "kind_style", "rgba"]

#: drawn under every mark on paper so that light colours read on white
OUTLINE = "#000000"

#: text colour of a finding by severity, dark enough to read on white paper (never on a red field)
SEVERITY_COLOURS: Mapping[str, str] = MappingProxyType({"block": "#b00000", "warn": "#8a4b00", "info": "#1f4e99"})


@dataclass(frozen=True, slots=True)
class KindStyle:
    """How one structure kind looks everywhere.

    Attributes
    ----------
    colour : str
        ``#rrggbb``, the edge colour on screen and the line colour on paper.
    symbol : str
        The napari shape type the kind is drawn as: ``"ellipse"``, ``"path"``, ``"polygon"`` or
        ``"line"``; on paper a path is an open line and the others are closed outlines.
    face_alpha : float
        Opacity of the fill of closed shapes (0: no fill).
    width_mm : float
        Edge width in millimetres of the image.
    words : str
        The kind in a physician's words, for legends.
    """

    colour: str
    symbol: str
    face_alpha: float
    width_mm: float
    words: str


_S = KindStyle
KIND_STYLES: Mapping[str, KindStyle] = MappingProxyType(
    {
        "target": _S("#ffd400", "ellipse", 0.2, 0.4, "target (taut band)"),
        "pleura": _S("#00e5ff", "path", 0.0, 0.5, "pleura"),
        "neuraxis": _S("#ff4fd8", "path", 0.0, 0.5, "neuraxis (ligamentum flavum / dura)"),
        "rib": _S("#f5f5f5", "path", 0.0, 0.6, "rib"),
        "bone": _S("#d9d2c5", "path", 0.0, 0.6, "bone"),
        "vessel": _S("#ff3030", "ellipse", 0.15, 0.4, "vessel"),
        "artery": _S("#ff3030", "ellipse", 0.15, 0.4, "artery"),
        "vein": _S("#3d7bff", "ellipse", 0.15, 0.4, "vein"),
        "nerve": _S("#b6ff3d", "ellipse", 0.15, 0.4, "nerve"),
        "skin": _S("#ffb38a", "path", 0.0, 0.4, "skin surface"),
        "fascia": _S("#c58aff", "path", 0.0, 0.3, "fascia"),
        "viscera": _S("#ff8c00", "polygon", 0.15, 0.4, "organ (viscera)"),
        "other": _S("#aaaaaa", "polygon", 0.13, 0.4, "other marked structure"),
        "needle": _S("#39ff14", "line", 0.0, 0.35, "needle"),
    }
)


def kind_style(kind: str) -> KindStyle:
    """The style of ``kind``; an unknown kind is drawn as ``"other"``."""
    return KIND_STYLES.get(kind, KIND_STYLES["other"])


def rgba(colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``#rrggbb`` and an opacity as an RGBA tuple of floats in 0..1 (rounded to 3 decimals)."""
    value = colour.lstrip("#")
    r, g, b = (round(int(value[i : i + 2], 16) / 255.0, 3) for i in (0, 2, 4))
    return (r, g, b, float(alpha))
