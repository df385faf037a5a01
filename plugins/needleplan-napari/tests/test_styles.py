"""The plugin draws the core's structure kinds (one vocabulary): every kind has a style, no other kind does."""

from __future__ import annotations

from needleplan.vocabulary import StructureKind
from needleplan_napari._qt._mark_buttons import BUTTON_KINDS, SHORTCUTS
from needleplan_napari._styles import MARK_KINDS, NEEDLE, STYLES


def test_every_core_kind_has_a_style_and_only_the_needle_is_extra():
    assert set(STYLES) == {*(str(k) for k in StructureKind), NEEDLE}


def test_the_mark_buttons_are_core_kinds_and_the_needle_each_with_one_shortcut():
    assert set(MARK_KINDS) <= set(StructureKind)
    assert BUTTON_KINDS == (*MARK_KINDS, NEEDLE)
    assert sorted(SHORTCUTS.values()) == sorted(BUTTON_KINDS)
