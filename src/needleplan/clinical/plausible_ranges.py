"""The one table of physical ranges a plan's numbers must lie in, beside the clinical thresholds.

Two kinds of numbers live here, each with where it comes from:

- :data:`PLAN_RANGES` and the caps (``MAX_*``): what a plan *file* may hold at all.  A number outside
  its range is no measurement of a patient or an image (a needle of 1 km, a pixel of 1e300 mm), so
  plan validation (:func:`needleplan.plan.plan_from_dict`) refuses the file with one line naming the
  field, the value and the range.  These are limits of physics and of drawing, not clinical advice.
- :data:`IMPLAUSIBLE`: the limits of the ``rules_plausibility`` safety rules.  A plan inside the file
  ranges may still describe no real procedure (a 250 mm needle, a target on the skin line); that is
  a ``block`` finding with its reason, never a clean verdict.

Sources are rows of ``docs/clinical-rules.md`` (section 1E for needles), issue 16/17 of the tracker
(the plausible ranges a reviewer asked for), the DICOM standard for pixel and frame numbers, and
[inference] where no source states the number.  Nothing here imports the plan model, so the plan
package can read the table without a cycle.

Examples
--------
>>> PLAN_RANGES["needle.length_mm"].contains(38.0), PLAN_RANGES["needle.length_mm"].contains(1e9)
(True, False)
>>> PLAN_RANGES["calibration.spacing_mm"].describe()
'0.005 to 5 mm/px'
>>> IMPLAUSIBLE["LONGEST_NEEDLE_MADE_MM"].value
200.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from needleplan.clinical.thresholds import Threshold

__all__ = [
    "Range",
    "PLAN_RANGES",
    "IMPLAUSIBLE",
    "MAX_STRUCTURES",
    "MAX_POINTS_PER_STRUCTURE",
    "MAX_TOTAL_POINTS",
    "MAX_INJECTATES",
    "MAX_LIST_ITEMS",
    "MAX_NESTING",
    "MAX_PLAN_FILE_BYTES",
]


@dataclass(frozen=True, slots=True)
class Range:
    """A closed physical range ``low <= value <= high`` in ``unit``, with its ``source``."""

    low: float
    high: float
    unit: str
    source: str

    def contains(self, value: float) -> bool:
        """True when ``value`` (finite) lies in the range, ends included."""
        return self.low <= value <= self.high

    def describe(self, *, integer: bool = False) -> str:
        """The range in words for a message: ``'0.005 to 5 mm/px'`` (``'0 to 65,535'`` for integers)."""
        unit = f" {self.unit}" if self.unit else ""
        if integer:
            return f"{int(self.low):,} to {int(self.high):,}{unit}"
        return f"{self.low:g} to {self.high:g}{unit}"


_R = Range
#: Range of every numeric plan field, by its path in the plan file (``[i]`` items share one entry).
PLAN_RANGES: Mapping[str, Range] = MappingProxyType(
    {
        # --- geometry (world mm, docs/contracts.md §3) ---
        "coordinate_mm": _R(
            -10_000.0,
            10_000.0,
            "mm",
            "issue 16: +-10 m holds any body and any image; a point farther away is not a drawing",
        ),
        "needle.length_mm": _R(
            5.0,
            300.0,
            "mm",
            "issue 16: needles on sale run from 4-6 mm (pen/intradermal) to 150-200 mm "
            "(spinal, 1E: 3.5 in = 89 mm for deep sites); above 200 mm is a block finding "
            "(IMPLAUSIBLE['LONGEST_NEEDLE_MADE_MM'])",
        ),
        "needle.gauge": _R(7.0, 34.0, "G", "[inference]: hypodermic gauges on sale run 7-34 G (1E: 21-27 G used)"),
        # --- patient (R6, R16) ---
        "patient.weight_kg": _R(0.5, 400.0, "kg", "issue 16: from a premature newborn to the heaviest recorded adults"),
        "patient.bmi": _R(
            5.0, 250.0, "kg/m2", "[inference]: below 7 and above 200 kg/m2 no adult has been recorded (R6 uses 18.5-23)"
        ),
        # --- injectate (R16, 1H) ---
        "injectate.concentration_pct": _R(
            0.001,
            20.0,
            "%",
            "[inference]: local anaesthetics are given at 0.0625-5 % (1H: 1 % = 10 mg/mL); "
            "a w/v solution above 20 % is no injectate",
        ),
        "injectate.volume_ml": _R(
            0.001,
            1000.0,
            "mL",
            "[inference]: 0.5-2 mL per trigger point (1E Rizk), 20-40 mL for a plane block; "
            "a litre is past any injection this planner plans",
        ),
        # --- calibration (issue 16; docs/ultrasound-calibration.md: mm/px = |PhysicalDelta| x 10) ---
        "calibration.spacing_mm": _R(
            0.005, 5.0, "mm/px", "issue 16: plausible B-mode pixel size; 5e-324 or 1e300 mm/px is no calibration"
        ),
        "calibration.origin_px": _R(
            -100_000.0,
            100_000.0,
            "px",
            "[inference]: an image has at most 65,535 rows or columns (DICOM US); the skin "
            "origin lies within a sane distance of it",
        ),
        "calibration.region_box_px": _R(
            0.0, 65_535.0, "px", "DICOM PS3.3: Region Location Min/Max are UL within Rows/Columns (US, at most 65,535)"
        ),
        "calibration.region_index": _R(
            0.0,
            65_535.0,
            "",
            "DICOM PS3.5: a sequence of ultrasound regions has at most 2**16 - 1 items in practice [inference]",
        ),
        # --- optional fields the rules read (R15) ---
        "probe.frequency_mhz": _R(
            0.5,
            100.0,
            "MHz",
            "[inference]: clinical probes run 1-24 MHz (R15 / 1F: 10-15 MHz "
            "high frequency), research probes up to 70 MHz",
        ),
        # --- binding and structures ---
        "frame_index": _R(0.0, 2_147_483_647.0, "", "DICOM PS3.3: Number of Frames is an IS (at most 2**31 - 1)"),
        "structures.confidence": _R(0.0, 1.0, "", "docs/contracts.md §4: a detector's confidence from 0 to 1"),
    }
)

#: How many points a person draws: a hand-marked outline has tens; a traced outline is simplified by the
#: plugin (:func:`needleplan.geometry.simplify_polyline`) to fewer than this.  [inference]; the check's
#: work grows with the points (issue 17: 1,000,000 points took 8.4 GB and 34 s).
MAX_POINTS_PER_STRUCTURE = 2_000
#: Structures per plan: a crowded thoracic plan marks a few dozen. [inference]
MAX_STRUCTURES = 200
#: Points of all structures together, so every accepted plan is checked in bounded work. [inference]
MAX_TOTAL_POINTS = 20_000
#: Injectate entries per plan (one per drug and syringe). [inference]
MAX_INJECTATES = 50
#: Items of any other list a plan carries (saved findings, notes of the calibration). [inference]
MAX_LIST_ITEMS = 10_000
#: Nesting of arrays and objects: the format's deepest is 5 (plan > structures > item > points_mm >
#: point); unknown fields are kept, so some room is left for them.  Issue 17: 1,000 levels crashed.
MAX_NESTING = 16
#: Bytes of a plan file: 20,000 points are under 1 MB; the 1,000,000-point plan of issue 17 was 25 MB.
MAX_PLAN_FILE_BYTES = 8 * 1024 * 1024

_T = Threshold
#: Limits of the implausible-plan rules (``needleplan.safety.rules_plausibility``): block findings.
IMPLAUSIBLE: Mapping[str, Threshold] = MappingProxyType(
    {
        "LONGEST_NEEDLE_MADE_MM": _T(
            200.0,
            "mm",
            "issue 17 / 1E: the longest spinal and biopsy needles on sale are "
            "150-200 mm (6-8 in); STANDARD_NEEDLE_LENGTHS_MM ends at 152 mm",
        ),
        "SHORTEST_NEEDLE_MM": _T(1.0, "mm", "issue 16: a needle shorter than 1 mm reaches no tissue under the skin"),
        "MIN_TARGET_DEPTH_MM": _T(
            1.0,
            "mm",
            "issue 17 [inference]: epidermis and dermis are 1-4 mm thick; a tip less "
            "than 1 mm below the skin line (or a depth of 0) is no injection target",
        ),
        "MIN_PATH_MM": _T(
            1.0,
            "mm",
            "[inference]: a needle drawn shorter than 1 mm from entry to tip is no path "
            "at the scale of an ultrasound image (0.1-0.3 mm/px)",
        ),
    }
)
