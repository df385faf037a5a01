"""The plugin's layer colours are the core's scheme (needleplan.colours): pleura is the same colour
on screen and on paper.  No display needed."""

from __future__ import annotations

from needleplan.colours import KIND_STYLES
from needleplan_napari._styles import STYLES


def test_screen_and_paper_use_the_same_colour_and_symbol_per_kind():
    assert set(STYLES) == set(KIND_STYLES)
    for kind, style in STYLES.items():
        assert style.edge_color.lower() == KIND_STYLES[kind].colour, kind
        assert style.shape_type == KIND_STYLES[kind].symbol, kind
