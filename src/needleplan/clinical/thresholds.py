"""The one table of every clinical threshold, with its value, unit and source row.

Sources are rows of ``docs/clinical-rules.md`` (section 1: tables of numbers 1A-1J; section 2:
rules R1-R20).  Numbers marked [inference] are defaults of ours that no source states.
A site profile (:mod:`needleplan.clinical.anatomy`) or the caller of ``check_plan`` may override any entry;
nothing else in the package holds a clinical number.

Examples
--------
>>> THRESHOLDS["PLEURA_MARGIN_MM"].value, THRESHOLDS["PLEURA_MARGIN_MM"].unit
(5.0, 'mm')
>>> t = resolve_thresholds("upper_trapezius")
>>> t["THIN_SPD_MM"], t["PLEURA_MARGIN_MM"]
(15.0, 5.0)
>>> resolve_thresholds("other", {"PLEURA_MARGIN_MM": 7.0})["PLEURA_MARGIN_MM"]
7.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from needleplan.clinical.anatomy import site_profile
from needleplan.errors import NeedleplanError

__all__ = ["Threshold", "THRESHOLDS", "STRICT_FORMULARY", "resolve_thresholds", "threshold_source"]


@dataclass(frozen=True, slots=True)
class Threshold:
    """One clinical number: ``value`` in ``unit``, and the ``source`` row it comes from."""

    value: float
    unit: str
    source: str


_T = Threshold
THRESHOLDS: Mapping[str, Threshold] = MappingProxyType(
    {
        # --- margins (R3, R10, R11, R18; section 1G) ---
        "PLEURA_MARGIN_MM": _T(
            5.0,
            "mm",
            "R3 [inference]: tip creep up to 5.3/4.1 mm (1G Aesthet Surg J 2022), "
            "breathing shift >4.5 mm (1A Chu 2018), SEM ~1 mm (1G Bentman 2010)",
        ),
        "PLEURA_MARGIN_OTHER_FRAME_MM": _T(
            10.0, "mm", "R3 [inference]: pleura measured on another frame, breathing phase or position"
        ),
        "VESSEL_MARGIN_MM": _T(5.0, "mm", "R10 [inference]: tip-creep data (1G)"),
        "NERVE_MARGIN_MM": _T(5.0, "mm", "R11 [inference]: >=5 mm for trigger point injection"),
        "VISCERA_MARGIN_MM": _T(5.0, "mm", "R18: the same tip margin as the pleura (R3)"),
        "VISCERA_MARGIN_OTHER_FRAME_MM": _T(10.0, "mm", "R18 with R3: marked on another frame"),
        "NEURAXIS_MARGIN_MM": _T(
            10.0,
            "mm",
            "R20 [inference]: twice the pleura's tip margin (R3), because the "
            "posterior epidural space is only a few mm deep (1D Lee & Kim 2004) and a "
            "local anaesthetic there becomes a neuraxial injection",
        ),
        "NEURAXIS_MARGIN_OTHER_FRAME_MM": _T(
            15.0, "mm", "R20 with R3 [inference]: neuraxis marked on another frame or position"
        ),
        "NEURAXIS_REACH_DEPTH_MM": _T(
            30.0,
            "mm",
            "R20 / 1D Cha 2011: skin to lumbar epidural space 44+-6 mm at L2-3 "
            "(n=1,653); mean - 2 SD = 32 mm, less a few mm to the ligamentum "
            "flavum [inference]",
        ),
        # --- needle length (R5, R12) ---
        "HUB_MARGIN_MM": _T(
            10.0,
            "mm",
            "R5/R12 [inference]: leave about 1 cm of shaft outside the skin (hub burial and breakage, 1E FPnotebook)",
        ),
        "OVERSHOOT_ALLOWANCE_MM": _T(
            0.0,
            "mm",
            "R3: extension within the needle length still outside the skin; extra allowance [inference], 0 by default",
        ),
        "BONE_CONTACT_TOLERANCE_MM": _T(0.5, "mm", "[inference]: a tip within 0.5 mm of bone is 'on the rib' (R4)"),
        "TARGET_TOLERANCE_MM": _T(1.0, "mm", "[inference]: tip within 1 mm of an open or point target mark"),
        # --- angle and visibility (R13, 1F) ---
        "ANGLE_INFO_DEG": _T(30.0, "deg", "R13 / 1F Kline 2015: entry angle <30 deg; BATS: ~30 deg optimal"),
        "ANGLE_WARN_DEG": _T(40.0, "deg", "R13 / 1F UCL: visibility falls beyond about 40 deg (RCEM <45 deg)"),
        "ANGLE_STRONG_DEG": _T(50.0, "deg", "R13 / 1F UCL: most needles invisible above 50 deg unless echogenic"),
        "WINDOW_MIN_ANGLE_DEG": _T(10.0, "deg", "[inference]: flattest approach the safe angle window tries"),
        "WINDOW_STEP_DEG": _T(1.0, "deg", "[inference]: angle step of the safe angle window"),
        # --- thin patient (R6, 1A, 1B) ---
        "BMI_HIGH_RISK": _T(18.5, "kg/m2", "R6 / 1B WHO: underweight <18.5"),
        "BMI_CAUTION": _T(23.0, "kg/m2", "R6 / 1B Seol 2014: lowest group <23 (Asian cut-offs)"),
        "THIN_SPD_MM": _T(
            20.0,
            "mm",
            "R6 [inference]: measured skin-to-pleura below which a patient counts as thin; sites override (1A)",
        ),
        "KIM_SPD_SLOPE_CM": _T(0.380, "cm per kg/m2", "R6 / 1A Kim 2002: SPD(cm) = 0.380 BMI - 4.301"),
        "KIM_SPD_INTERCEPT_CM": _T(-4.301, "cm", "R6 / 1A Kim 2002: SPD(cm) = 0.380 BMI - 4.301"),
        # --- probe and depth (R15, 1F) ---
        "PROBE_LINEAR_MAX_DEPTH_MM": _T(
            40.0, "mm", "R15 / 1F USRA, VA: linear probes for targets shallower than ~4-5 cm"
        ),
        "PROBE_HF_MAX_DEPTH_MM": _T(30.0, "mm", "R15 / 1F USRA: 10-15 MHz penetration often limited to 2-3 cm"),
        "PROBE_HF_MIN_MHZ": _T(10.0, "MHz", "R15 / 1F USRA: high frequency = 10-15 MHz"),
        # --- dose (R16, 1H) ---
        "MG_PER_ML_PER_PCT": _T(10.0, "mg/mL per %", "1H: 1% = 10 mg/mL"),
        "DOSE_WARN_FRACTION": _T(0.8, "fraction of max", "R16 [inference]: WARN at >=80%"),
        "DOSE_BLOCK_FRACTION": _T(1.0, "fraction of max", "R16 [inference]: BLOCK above 100%"),
        "DOSE_LIDOCAINE_PLAIN_MG_PER_KG": _T(4.5, "mg/kg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_LIDOCAINE_PLAIN_MAX_MG": _T(300.0, "mg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_LIDOCAINE_EPI_MG_PER_KG": _T(7.0, "mg/kg", "R16 / 1H lidocaine+epinephrine label"),
        "DOSE_LIDOCAINE_EPI_MAX_MG": _T(500.0, "mg", "R16 / 1H lidocaine+epinephrine label"),
        "DOSE_BUPIVACAINE_PLAIN_MG_PER_KG": _T(2.0, "mg/kg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_BUPIVACAINE_PLAIN_MAX_MG": _T(175.0, "mg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_BUPIVACAINE_EPI_MG_PER_KG": _T(3.0, "mg/kg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_BUPIVACAINE_EPI_MAX_MG": _T(225.0, "mg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_ROPIVACAINE_PLAIN_MG_PER_KG": _T(3.0, "mg/kg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_ROPIVACAINE_PLAIN_MAX_MG": _T(200.0, "mg", "R16 / 1H Poisoning & Drug Overdose"),
        "DOSE_ROPIVACAINE_EPI_MG_PER_KG": _T(3.0, "mg/kg", "1H: no epinephrine maximum given; plain limit kept"),
        "DOSE_ROPIVACAINE_EPI_MAX_MG": _T(200.0, "mg", "1H: no epinephrine maximum given; plain limit kept"),
        "DOSE_MEPIVACAINE_PLAIN_MG_PER_KG": _T(4.5, "mg/kg", "1H Poisoning & Drug Overdose"),
        "DOSE_MEPIVACAINE_PLAIN_MAX_MG": _T(350.0, "mg", "1H Poisoning & Drug Overdose"),
        "DOSE_MEPIVACAINE_EPI_MG_PER_KG": _T(7.0, "mg/kg", "1H Poisoning & Drug Overdose"),
        "DOSE_MEPIVACAINE_EPI_MAX_MG": _T(500.0, "mg", "1H Poisoning & Drug Overdose"),
    }
)

#: R16 strict formulary mode (plan field ``"formulary": "strict"``): BNF-style lidocaine caps.
STRICT_FORMULARY: Mapping[str, tuple[float, str]] = MappingProxyType(
    {
        "DOSE_LIDOCAINE_PLAIN_MAX_MG": (200.0, "R16 / 1H Bahrain MOH (BNF-style) monograph: 200 mg plain"),
        "DOSE_LIDOCAINE_EPI_MAX_MG": (500.0, "R16 / 1H Bahrain MOH (BNF-style) monograph: 500 mg with epinephrine"),
    }
)


def resolve_thresholds(
    site: str, overrides: Mapping[str, float] | None = None, *, strict_formulary: bool = False
) -> dict[str, float]:
    """Threshold values for a site: the table, then the site profile, the formulary, the caller.

    Raises :class:`NeedleplanError` for an override key that is not in the table.
    """
    values = {key: t.value for key, t in THRESHOLDS.items()}
    for key, (value, _src) in site_profile(site).threshold_overrides.items():
        values[key] = value
    if strict_formulary:
        values.update({key: value for key, (value, _src) in STRICT_FORMULARY.items()})
    for key, value in (overrides or {}).items():
        if key not in THRESHOLDS:
            raise NeedleplanError(f"unknown threshold {key!r}; use one of needleplan.clinical.THRESHOLDS")
        values[key] = float(value)
    return values


def threshold_source(key: str, site: str = "other") -> str:
    """The source row behind a threshold's value at a site (the profile's, else the table's)."""
    override = site_profile(site).threshold_overrides.get(key)
    return override[1] if override else THRESHOLDS[key].source
