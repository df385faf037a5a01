"""The safety engine: one small module per rule family, a registry, a report value.

``check_plan(plan)`` returns a :class:`SafetyReport` of :class:`Finding` values (never raises for an
unsafe plan; exceptions are only for bad input).  Every number comes from
:mod:`needleplan.safety.thresholds` (one table, each entry with its clinical-rules.md row); a site
profile (:mod:`needleplan.anatomy`) may override entries.  Rules that need millimetres do not run
on an uncalibrated plan: UNCALIBRATED lists them.  Suggested (unaccepted) structures are never
treated as confirmed hazards.

Finding codes (design.md section 5 codes keep their meaning; the others are added here):

========================= ============ =================================================================
code                      severity     when (rule row of clinical-rules.md)
========================= ============ =================================================================
UNCALIBRATED              block/warn   no length calibration; lists the skipped checks (warn at site ``other``)
CROSS_REGION              block        needle tip/path or a mark spans two regions or lies outside the calibrated one
SITE_UNKNOWN              warn         the plan's site id has no profile: checked as ``other``, no pneumothorax rules (R1)
PNEUMOTHORAX_SITE         info         thoracic site: pneumothorax class and 2-day symptom advice (R1, R19)
PLEURA_NOT_MARKED         block        thoracic site, neither pleura nor rib marked (R2)
PLEURA_UNMEASURED         warn         thoracic site, rib marked but no pleura (R2)
PLEURA_SUGGESTED_UNMARKED warn         a detector found a pleura-like line that the plan does not mark (R2)
PLEURA_MARGIN             warn/block   shaft or tip within the pleura margin (5 mm; 10 mm other frame); block if crossing (R3)
PLEURA_OVERSHOOT          warn         extension by the unused length reaches the pleura, no rib first (R3)
INTERCOSTAL_TARGET        warn         tip or its extension over an intercostal space (R4)
NEEDLE_REACHES_PLEURA     warn         needle long enough to reach the pleura on this path, no rib first (R5)
TRAPEZIUS_DIRECTION       warn         upper trapezius needle heading medially/caudally (needs ``orientation``) (R9)
RIB_IN_PATH               warn         bone met before the planned tip (R4)
SAFE_INSERTION            info         deepest safe insertion and what limits it (R3, R5, R10, R11)
HAZARD_OVERSHOOT          warn         extension by the unused length meets a marked vessel, nerve or viscus,
                                       no bone first (R3 with R10, R11, R18)
VESSEL_CROSSED            block/warn   path crosses an artery or unconfirmed vessel (block) or a vein (warn) (R10)
VESSEL_MARGIN             warn         shaft or tip within the vessel margin (R10)
NERVE_CROSSED             block        path crosses a marked nerve (R11)
NERVE_MARGIN              warn         within the nerve margin (R11)
NERVE_NOT_MARKED          block        piriformis without a marked sciatic nerve (R11)
VISCERA_CROSSED           block        path crosses kidney/peritoneum (R18)
VISCERA_MARGIN            warn         within the viscera margin (R18)
VISCERA_NOT_MARKED        warn         lumbar site without kidney/peritoneum marked (R18)
DOPPLER_ADVISED           info         deep gluteal site with no vessel marked (R10)
SUGGESTION_UNCONFIRMED    info         detected hazards not accepted, not used (R10, R11, R18)
NEEDLE_REVERSED           block        needle drawn from the target to the skin: tip shallower than the entry
NEEDLE_TOO_SHORT          block/warn   cannot reach (block) or less than the hub margin left outside (warn) (R5, R12)
STEEP_ANGLE               info/warn    in-plane angle above 30 (info), 40 (warn), 50 deg (strong warn) (R13)
OUT_OF_PLANE              info/warn    out-of-plane approach; warn at thoracic sites (R14)
PROBE_DEPTH               warn         linear (high-frequency) probe and a target deeper than it shows well (R15)
IMAGE_TOO_SHALLOW         warn/info    nothing marked under the target (pleura/rib/bone; bone and the site's
                                       viscera/nerve at deep sites) and the image ends above the overshoot reach;
                                       info when the plan has no region box, so the depth is unchecked (R15)
NO_SAFE_ANGLE             warn         no in-plane angle reaches the target safely with this needle (R3-R5, R13)
THIN_PATIENT              info/warn    BMI <18.5 (warn) / <23 (info), women at trapezius/rhomboid (info),
                                       measured skin-to-pleura below the site threshold (warn) (R6)
LUNG_DISEASE              warn         lung-disease history at a thoracic site; raises pleural warnings to block (R7)
BILATERAL_THORACIC        warn         both sides in one session at a thoracic site (R7)
POSITION_CHANGED          warn         planning and procedure positions differ; pleura margin 10 mm (R8)
ANTICOAGULATED_DEEP_SITE  warn         anticoagulated at a deep non-compressible site (R17)
DOSE_LIMIT                warn/block   cumulative dose >= 80% (warn) or > 100% (block) of the maximum (R16)
DOSE_UNKNOWN_DRUG         warn         a drug with no known maximum (R16)
DOSE_WEIGHT_UNKNOWN       info         dose checked against absolute maxima only (R16)
TARGET_MISSED             warn         planned tip not inside the marked target
TARGET_NOT_MARKED         info         no target marked
IMPLAUSIBLE_NEEDLE_LENGTH block        needle longer than any made (> 200 mm) or shorter than 1 mm (issue 16, 17)
IMPLAUSIBLE_TARGET_DEPTH  block        planned tip above the skin or less than 1 mm below it (a depth of 0) (issue 17)
IMPLAUSIBLE_PATH          block        needle drawn shorter than 1 mm from entry to tip (issue 17)
IMPLAUSIBLE_STRUCTURE     block        a marked structure lies entirely above the skin, outside the patient (issue 17)
========================= ============ =================================================================

Optional plan fields the rules read (beyond design.md section 4; all kept on save):

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

from typing import Any

from needleplan.safety.report import SEVERITIES, Finding, SafetyReport, compare_with_saved
from needleplan.safety.thresholds import THRESHOLDS, resolve_thresholds

__all__ = ["SEVERITIES", "Finding", "SafetyReport", "compare_with_saved", "THRESHOLDS", "resolve_thresholds",
           "check_plan"]


def __getattr__(name: str) -> Any:
    # check_plan is imported lazily: the engine imports the planner, which imports the thresholds
    # of this package, so an eager import here would be circular.
    if name == "check_plan":
        from needleplan.safety.engine import check_plan
        return check_plan
    raise AttributeError(f"module 'needleplan.safety' has no attribute {name!r}")
