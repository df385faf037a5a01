"""Every finding code of the safety check, once: :class:`FindingCode`, with severity and rule row.

A code is a ``str`` enumeration member, so ``FindingCode.PLEURA_MARGIN == "PLEURA_MARGIN"`` and the
JSON of a report is unchanged.  Each member carries the severities it can have (worst first), the
clinical rule row(s) it implements (``R1``-``R20`` of the clinical rules; ``docs/contracts.md`` sections for
the contract checks) and when it is raised, in words.  ``docs/finding-codes.md`` is generated from this
table by :func:`finding_codes_markdown` (``python scripts/make_finding_codes_doc.py``);
a test fails when the two differ.

Adding a code: add a member here (a test fails for a member no rule declares) and name it in the
``codes=`` of the rule that yields it.

Examples
--------
>>> FindingCode.PLEURA_MARGIN == "PLEURA_MARGIN", FindingCode.PLEURA_MARGIN.rows
(True, 'R3')
>>> [str(s) for s in FindingCode.VESSEL_CROSSED.severities]
['block', 'warn']
"""

from __future__ import annotations

from enum import StrEnum

from needleplan.vocabulary import Severity

__all__ = ["FindingCode", "finding_codes_markdown"]

_B, _W, _I = Severity.BLOCK, Severity.WARN, Severity.INFO


class FindingCode(StrEnum):
    """A finding code: its value is its name; ``severities``, ``rows`` and ``when`` describe it."""

    severities: tuple[Severity, ...]
    rows: str
    when: str

    def __new__(cls, value: str, severities: tuple[Severity, ...], rows: str, when: str) -> FindingCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.severities = severities
        member.rows = rows
        member.when = when
        return member

    UNCALIBRATED = (
        "UNCALIBRATED",
        (_B, _W),
        "contracts.md §3",
        ("no length calibration; lists the skipped checks (warn at site other)"),
    )
    CROSS_REGION = (
        "CROSS_REGION",
        (_B,),
        "contracts.md §3",
        ("needle tip/path or a mark spans two regions or lies outside the calibrated one"),
    )
    SITE_UNKNOWN = (
        "SITE_UNKNOWN",
        (_W,),
        "R1",
        ("the plan's site id has no profile: checked as other, no pneumothorax rules"),
    )
    PNEUMOTHORAX_SITE = (
        "PNEUMOTHORAX_SITE",
        (_I,),
        "R1, R19",
        ("thoracic site: pneumothorax class and 2-day symptom advice"),
    )
    PLEURA_NOT_MARKED = "PLEURA_NOT_MARKED", (_B,), "R2", "thoracic site, neither pleura nor rib marked"
    PLEURA_UNMEASURED = "PLEURA_UNMEASURED", (_W,), "R2", "thoracic site, rib marked but no pleura"
    PLEURA_SUGGESTED_UNMARKED = (
        "PLEURA_SUGGESTED_UNMARKED",
        (_W,),
        "R2",
        ("a detector found a pleura-like line that the plan does not mark"),
    )
    PLEURA_MARGIN = (
        "PLEURA_MARGIN",
        (_B, _W),
        "R3",
        ("shaft or tip within the pleura margin (5 mm; 10 mm other frame); block if crossing"),
    )
    PLEURA_OVERSHOOT = (
        "PLEURA_OVERSHOOT",
        (_B, _W),
        "R3",
        ("extension by the unused length reaches the pleura, no rib first; block with a lung-disease history (R7)"),
    )
    INTERCOSTAL_TARGET = (
        "INTERCOSTAL_TARGET",
        (_B, _W),
        "R4",
        ("tip or its extension over an intercostal space; block with a lung-disease history (R7)"),
    )
    NEEDLE_REACHES_PLEURA = (
        "NEEDLE_REACHES_PLEURA",
        (_B, _W),
        "R5",
        ("needle long enough to reach the pleura on this path, no rib first; block with a lung-disease history (R7)"),
    )
    TRAPEZIUS_DIRECTION = (
        "TRAPEZIUS_DIRECTION",
        (_W,),
        "R9",
        ("upper trapezius needle heading medially/caudally (needs orientation)"),
    )
    RIB_IN_PATH = "RIB_IN_PATH", (_W,), "R4", "bone met before the planned tip"
    SAFE_INSERTION = "SAFE_INSERTION", (_I,), "R3, R5, R10, R11, R20", "deepest safe insertion and what limits it"
    HAZARD_OVERSHOOT = (
        "HAZARD_OVERSHOOT",
        (_W,),
        "R3 with R10, R11, R18",
        ("extension by the unused length meets a marked vessel, nerve or viscus, no bone first"),
    )
    VESSEL_CROSSED = (
        "VESSEL_CROSSED",
        (_B, _W),
        "R10",
        ("path crosses an artery or unconfirmed vessel (block) or a vein (warn)"),
    )
    VESSEL_MARGIN = "VESSEL_MARGIN", (_W,), "R10", "shaft or tip within the vessel margin"
    NERVE_CROSSED = "NERVE_CROSSED", (_B,), "R11", "path crosses a marked nerve"
    NERVE_MARGIN = "NERVE_MARGIN", (_W,), "R11", "within the nerve margin"
    NERVE_NOT_MARKED = "NERVE_NOT_MARKED", (_B,), "R11", "piriformis without a marked sciatic nerve"
    VISCERA_CROSSED = "VISCERA_CROSSED", (_B,), "R18", "path crosses kidney/peritoneum"
    VISCERA_MARGIN = "VISCERA_MARGIN", (_W,), "R18", "within the viscera margin"
    VISCERA_NOT_MARKED = "VISCERA_NOT_MARKED", (_W,), "R18", "lumbar site without kidney/peritoneum marked"
    NEURAXIS_MARGIN = (
        "NEURAXIS_MARGIN",
        (_B, _W),
        "R20",
        ("shaft or tip within the neuraxis margin (10 mm; 15 mm other frame); block if reaching or crossing it"),
    )
    NEURAXIS_OVERSHOOT = (
        "NEURAXIS_OVERSHOOT",
        (_W,),
        "R20",
        ("extension by the unused length passes the interlaminar window into the neuraxis, no bone first"),
    )
    NEURAXIS_NOT_MARKED = (
        "NEURAXIS_NOT_MARKED",
        (_W,),
        "R20",
        ("lumbar paraspinal needle that can reach the interlaminar depth with neither bone nor neuraxis marked"),
    )
    DOPPLER_ADVISED = "DOPPLER_ADVISED", (_I,), "R10", "deep gluteal site with no vessel marked"
    SUGGESTION_UNCONFIRMED = (
        "SUGGESTION_UNCONFIRMED",
        (_I,),
        "R10, R11, R18",
        ("detected hazards not accepted, not used"),
    )
    NEEDLE_REVERSED = (
        "NEEDLE_REVERSED",
        (_B,),
        "contracts.md §3",
        ("needle drawn from the target to the skin: tip shallower than the entry"),
    )
    NEEDLE_TOO_SHORT = (
        "NEEDLE_TOO_SHORT",
        (_B, _W),
        "R5, R12",
        ("cannot reach (block) or less than the hub margin left outside (warn)"),
    )
    STEEP_ANGLE = "STEEP_ANGLE", (_W, _I), "R13", "in-plane angle above 30 (info), 40 (warn), 50 deg (strong warn)"
    OUT_OF_PLANE = "OUT_OF_PLANE", (_W, _I), "R14", "out-of-plane approach; warn at thoracic sites"
    PROBE_DEPTH = "PROBE_DEPTH", (_W,), "R15", "linear (high-frequency) probe and a target deeper than it shows well"
    IMAGE_TOO_SHALLOW = (
        "IMAGE_TOO_SHALLOW",
        (_W, _I),
        "R15",
        (
            "nothing marked under the target (pleura/rib/bone; bone and the site's viscera/nerve at deep sites) "
            "and the image ends above the overshoot reach; info when the plan has no region box, so the depth is "
            "unchecked"
        ),
    )
    NO_SAFE_ANGLE = (
        "NO_SAFE_ANGLE",
        (_W,),
        "R3-R5, R13",
        ("no in-plane angle reaches the target safely with this needle"),
    )
    THIN_PATIENT = (
        "THIN_PATIENT",
        (_W, _I),
        "R6",
        (
            "BMI <18.5 (warn) / <23 (info), women at trapezius/rhomboid (info), measured skin-to-pleura below the "
            "site threshold (warn)"
        ),
    )
    LUNG_DISEASE = (
        "LUNG_DISEASE",
        (_W,),
        "R7",
        ("lung-disease history at a thoracic site; raises pleural warnings to block"),
    )
    BILATERAL_THORACIC = "BILATERAL_THORACIC", (_W,), "R7", "both sides in one session at a thoracic site"
    POSITION_CHANGED = "POSITION_CHANGED", (_W,), "R8", ("planning and procedure positions differ; pleura margin 10 mm")
    ANTICOAGULATED_DEEP_SITE = (
        "ANTICOAGULATED_DEEP_SITE",
        (_W,),
        "R17",
        ("anticoagulated at a deep non-compressible site"),
    )
    DOSE_LIMIT = "DOSE_LIMIT", (_B, _W), "R16", "cumulative dose >= 80% (warn) or > 100% (block) of the maximum"
    DOSE_UNKNOWN_DRUG = "DOSE_UNKNOWN_DRUG", (_W,), "R16", "a drug with no known maximum"
    DOSE_WEIGHT_UNKNOWN = "DOSE_WEIGHT_UNKNOWN", (_I,), "R16", "dose checked against absolute maxima only"
    TARGET_MISSED = "TARGET_MISSED", (_W,), "contracts.md §5", "planned tip not inside the marked target"
    TARGET_NOT_MARKED = "TARGET_NOT_MARKED", (_I,), "contracts.md §5", "no target marked"
    IMPLAUSIBLE_NEEDLE_LENGTH = (
        "IMPLAUSIBLE_NEEDLE_LENGTH",
        (_B,),
        "1E",
        ("needle longer than any made (> 200 mm) or shorter than 1 mm"),
    )
    IMPLAUSIBLE_TARGET_DEPTH = (
        "IMPLAUSIBLE_TARGET_DEPTH",
        (_B,),
        "contracts.md §3 [inference]",
        ("planned tip above the skin or less than 1 mm below it (a depth of 0)"),
    )
    IMPLAUSIBLE_PATH = (
        "IMPLAUSIBLE_PATH",
        (_B,),
        "contracts.md §3 [inference]",
        ("needle drawn shorter than 1 mm from entry to tip"),
    )
    IMPLAUSIBLE_STRUCTURE = (
        "IMPLAUSIBLE_STRUCTURE",
        (_B,),
        "contracts.md §3",
        ("a marked structure lies entirely above the skin, outside the patient"),
    )
    # Added by the plan library (needleplan.library.outcome), not by a rule of the check:
    PRIOR_POOR_OUTCOME = (
        "PRIOR_POOR_OUTCOME",
        (_I,),
        "library outcome [inference, IMMPACT]",
        ("an earlier plan of this patient at this site had a poor outcome (pain relief below 30%)"),
    )


def finding_codes_markdown() -> str:
    """The table of every finding code as Markdown (the text of ``docs/finding-codes.md``).

    >>> finding_codes_markdown().splitlines()[0]
    '# Finding codes'
    """
    lines = [
        "# Finding codes",
        "",
        "Generated from `needleplan.safety.codes.FindingCode` by",
        "`python scripts/make_finding_codes_doc.py`; do not edit by hand",
        "(`tests/test_finding_codes.py` fails when this file and the enumeration differ).",
        "",
        "Every code the safety check and the plan library can report. Severities are `block` (the",
        "plan must not be carried out as drawn), `warn` and `info`; several are listed when the code's",
        "severity depends on the case. Rule rows (R1..R20) are those of [clinical-rules.md](clinical-rules.md);",
        '"§N" is a section of [contracts.md](contracts.md).',
        "",
        "| code | severity | rule row | when |",
        "| --- | --- | --- | --- |",
    ]
    for code in FindingCode:
        severity = "/".join(str(s) for s in code.severities)
        lines.append(f"| `{code.value}` | {severity} | {code.rows} | {code.when} |")
    return "\n".join(lines) + "\n"
