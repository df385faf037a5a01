"""The core's words, each defined once: structure kinds, severities, calibration sources, site ids,
needle lengths and drug names.

Everything that names one of these (plan validation, the safety rules, the CLI, the report, the SR
export, the napari plugin) imports it from here.  The enumerations are ``str`` enumerations, so a
member equals its plain word (``Severity.WARN == "warn"``) and JSON output is the plain word.

Examples
--------
>>> Severity.WARN == "warn", [str(s) for s in Severity]
(True, ['block', 'warn', 'info'])
>>> severity_rank("block") < severity_rank("info")
True
>>> drug_of("lignocaine"), drug_of("aspirin")
(<Drug.LIDOCAINE: 'lidocaine'>, None)
>>> NEEDLE_PRESETS_MM
(25.0, 38.0, 50.0, 89.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "StructureKind",
    "Severity",
    "severity_rank",
    "CalibrationSource",
    "SiteId",
    "NeedleLength",
    "NEEDLE_LENGTHS",
    "STANDARD_NEEDLE_LENGTHS_MM",
    "NEEDLE_PRESETS_MM",
    "Drug",
    "DRUG_SYNONYMS",
    "drug_of",
]


class StructureKind(StrEnum):
    """The kind of a marked structure (the plan file's ``structures[].kind``)."""

    TARGET = "target"
    PLEURA = "pleura"
    NEURAXIS = "neuraxis"  # dura / epidural space / ligamentum flavum seen through the interlaminar window
    RIB = "rib"
    BONE = "bone"
    VESSEL = "vessel"
    ARTERY = "artery"
    VEIN = "vein"
    NERVE = "nerve"
    SKIN = "skin"
    FASCIA = "fascia"
    VISCERA = "viscera"
    OTHER = "other"


class Severity(StrEnum):
    """How serious a finding is, worst first (the order of the members is the report order)."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


_SEVERITY_RANK: Mapping[str, int] = MappingProxyType({s.value: i for i, s in enumerate(Severity)})


def severity_rank(severity: str) -> int:
    """0 for ``block``, 1 for ``warn``, 2 for ``info``; ``len(Severity)`` for an unknown word.

    >>> sorted(["info", "block", "warn"], key=severity_rank)
    ['block', 'warn', 'info']
    """
    return _SEVERITY_RANK.get(severity, len(_SEVERITY_RANK))


class CalibrationSource(StrEnum):
    """Where a plan's millimetres come from (the plan file's ``calibration.source``)."""

    US_REGION = "US_REGION"
    PIXEL_SPACING = "PIXEL_SPACING"
    MANUAL = "MANUAL"
    NONE = "NONE"


class SiteId(StrEnum):
    """The planning sites that have a profile (the plan file's ``site``; other ids are checked as ``other``)."""

    UPPER_TRAPEZIUS = "upper_trapezius"
    LEVATOR_SCAPULAE = "levator_scapulae"
    RHOMBOID = "rhomboid"
    THORACIC_PARASPINAL = "thoracic_paraspinal"
    SERRATUS_ANTERIOR = "serratus_anterior"
    QUADRATUS_LUMBORUM = "quadratus_lumborum"
    LUMBAR_PARASPINAL = "lumbar_paraspinal"
    GLUTEUS_MAXIMUS = "gluteus_maximus"
    GLUTEUS_MEDIUS = "gluteus_medius"
    PIRIFORMIS = "piriformis"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NeedleLength:
    """A needle length on sale: ``length_mm``, its name in inches, and whether the plugin offers it first."""

    length_mm: float
    inches: str
    preset: bool = False


#: Needle lengths on sale (1/2 to 6 in), for "the shortest needle that still leaves the hub margin
#: outside" (rule R5; section 1E of the clinical notes: 1.25-1.5 in for shallow sites, the 3.5 in
#: spinal needle for deep ones).  The presets are the four lengths a physician picks most.
NEEDLE_LENGTHS: tuple[NeedleLength, ...] = (
    NeedleLength(13.0, "1/2"),
    NeedleLength(16.0, "5/8"),
    NeedleLength(25.0, "1", preset=True),
    NeedleLength(32.0, "1 1/4"),
    NeedleLength(38.0, "1 1/2", preset=True),
    NeedleLength(50.0, "2", preset=True),
    NeedleLength(64.0, "2 1/2"),
    NeedleLength(76.0, "3"),
    NeedleLength(89.0, "3 1/2", preset=True),
    NeedleLength(100.0, "4"),
    NeedleLength(127.0, "5"),
    NeedleLength(152.0, "6"),
)

#: Every length of :data:`NEEDLE_LENGTHS`, shortest first, in mm.
STANDARD_NEEDLE_LENGTHS_MM: tuple[float, ...] = tuple(n.length_mm for n in NEEDLE_LENGTHS)

#: The lengths the plugin offers in its needle list (1, 1.5, 2 and 3.5 inch), in mm.
NEEDLE_PRESETS_MM: tuple[float, ...] = tuple(n.length_mm for n in NEEDLE_LENGTHS if n.preset)


class Drug(StrEnum):
    """Local anaesthetics with a maximum dose in the thresholds table (``DOSE_<NAME>_...`` entries)."""

    LIDOCAINE = "lidocaine"
    BUPIVACAINE = "bupivacaine"
    ROPIVACAINE = "ropivacaine"
    MEPIVACAINE = "mepivacaine"


#: Other names (brand or British) accepted for a drug, lower case.
DRUG_SYNONYMS: Mapping[str, Drug] = MappingProxyType(
    {
        "lignocaine": Drug.LIDOCAINE,
        "xylocaine": Drug.LIDOCAINE,
        "marcaine": Drug.BUPIVACAINE,
        "naropin": Drug.ROPIVACAINE,
    }
)


def drug_of(name: str) -> Drug | None:
    """The drug a name in a plan's ``injectate`` means (exact lower-case word), or None when no maximum is known."""
    if name in DRUG_SYNONYMS:
        return DRUG_SYNONYMS[name]
    try:
        return Drug(name)
    except ValueError:
        return None
