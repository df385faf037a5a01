"""Structure kinds and site profiles: which hazards a site has and which thresholds it changes.

Every number a profile overrides names its source row in ``docs/clinical-rules.md``.  The profile ids
are the site ids of docs/contracts.md §4.

Examples
--------
>>> SITE_PROFILES["rhomboid"].pneumothorax_class
True
>>> SITE_PROFILES["piriformis"].requires_nerve_mark, SITE_PROFILES["piriformis"].region
(True, 'deep')
>>> hazard_family("artery"), hazard_family("rib"), hazard_family("target")
('vessel', None, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "STRUCTURE_KINDS",
    "HAZARD_FAMILIES",
    "BACKSTOP_KINDS",
    "SiteProfile",
    "SITE_PROFILES",
    "hazard_family",
    "site_profile",
]

#: Structure kinds of docs/contracts.md §4.
STRUCTURE_KINDS: tuple[str, ...] = (
    "target", "pleura", "rib", "bone", "vessel", "artery", "vein", "nerve", "skin", "fascia",
    "viscera", "other",
)

#: Kinds a needle must keep its margin from, by family (the family picks the margin threshold).
HAZARD_FAMILIES: Mapping[str, str] = MappingProxyType({
    "pleura": "pleura", "artery": "vessel", "vessel": "vessel", "vein": "vessel",
    "nerve": "nerve", "viscera": "viscera",
})

#: Kinds a needle cannot pass: a bony backstop stops the tip (R4: "directed down onto the rib").
BACKSTOP_KINDS: frozenset[str] = frozenset({"rib", "bone"})


def hazard_family(kind: str) -> str | None:
    """The hazard family of a structure kind (``pleura``, ``vessel``, ``nerve``, ``viscera``) or None."""
    return HAZARD_FAMILIES.get(kind)


@dataclass(frozen=True, slots=True)
class SiteProfile:
    """What a planning site implies for the safety rules.

    Attributes
    ----------
    id, name : str
        Site id of the plan file and its name in words.
    region : str
        ``thoracic`` (over rib cage or lung apex), ``lumbar``, ``deep`` (gluteal) or ``superficial``.
    expected_hazards : tuple of str
        Structure kinds a physician expects to mark here (shown when they are missing).
    pneumothorax_class : bool
        R1: the site is in the high-risk pneumothorax class.
    requires_pleura_mark : bool
        R2: pleura or rib must be marked.
    requires_nerve_mark : bool
        R11: the sciatic nerve must be marked (piriformis / deep gluteal).
    requires_viscera_mark : bool
        R18: kidney or peritoneum should be marked (lumbar).
    doppler_advised : bool
        R10: power Doppler is advised to rule out arteries (gluteal and deep targets).
    non_compressible : bool
        R17: deep site where pressure cannot be applied (bleeding risk on anticoagulants).
    female_caution : bool
        R6: women have shallower depths here (upper trapezius, rhomboid).
    kim_spd_applies : bool
        R6: the Kim 2002 interscapular skin-to-pleura regression is relevant context here.
    threshold_overrides : mapping
        ``{threshold key: (value, source)}`` replacing entries of the thresholds table.
    """

    id: str
    name: str
    region: str
    expected_hazards: tuple[str, ...] = ()
    pneumothorax_class: bool = False
    requires_pleura_mark: bool = False
    requires_nerve_mark: bool = False
    requires_viscera_mark: bool = False
    doppler_advised: bool = False
    non_compressible: bool = False
    female_caution: bool = False
    kim_spd_applies: bool = False
    threshold_overrides: Mapping[str, tuple[float, str]] = field(default_factory=dict)


def _thoracic(sid: str, name: str, **kw) -> SiteProfile:
    kw.setdefault("expected_hazards", ("pleura", "rib"))
    return SiteProfile(sid, name, "thoracic", pneumothorax_class=True, requires_pleura_mark=True, **kw)


SITE_PROFILES: Mapping[str, SiteProfile] = MappingProxyType({
    "upper_trapezius": _thoracic(
        "upper_trapezius", "upper trapezius", female_caution=True,
        threshold_overrides={"THIN_SPD_MM": (15.0, "clinical-rules.md 1A Chen 2018: GB21 skin to apical "
                                                   "pleura, women 14.6 mm, men 17.4 mm (means)")}),
    "levator_scapulae": _thoracic(
        "levator_scapulae", "levator scapulae (superior scapular angle)",
        expected_hazards=("pleura", "rib", "artery")),  # R10: dorsal scapular artery seen in 94% (Cho 2019)
    "rhomboid": _thoracic(
        "rhomboid", "rhomboid major", female_caution=True, kim_spd_applies=True,
        expected_hazards=("pleura", "rib", "artery"),
        threshold_overrides={"THIN_SPD_MM": (30.0, "clinical-rules.md 1A Kim 2002: interscapular SPD "
                                                   "37±7 mm, mean - 1 SD = 30 mm [inference]")}),
    "thoracic_paraspinal": _thoracic(
        "thoracic_paraspinal", "thoracic paraspinals / iliocostalis", kim_spd_applies=True,
        threshold_overrides={"THIN_SPD_MM": (30.0, "clinical-rules.md 1A Kim 2002: interscapular SPD "
                                                   "37±7 mm, mean - 1 SD = 30 mm [inference]")}),
    "serratus_anterior": _thoracic("serratus_anterior", "serratus anterior"),
    "quadratus_lumborum": SiteProfile(
        "quadratus_lumborum", "quadratus lumborum", "lumbar", ("viscera", "bone"),
        requires_viscera_mark=True, non_compressible=True),
    "gluteus_maximus": SiteProfile(
        "gluteus_maximus", "gluteus maximus", "deep", ("artery",), doppler_advised=True),
    "gluteus_medius": SiteProfile(
        "gluteus_medius", "gluteus medius", "deep", ("artery",), doppler_advised=True,
        non_compressible=True),
    "piriformis": SiteProfile(
        "piriformis", "piriformis", "deep", ("nerve", "artery"), requires_nerve_mark=True,
        doppler_advised=True, non_compressible=True),
    "other": SiteProfile("other", "other site", "superficial"),
})


def site_profile(site: str) -> SiteProfile:
    """The profile of a site id; unknown ids (allowed by docs/contracts.md: "more may be added") use ``other``."""
    return SITE_PROFILES.get(site, SITE_PROFILES["other"])
