"""The clinical numbers: thresholds with their sources, site profiles, hazard families.

This package sits below both :mod:`needleplan.planner` and :mod:`needleplan.safety`: the planner
reads the margins it applies from here, the safety rules read the same table, and nothing here
imports either of them.  Its modules: ``thresholds`` (the one table of every clinical threshold,
each with its source row) and ``anatomy`` (hazard families of the structure kinds, site profiles).

Examples
--------
>>> resolve_thresholds("rhomboid")["THIN_SPD_MM"], site_profile("rhomboid").pneumothorax_class
(30.0, True)
"""

from __future__ import annotations

from needleplan.clinical.anatomy import (
    BACKSTOP_KINDS,
    FAMILY_MARGINS,
    HAZARD_FAMILIES,
    SITE_PROFILES,
    FamilyMargins,
    SiteProfile,
    hazard_family,
    site_profile,
)
from needleplan.clinical.thresholds import (
    STRICT_FORMULARY,
    THRESHOLDS,
    Threshold,
    resolve_thresholds,
    threshold_source,
)

__all__ = [
    "BACKSTOP_KINDS",
    "FAMILY_MARGINS",
    "FamilyMargins",
    "HAZARD_FAMILIES",
    "SITE_PROFILES",
    "SiteProfile",
    "hazard_family",
    "site_profile",
    "STRICT_FORMULARY",
    "THRESHOLDS",
    "Threshold",
    "resolve_thresholds",
    "threshold_source",
]
