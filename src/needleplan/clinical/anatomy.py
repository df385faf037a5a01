"""Hazard families and site profiles: which hazards a site has and which thresholds it changes.

Every number a profile overrides names its source row in ``docs/clinical-rules.md``.  The profile ids
are the site ids of docs/contracts.md §4, the members of :class:`needleplan.vocabulary.SiteId`; the
structure kinds are :class:`needleplan.vocabulary.StructureKind`.

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
from typing import Any

from needleplan.vocabulary import SiteId
from needleplan.vocabulary import StructureKind as K

__all__ = [
    "HAZARD_FAMILIES",
    "FamilyMargins",
    "FAMILY_MARGINS",
    "BACKSTOP_KINDS",
    "SiteProfile",
    "SITE_PROFILES",
    "hazard_family",
    "site_profile",
]

#: Kinds a needle must keep its margin from, by family (the family picks the margin threshold).
HAZARD_FAMILIES: Mapping[str, str] = MappingProxyType(
    {
        K.PLEURA: "pleura",
        K.ARTERY: "vessel",
        K.VESSEL: "vessel",
        K.VEIN: "vessel",
        K.NERVE: "nerve",
        K.VISCERA: "viscera",
        K.NEURAXIS: "neuraxis",
    }
)


@dataclass(frozen=True, slots=True)
class FamilyMargins:
    """The thresholds entries of one hazard family's margin: as marked, and marked on another frame.

    ``other_frame`` is None when the family keeps the same margin whatever frame it was marked on.
    """

    same_frame: str
    other_frame: str | None = None


#: The margin thresholds of each hazard family (R3 pleura, R10 vessels, R11 nerves, R18 viscera, R20 neuraxis).
FAMILY_MARGINS: Mapping[str, FamilyMargins] = MappingProxyType(
    {
        "pleura": FamilyMargins("PLEURA_MARGIN_MM", "PLEURA_MARGIN_OTHER_FRAME_MM"),
        "vessel": FamilyMargins("VESSEL_MARGIN_MM"),
        "nerve": FamilyMargins("NERVE_MARGIN_MM"),
        "viscera": FamilyMargins("VISCERA_MARGIN_MM", "VISCERA_MARGIN_OTHER_FRAME_MM"),
        "neuraxis": FamilyMargins("NEURAXIS_MARGIN_MM", "NEURAXIS_MARGIN_OTHER_FRAME_MM"),
    }
)

#: Kinds a needle cannot pass: a bony backstop stops the tip (R4: "directed down onto the rib").
BACKSTOP_KINDS: frozenset[str] = frozenset({K.RIB, K.BONE})


def hazard_family(kind: str) -> str | None:
    """The hazard family of a structure kind (``pleura``, ``vessel``, ``nerve``, ``viscera``) or None."""
    return HAZARD_FAMILIES.get(kind)


@dataclass(frozen=True, slots=True, kw_only=True)
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
    requires_neuraxis_mark : bool
        R20: bone (lamina) or the neuraxis should be marked when the needle can reach the interlaminar
        region (lumbar paraspinal).
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
    requires_neuraxis_mark: bool = False
    doppler_advised: bool = False
    non_compressible: bool = False
    female_caution: bool = False
    kim_spd_applies: bool = False
    threshold_overrides: Mapping[str, tuple[float, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Plain words, however the profile was written (a SiteId or StructureKind member is one), so
        # finding values and messages built from a profile read the same.
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "expected_hazards", tuple(str(k) for k in self.expected_hazards))


def _thoracic(sid: str, name: str, **kw: Any) -> SiteProfile:
    kw.setdefault("expected_hazards", (K.PLEURA, K.RIB))
    return SiteProfile(id=sid, name=name, region="thoracic", pneumothorax_class=True, requires_pleura_mark=True, **kw)


SITE_PROFILES: Mapping[str, SiteProfile] = MappingProxyType(
    {
        SiteId.UPPER_TRAPEZIUS: _thoracic(
            SiteId.UPPER_TRAPEZIUS,
            "upper trapezius",
            female_caution=True,
            threshold_overrides={
                "THIN_SPD_MM": (
                    15.0,
                    "clinical-rules.md 1A Chen 2018: GB21 skin to apical pleura, women 14.6 mm, men 17.4 mm (means)",
                )
            },
        ),
        SiteId.LEVATOR_SCAPULAE: _thoracic(
            SiteId.LEVATOR_SCAPULAE,
            "levator scapulae (superior scapular angle)",
            expected_hazards=(K.PLEURA, K.RIB, K.ARTERY),
        ),  # R10: dorsal scapular artery seen in 94% (Cho 2019)
        SiteId.RHOMBOID: _thoracic(
            SiteId.RHOMBOID,
            "rhomboid major",
            female_caution=True,
            kim_spd_applies=True,
            expected_hazards=(K.PLEURA, K.RIB, K.ARTERY),
            threshold_overrides={
                "THIN_SPD_MM": (
                    30.0,
                    "clinical-rules.md 1A Kim 2002: interscapular SPD 37±7 mm, mean - 1 SD = 30 mm [inference]",
                )
            },
        ),
        SiteId.THORACIC_PARASPINAL: _thoracic(
            SiteId.THORACIC_PARASPINAL,
            "thoracic paraspinals / iliocostalis",
            kim_spd_applies=True,
            threshold_overrides={
                "THIN_SPD_MM": (
                    30.0,
                    "clinical-rules.md 1A Kim 2002: interscapular SPD 37±7 mm, mean - 1 SD = 30 mm [inference]",
                )
            },
        ),
        SiteId.SERRATUS_ANTERIOR: _thoracic(SiteId.SERRATUS_ANTERIOR, "serratus anterior"),
        SiteId.QUADRATUS_LUMBORUM: SiteProfile(
            id=SiteId.QUADRATUS_LUMBORUM,
            name="quadratus lumborum",
            region="lumbar",
            expected_hazards=(K.VISCERA, K.BONE),
            requires_viscera_mark=True,
            non_compressible=True,
        ),
        SiteId.LUMBAR_PARASPINAL: SiteProfile(
            id=SiteId.LUMBAR_PARASPINAL,
            name="lumbar paraspinals (erector spinae / multifidus)",
            region="lumbar",
            expected_hazards=(K.BONE, K.NEURAXIS),
            requires_neuraxis_mark=True,
        ),
        SiteId.GLUTEUS_MAXIMUS: SiteProfile(
            id=SiteId.GLUTEUS_MAXIMUS,
            name="gluteus maximus",
            region="deep",
            expected_hazards=(K.ARTERY,),
            doppler_advised=True,
        ),
        SiteId.GLUTEUS_MEDIUS: SiteProfile(
            id=SiteId.GLUTEUS_MEDIUS,
            name="gluteus medius",
            region="deep",
            expected_hazards=(K.ARTERY,),
            doppler_advised=True,
            non_compressible=True,
        ),
        SiteId.PIRIFORMIS: SiteProfile(
            id=SiteId.PIRIFORMIS,
            name="piriformis",
            region="deep",
            expected_hazards=(K.NERVE, K.ARTERY),
            requires_nerve_mark=True,
            doppler_advised=True,
            non_compressible=True,
        ),
        SiteId.OTHER: SiteProfile(id=SiteId.OTHER, name="other site", region="superficial"),
    }
)


def site_profile(site: str) -> SiteProfile:
    """The profile of a site id; unknown ids (allowed by docs/contracts.md: "more may be added") use ``other``."""
    return SITE_PROFILES.get(site, SITE_PROFILES[SiteId.OTHER])
