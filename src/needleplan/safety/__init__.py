"""The safety engine: one small module per rule family, a registry, a report value.

``check_plan(plan)`` returns a :class:`SafetyReport` of :class:`Finding` values (never raises for an
unsafe plan; exceptions are only for bad input).  Every number comes from
:mod:`needleplan.clinical.thresholds` (one table, each entry with its docs/clinical-rules.md row); a site
profile (:mod:`needleplan.clinical.anatomy`) may override entries.  Rules that need millimetres do not run
on an uncalibrated plan: UNCALIBRATED lists them.  Suggested (unaccepted) structures are never
treated as confirmed hazards.

Finding codes (docs/contracts.md §5 codes keep their meaning; the others are added here) are the
members of :class:`~needleplan.safety.codes.FindingCode`, each with its severities and the clinical
rule row it implements; ``docs/finding-codes.md`` is the table generated from it.

The package's modules: ``codes`` (the codes), ``registry`` (rule families and rules register
themselves; the report order comes from here), ``context`` (what a rule sees), ``engine``
(:func:`check_plan`), ``report`` (:class:`Finding`, :class:`AppliedMargin`, :class:`SafetyReport`),
and one ``rules_*`` module per family, found and imported by the engine.  Rules read the planner's
results through the context (``ctx.scene``, ``ctx.metrics``,
``ctx.clearance(i, s)``, ``ctx.first_hits(...)``).

Optional plan fields the rules read (beyond docs/contracts.md §4; all kept on save):

- ``probe``: ``"linear"`` or ``{"type": "linear", "frequency_mhz": 12}`` (R15);
- ``orientation``: ``{"right": "medial" | "lateral" | "cranial" | "caudal"}`` (R9);
- ``planning_position`` / ``procedure_position``: e.g. ``"prone"`` / ``"sitting"`` (R8);
- ``formulary``: ``"strict"`` for BNF-style lidocaine caps (R16);
- ``side``: ``"bilateral"``; ``patient.bilateral_session``: true (R7);
- ``patient.thoracic_surgery`` / ``emphysema`` / ``copd`` / ``lung_cancer`` / ``tuberculosis`` /
  ``chronic_bronchitis`` / ``pneumonia``: true, like ``patient.lung_disease`` (R7);
- ``needle.echogenic``: true (R13 wording);
- structure ``frame_index`` different from the plan's: pleura/viscera margin 10 mm (R3);
  structure ``suggested``: true: a detector's proposal, never a confirmed hazard.

Examples
--------
>>> from needleplan.safety import check_plan
>>> from needleplan.plan import plan_from_dict
>>> plan = plan_from_dict({"format": "needleplan.plan", "version": 1, "image": {"frame_index": 0},
...     "calibration": {"source": "NONE", "origin_px": [0, 0]}, "site": "rhomboid",
...     "structures": [], "needle": {"entry_mm": [0, 0], "target_mm": [60, 40], "length_mm": 38}})
>>> report = check_plan(plan)
>>> report.findings[0].code, report.worst_severity, report.metrics["depth_mm"]
('UNCALIBRATED', 'block', None)
"""

from __future__ import annotations

from needleplan.clinical import THRESHOLDS, resolve_thresholds
from needleplan.safety.codes import FindingCode
from needleplan.safety.engine import check_plan
from needleplan.safety.report import AppliedMargin, Finding, SafetyReport, compare_with_saved

__all__ = [
    "FindingCode",
    "Finding",
    "AppliedMargin",
    "SafetyReport",
    "compare_with_saved",
    "THRESHOLDS",
    "resolve_thresholds",
    "check_plan",
]
