"""Hand-worked safety scenarios: each plan with the findings that must and must not appear, and metrics.

Coordinates are world mm (row, col): row = depth below a skin at row 0 unless a skin line is marked.
Every expected number is worked out by hand in the comment beside it (to 0.1 mm / 0.1 deg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from tests.scenarios.plans import UNCAL, box, lido, line, plan, pleura


@dataclass
class Case:
    id: str
    plan: dict
    must: dict[str, str | None]  # code -> required severity (None: any)
    must_not: tuple[str, ...] = ()
    metrics: dict[str, float | str | None] = field(default_factory=dict)
    values: dict[str, dict] = field(default_factory=dict)  # code -> {value name: expected}


THIN_F = {"bmi": 17.9, "weight_kg": 52, "sex": "F"}
TRAP_TARGET = box("target", 10, -2, 13, 2)

CASES = [
    # 1. Thin trapezius, 38 mm needle aimed straight at the pleura (14 mm deep), tip at 12 mm.
    #    tip-to-pleura 14 - 12 = 2 mm < 5 margin; deepest safe = 14 - 5 = 9 mm; unused 38 - 12 = 26 mm
    #    reaches the pleura 2 mm past the tip; 90 deg > 50 deg visibility limit.
    Case(
        "thin_trapezius_at_pleura",
        plan("upper_trapezius", structures=[TRAP_TARGET, pleura(14)], entry=(0, 0), tip=(12, 0), patient=THIN_F),
        {
            "PLEURA_MARGIN": "warn",
            "PLEURA_OVERSHOOT": "warn",
            "NEEDLE_REACHES_PLEURA": "warn",
            "INTERCOSTAL_TARGET": "warn",
            "THIN_PATIENT": "warn",
            "STEEP_ANGLE": "warn",
            "PNEUMOTHORAX_SITE": "info",
        },
        ("PLEURA_NOT_MARKED", "NEEDLE_TOO_SHORT", "TARGET_MISSED"),
        {
            "depth_mm": 12.0,
            "path_length_mm": 12.0,
            "angle_deg": 90.0,
            "max_safe_insertion_mm": 9.0,
            "max_safe_insertion_limited_by": "pleura",
            "remaining_insertion_mm": -3.0,
            "overshoot_reach_mm": 26.0,
            "overshoot_first_hit": "pleura",
            "overshoot_first_hit_mm": 2.0,
            "skin_to_pleura_mm": 14.0,
        },
        {"PLEURA_MARGIN": {"tip_to_pleura_mm": 2.0, "margin_mm": 5.0}},
    ),
    # 2. Same patient, aimed onto a rib: rib rows 8-12, cols 6-16; entry (0,-4) to tip (7.5, 11).
    #    d = (7.5, 15): path = sqrt(56.25 + 225) = 16.771; angle = atan(7.5/15) = 26.565 deg (< 30: no STEEP).
    #    u = (0.4472, 0.8944): rib top (row 8) at s = 8/0.4472 = 17.889 (col -4 + 16 = 12, on the rib):
    #    bone contact before the pleura margin (row 9: s = 20.125), so limited by the rib, 17.9 - 16.8 = 1.1 left.
    #    Overshoot: 38 - 16.771 = 21.229 mm; rib met 0.5/0.4472 = 1.118 mm past the tip, pleura behind it.
    Case(
        "thin_trapezius_onto_rib",
        plan(
            "upper_trapezius",
            structures=[box("target", 5, 8, 8, 14), box("rib", 8, 6, 12, 16), pleura(14)],
            entry=(0, -4),
            tip=(7.5, 11),
            patient=THIN_F,
        ),
        {"THIN_PATIENT": "warn", "PNEUMOTHORAX_SITE": "info", "SAFE_INSERTION": "info"},
        (
            "PLEURA_MARGIN",
            "PLEURA_OVERSHOOT",
            "NEEDLE_REACHES_PLEURA",
            "INTERCOSTAL_TARGET",
            "STEEP_ANGLE",
            "RIB_IN_PATH",
            "TARGET_MISSED",
        ),
        {
            "path_length_mm": 16.771,
            "angle_deg": 26.565,
            "max_safe_insertion_mm": 17.889,
            "max_safe_insertion_limited_by": "rib",
            "remaining_insertion_mm": 1.118,
            "overshoot_first_hit": "rib",
            "overshoot_first_hit_mm": 1.118,
            "overshoot_reach_mm": 21.229,
        },
    ),
    # 3. Intercostal rhomboid target: ribs at cols -24..-14 and 14..24 (rows 20-26), pleura 25 mm deep.
    #    entry (0,-10) to tip (17, 0): path = sqrt(289 + 100) = 19.723, angle = atan(17/10) = 59.53 deg.
    #    u = (0.8619, 0.5070): pleura margin (row 20) at s = 20/0.8619 = 23.204 (col 1.8, between the ribs).
    #    Extension meets the pleura (8/0.8619 = 9.282 mm past the tip) within 38 - 19.723 = 18.277 mm.
    #    Measured skin-to-pleura 25 mm < 30 mm (rhomboid, Kim 2002 mean - 1 SD).
    Case(
        "intercostal_rhomboid",
        plan(
            "rhomboid",
            structures=[
                box("target", 15, -3, 19, 3),
                box("rib", 20, -24, 26, -14),
                box("rib", 20, 14, 26, 24),
                pleura(25),
            ],
            entry=(0, -10),
            tip=(17, 0),
            patient={"bmi": 22.0, "sex": "M"},
        ),
        {
            "INTERCOSTAL_TARGET": "warn",
            "PLEURA_OVERSHOOT": "warn",
            "NEEDLE_REACHES_PLEURA": "warn",
            "THIN_PATIENT": "warn",
            "STEEP_ANGLE": "warn",
        },
        ("PLEURA_MARGIN", "PLEURA_NOT_MARKED", "RIB_IN_PATH"),
        {
            "path_length_mm": 19.723,
            "angle_deg": 59.534,
            "max_safe_insertion_mm": 23.204,
            "max_safe_insertion_limited_by": "pleura",
            "overshoot_first_hit_mm": 9.282,
            "population_spd_estimate_mm": 40.59,
        },
        # Kim 2002: 10 x (0.380 x 22 - 4.301) = 40.6 mm
        {"THIN_PATIENT": {"population_spd_estimate_mm": 40.6, "skin_to_pleura_mm": 25.0}},
    ),
    # 4. Piriformis target behind an artery: artery box rows 40-44, cols -12..-8; entry (0,-40) to (58, 0).
    #    At row 42 the shaft is at col -40 + 42 x 40/58 = -11.03: inside the artery -> crossed (block).
    #    path = sqrt(58^2 + 40^2) = 70.456; angle = atan(58/40) = 55.41 deg.  Corner (40,-12) disc, radius 5:
    #    s^2 - 97.648 s + 2359 = 0 -> s = (97.648 - 9.955)/2 = 43.846 mm (first within 5 mm of the artery).
    Case(
        "piriformis_behind_artery",
        plan(
            "piriformis",
            structures=[
                box("target", 55, -5, 62, 5),
                box("artery", 40, -12, 44, -8),
                box("nerve", 70, -5, 76, 5, label="sciatic"),
            ],
            entry=(0, -40),
            tip=(58, 0),
            length=89,
        ),
        {"VESSEL_CROSSED": "block", "STEEP_ANGLE": "warn"},
        (
            "NERVE_NOT_MARKED",
            "NERVE_CROSSED",
            "NERVE_MARGIN",
            "NEEDLE_TOO_SHORT",
            "PLEURA_NOT_MARKED",
            "DOPPLER_ADVISED",
        ),
        {
            "depth_mm": 58.0,
            "path_length_mm": 70.456,
            "angle_deg": 55.408,
            "max_safe_insertion_mm": 43.846,
            "max_safe_insertion_limited_by": "artery",
        },
    ),
    # 5. Unreachable: piriformis 63 mm deep (Park 2011 mean) with a 38 mm needle, perpendicular.
    #    path 63 > 38: block; required 63 + 10 = 73 mm -> shortest standard needle 76 mm (3 in).
    #    No angle can do better than perpendicular (63 mm), so no safe angle either.
    Case(
        "unreachable_piriformis",
        plan(
            "piriformis",
            structures=[box("target", 60, -5, 66, 5), box("nerve", 75, -5, 80, 5)],
            entry=(0, 0),
            tip=(63, 0),
            length=38,
        ),
        {"NEEDLE_TOO_SHORT": "block", "NO_SAFE_ANGLE": "warn", "DOPPLER_ADVISED": "info"},
        ("NERVE_NOT_MARKED",),
        {
            "depth_mm": 63.0,
            "needle_length_required_mm": 73.0,
            "max_safe_insertion_mm": 28.0,
            "max_safe_insertion_limited_by": "needle_length",
        },
        {"NEEDLE_TOO_SHORT": {"required_mm": 73.0, "suggested_needle_mm": 76.0}},
    ),
    # 6. Hub margin: 30 mm path with a 38 mm needle leaves 8 mm < 10 mm outside: warn, not block.
    Case(
        "hub_margin_short",
        plan("other", structures=[box("target", 28, -2, 32, 2)], entry=(0, 0), tip=(30, 0), length=38),
        {"NEEDLE_TOO_SHORT": "warn"},
        (),
        {"needle_length_required_mm": 40.0},
    ),
    # 7. Steep 60 deg approach to a 20 mm deep target: entry offset 20/tan 60 = 11.547, path 20/sin 60 = 23.094.
    #    The flat alternative at 30 deg: offset 20/tan 30 = 34.641, path 20/sin 30 = 40.0.
    Case(
        "steep_60",
        plan("other", structures=[box("target", 18, -2, 22, 2)], entry=(0, -11.547005), tip=(20, 0)),
        {"STEEP_ANGLE": "warn"},
        (),
        {"angle_deg": 60.0, "path_length_mm": 23.094, "entry_offset_mm": 11.547},
        {"STEEP_ANGLE": {"level": "strong", "entry_offset_for_flat_mm": 34.641, "path_for_flat_mm": 40.0}},
    ),
    # 8. 45 deg: above the 40 deg visibility limit (warn level); path sqrt(2) x 20 = 28.284.
    Case(
        "angle_45",
        plan("other", structures=[box("target", 18, -2, 22, 2)], entry=(0, -20), tip=(20, 0)),
        {"STEEP_ANGLE": "warn"},
        (),
        {"angle_deg": 45.0, "path_length_mm": 28.284},
        {"STEEP_ANGLE": {"level": "warn"}},
    ),
    # 9. 35 deg: above 30 deg only: info.  offset = 20/tan 35 = 28.563.
    Case(
        "angle_35",
        plan("other", structures=[box("target", 18, -2, 22, 2)], entry=(0, -28.5630), tip=(20, 0)),
        {"STEEP_ANGLE": "info"},
        (),
        {"angle_deg": 35.0},
    ),
    # 10. 25 deg: no STEEP_ANGLE.  offset = 20/tan 25 = 42.890, path = 20/sin 25 = 47.324 (+10 > 38: too short).
    Case(
        "angle_25_flat",
        plan("other", structures=[box("target", 18, -2, 22, 2)], entry=(0, -42.8901), tip=(20, 0), length=64),
        {},
        ("STEEP_ANGLE", "NEEDLE_TOO_SHORT"),
        {"angle_deg": 25.0, "path_length_mm": 47.324},
    ),
    # 11. Dose over the limit: lidocaine 1% 25 mL = 250 mg; 4.5 mg/kg x 52 kg = 234 mg -> 106.8%: block.
    Case(
        "dose_over",
        plan("other", structures=[TRAP_TARGET], tip=(11, 0), patient={"weight_kg": 52}, injectate=[lido(25)]),
        {"DOSE_LIMIT": "block"},
        (),
        {},
        {"DOSE_LIMIT": {"fraction_of_max": 1.0684}},
    ),
    # 12. 20 mL = 200 mg of 234 mg = 85.5%: warn.
    Case(
        "dose_near",
        plan("other", structures=[TRAP_TARGET], tip=(11, 0), patient={"weight_kg": 52}, injectate=[lido(20)]),
        {"DOSE_LIMIT": "warn"},
        (),
        {},
        {"DOSE_LIMIT": {"fraction_of_max": 0.8547}},
    ),
    # 13. With epinephrine: 250 mg of min(7 x 52 = 364, 500) = 364 mg = 68.7%: nothing.
    Case(
        "dose_epi_ok",
        plan("other", structures=[TRAP_TARGET], tip=(11, 0), patient={"weight_kg": 52}, injectate=[lido(25, epi=True)]),
        {},
        ("DOSE_LIMIT",),
    ),
    # 14. Mixture additive: lidocaine 100 mg / 234 = 42.74% + bupivacaine 0.25% 20 mL = 50 mg /
    #     min(2 x 52 = 104, 175) = 48.08%: total 90.8%: warn.
    Case(
        "dose_mixture",
        plan(
            "other",
            structures=[TRAP_TARGET],
            tip=(11, 0),
            patient={"weight_kg": 52},
            injectate=[lido(10), lido(20, pct=0.25, drug="bupivacaine")],
        ),
        {"DOSE_LIMIT": "warn"},
        (),
        {},
        {"DOSE_LIMIT": {"fraction_of_max": 0.9082}},
    ),
    # 15. Strict formulary: 180 mg lidocaine at 80 kg: min(360, 300) -> 60% normally; cap 200 mg -> 90%: warn.
    Case(
        "dose_strict_formulary",
        plan(
            "other",
            structures=[TRAP_TARGET],
            tip=(11, 0),
            patient={"weight_kg": 80},
            injectate=[lido(18)],
            formulary="strict",
        ),
        {"DOSE_LIMIT": "warn"},
        (),
        {},
        {"DOSE_LIMIT": {"fraction_of_max": 0.9}},
    ),
    Case(
        "dose_standard_formulary",
        plan("other", structures=[TRAP_TARGET], tip=(11, 0), patient={"weight_kg": 80}, injectate=[lido(18)]),
        {},
        ("DOSE_LIMIT",),
    ),
    # 16. Unknown drug.
    Case(
        "dose_unknown_drug",
        plan(
            "other",
            structures=[TRAP_TARGET],
            tip=(11, 0),
            patient={"weight_kg": 80},
            injectate=[lido(2, drug="procaine")],
        ),
        {"DOSE_UNKNOWN_DRUG": "warn"},
        ("DOSE_LIMIT",),
    ),
    # 17. Uncalibrated thoracic plan: no mm metrics, mm rules skipped (listed), crossing still detected.
    Case(
        "uncalibrated",
        plan("rhomboid", structures=[TRAP_TARGET, pleura(14)], tip=(20, 0), cal=UNCAL),
        {"UNCALIBRATED": "block", "PLEURA_MARGIN": "block", "PNEUMOTHORAX_SITE": "info"},
        ("PLEURA_OVERSHOOT", "NEEDLE_REACHES_PLEURA", "STEEP_ANGLE", "SAFE_INSERTION", "NEEDLE_TOO_SHORT"),
        {"depth_mm": None, "max_safe_insertion_mm": None, "calibrated": False},
    ),
    # 18. Rhomboid with nothing marked: pleural depth not verified.
    Case(
        "pleura_not_marked",
        plan("rhomboid", structures=[TRAP_TARGET], tip=(11, 0)),
        {"PLEURA_NOT_MARKED": "block"},
        ("PLEURA_UNMEASURED", "PLEURA_MARGIN"),
    ),
    # 19. Only a rib marked: PLEURA_NOT_MARKED keeps its meaning (neither marked), a separate warning says so.
    Case(
        "rib_only",
        plan("rhomboid", structures=[TRAP_TARGET, box("rib", 20, -10, 25, 10)], tip=(11, 0)),
        {"PLEURA_UNMEASURED": "warn"},
        ("PLEURA_NOT_MARKED",),
    ),
    # 20. A detector's suggested pleura 14 mm deep that the plan does not mark: never a hazard (the tip
    #     is 2 mm from it, no PLEURA_MARGIN), but it is reported, and the pleura still counts as unmarked.
    Case(
        "suggested_pleura_only",
        plan("upper_trapezius", structures=[TRAP_TARGET, pleura(14, suggested=True, confidence=0.8)], tip=(12, 0)),
        {"PLEURA_SUGGESTED_UNMARKED": "warn", "PLEURA_NOT_MARKED": "block"},
        ("PLEURA_MARGIN", "PLEURA_OVERSHOOT", "NEEDLE_REACHES_PLEURA"),
        {},
        {"PLEURA_SUGGESTED_UNMARKED": {"depth_mm": 14.0}},
    ),
    # 21. Pleura marked on another frame: tip 7 mm above it is inside the 10 mm margin (7 >= 5 otherwise).
    #     Deepest safe: 17 - 10 = 7 mm.
    Case(
        "pleura_other_frame",
        plan("serratus_anterior", structures=[box("target", 8, -2, 12, 2), pleura(17, frame_index=4)], tip=(10, 0)),
        {"PLEURA_MARGIN": "warn"},
        (),
        {"max_safe_insertion_mm": 7.0},
        {"PLEURA_MARGIN": {"margin_mm": 10.0, "tip_to_pleura_mm": 7.0}},
    ),
    Case(
        "pleura_same_frame",
        plan("serratus_anterior", structures=[box("target", 8, -2, 12, 2), pleura(17, frame_index=0)], tip=(10, 0)),
        {},
        ("PLEURA_MARGIN",),
        {"max_safe_insertion_mm": 12.0},
    ),
    # 22. Lung disease raises the pleural warnings of case 1 to block.
    Case(
        "lung_disease",
        plan(
            "upper_trapezius",
            structures=[TRAP_TARGET, pleura(14)],
            tip=(12, 0),
            patient={**THIN_F, "lung_disease": True},
        ),
        {
            "LUNG_DISEASE": "warn",
            "PLEURA_MARGIN": "block",
            "PLEURA_OVERSHOOT": "block",
            "NEEDLE_REACHES_PLEURA": "block",
            "THIN_PATIENT": "warn",
        },
    ),
    # 23. Bilateral session at a thoracic site.
    Case(
        "bilateral",
        plan(
            "upper_trapezius",
            structures=[TRAP_TARGET, pleura(30)],
            tip=(11, 0),
            patient={"bilateral_session": True, "bmi": 26},
        ),
        {"BILATERAL_THORACIC": "warn"},
        ("THIN_PATIENT", "LUNG_DISEASE"),
    ),
    # 24. Planned prone, done sitting: margin 10 mm; tip at 11, pleura 20: 9 mm < 10.
    Case(
        "position_changed",
        plan(
            "thoracic_paraspinal",
            structures=[TRAP_TARGET, pleura(20)],
            tip=(11, 0),
            planning_position="prone",
            procedure_position="sitting",
        ),
        {"POSITION_CHANGED": "warn", "PLEURA_MARGIN": "warn"},
        (),
        {"max_safe_insertion_mm": 10.0},
    ),
    # 25. Anticoagulated at quadratus lumborum (deep, non-compressible) but not at upper trapezius.
    Case(
        "anticoag_ql",
        plan(
            "quadratus_lumborum",
            structures=[box("target", 40, -5, 50, 5), box("viscera", 70, -30, 90, 30)],
            tip=(45, 0),
            length=89,
            patient={"anticoagulated": True},
        ),
        {"ANTICOAGULATED_DEEP_SITE": "warn"},
        ("VISCERA_NOT_MARKED", "VISCERA_MARGIN"),
    ),
    Case(
        "anticoag_trapezius",
        plan("upper_trapezius", structures=[TRAP_TARGET, pleura(30)], tip=(11, 0), patient={"anticoagulated": True}),
        {},
        ("ANTICOAGULATED_DEEP_SITE",),
    ),
    # 26. Lumbar viscera: not marked; and a kidney 4 mm under the tip (margin 5): VISCERA_MARGIN.
    Case(
        "ql_viscera_missing",
        plan("quadratus_lumborum", structures=[box("target", 40, -5, 50, 5)], tip=(45, 0), length=89),
        {"VISCERA_NOT_MARKED": "warn"},
    ),
    Case(
        "ql_kidney_close",
        plan(
            "quadratus_lumborum",
            structures=[box("target", 40, -5, 50, 5), box("viscera", 49, -30, 70, 30)],
            tip=(45, 0),
            length=89,
        ),
        {"VISCERA_MARGIN": "warn"},
        ("VISCERA_CROSSED", "VISCERA_NOT_MARKED"),
        {"max_safe_insertion_mm": 44.0},
        {"VISCERA_MARGIN": {"tip_mm": 4.0}},
    ),  # 49 - 5 = 44
    # 27. Sciatic nerve crossed at piriformis (block) / 3 mm from the shaft (margin 5).
    Case(
        "nerve_crossed",
        plan(
            "piriformis", structures=[box("target", 55, -5, 62, 5), box("nerve", 30, -3, 35, 3)], tip=(58, 0), length=89
        ),
        {"NERVE_CROSSED": "block"},
        ("NERVE_NOT_MARKED",),
    ),
    Case(
        "nerve_margin",
        plan(
            "piriformis", structures=[box("target", 55, -5, 62, 5), box("nerve", 30, 3, 35, 8)], tip=(58, 0), length=89
        ),
        {"NERVE_MARGIN": "warn"},
        ("NERVE_CROSSED",),
        {},
        {"NERVE_MARGIN": {"shaft_mm": 3.0}},
    ),
    # 28. Piriformis without the sciatic nerve marked.
    Case(
        "sciatic_missing",
        plan("piriformis", structures=[box("target", 55, -5, 62, 5)], tip=(58, 0), length=89),
        {"NERVE_NOT_MARKED": "block", "DOPPLER_ADVISED": "info"},
    ),
    # 29. A vein crossed is a warning (compressible), an unclassified vessel a block.
    Case(
        "vein_crossed",
        plan("other", structures=[box("target", 18, -2, 22, 2), box("vein", 8, -3, 10, 3)], tip=(20, 0)),
        {"VESSEL_CROSSED": "warn"},
    ),
    Case(
        "vessel_unclassified_crossed",
        plan("other", structures=[box("target", 18, -2, 22, 2), box("vessel", 8, -3, 10, 3)], tip=(20, 0)),
        {"VESSEL_CROSSED": "block"},
    ),
    # 30. A suggested (unaccepted) artery on the path: never a confirmed hazard.
    Case(
        "suggested_artery",
        plan(
            "other", structures=[box("target", 18, -2, 22, 2), box("artery", 8, -3, 10, 3, suggested=True)], tip=(20, 0)
        ),
        {"SUGGESTION_UNCONFIRMED": "info"},
        ("VESSEL_CROSSED", "VESSEL_MARGIN"),
    ),
    # 31. Tip outside the target: target rows 18-22 cols 5-9, tip (20, 0): 5 mm from it.
    Case(
        "target_missed",
        plan("other", structures=[box("target", 18, 5, 22, 9)], tip=(20, 0)),
        {"TARGET_MISSED": "warn"},
        (),
        {},
        {"TARGET_MISSED": {"distance_mm": 5.0}},
    ),
    # 32. Out-of-plane at a thoracic site: warn, and no in-plane visibility rule.
    Case(
        "out_of_plane_thoracic",
        plan("rhomboid", structures=[TRAP_TARGET, pleura(30)], tip=(11, 0), approach="out_of_plane"),
        {"OUT_OF_PLANE": "warn"},
        ("STEEP_ANGLE",),
    ),
    # 33. Linear 12 MHz probe and a 35 mm deep target (> 30 mm): PROBE_DEPTH; a curvilinear probe: none.
    Case(
        "probe_linear_deep",
        plan(
            "gluteus_medius",
            structures=[box("target", 33, -3, 37, 3)],
            tip=(35, 0),
            length=64,
            probe={"type": "linear", "frequency_mhz": 12},
        ),
        {"PROBE_DEPTH": "warn"},
    ),
    Case(
        "probe_curvilinear",
        plan(
            "gluteus_medius",
            structures=[box("target", 33, -3, 37, 3)],
            tip=(35, 0),
            length=64,
            probe={"type": "curvilinear", "frequency_mhz": 4},
        ),
        {},
        ("PROBE_DEPTH",),
    ),
    # 34. Tilted skin line from (2,-20) to (4,20): at col 0 the skin is at row 3, so the tip (12, 0) is
    #     9 mm deep; the vertical needle makes 90 - atan(2/40) = 87.138 deg with the skin.
    Case(
        "tilted_skin",
        plan(
            "other",
            structures=[box("target", 10, -2, 14, 2), line("skin", (2, -20), (4, 20))],
            entry=(3, 0),
            tip=(12, 0),
        ),
        {"STEEP_ANGLE": "warn"},
        (),
        {"depth_mm": 9.0, "angle_deg": 87.138, "path_length_mm": 9.0},
    ),
    # 35. A rib before the planned tip: needle meets bone at 8 mm, tip at 15 mm.
    Case(
        "rib_in_path",
        plan("other", structures=[box("target", 13, -2, 17, 2), box("rib", 8, -5, 11, 5)], tip=(15, 0)),
        {"RIB_IN_PATH": "warn"},
        (),
        {"max_safe_insertion_mm": 8.0, "max_safe_insertion_limited_by": "rib"},
    ),
    # 36. A clean superficial plan: nothing above info.
    Case(
        "clean_superficial",
        plan(
            "other",
            structures=[box("target", 8, -2, 12, 2)],
            entry=(0, -20),
            tip=(10, 0),
            length=38,
            patient={"weight_kg": 70},
            injectate=[lido(2)],
        ),
        {"SAFE_INSERTION": "info"},
        ("STEEP_ANGLE", "NEEDLE_TOO_SHORT", "TARGET_MISSED", "DOSE_LIMIT", "UNCALIBRATED", "NO_SAFE_ANGLE"),
        # path sqrt(100 + 400) = 22.361; limited by 38 - 10 = 28 mm of needle
        {"path_length_mm": 22.361, "angle_deg": 26.565, "max_safe_insertion_mm": 28.0},
    ),
]


BY_ID = {c.id: c for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scenario(case: Case) -> None:
    report = check_plan(plan_from_dict(case.plan))
    got = {f.code: f for f in report.findings}
    for code, severity in case.must.items():
        assert code in got, f"{code} missing; got {sorted(got)}"
        if severity is not None:
            assert severity in {f.severity for f in report.by_code(code)}, (code, got[code].severity)
    for code in case.must_not:
        assert code not in got, f"{code} must not appear: {got[code].message}"
    for name, expected in case.metrics.items():
        actual = report.metrics[name]
        if isinstance(expected, float):
            assert actual == pytest.approx(expected, abs=0.05), name
        else:
            assert actual == expected, name
    for code, values in case.values.items():
        for name, expected in values.items():
            actual = got[code].values[name]
            if isinstance(expected, float):
                assert actual == pytest.approx(expected, abs=0.05 if expected > 2 else 0.001), (code, name)
            else:
                assert actual == expected, (code, name)


def test_at_least_thirty_scenarios() -> None:
    assert len(CASES) >= 30


def test_every_finding_has_a_message_with_numbers_where_measured() -> None:
    report = check_plan(plan_from_dict(BY_ID["thin_trapezius_at_pleura"].plan))
    margin = report.by_code("PLEURA_MARGIN")[0]
    assert margin.message == "Tip 2.0 mm above the pleura; margin 5 mm."
    for f in report.findings:
        assert f.message and f.message[0].isupper() and f.message.endswith(".")


def test_uncalibrated_lists_what_was_skipped() -> None:
    report = check_plan(plan_from_dict(BY_ID["uncalibrated"].plan))
    skipped = report.by_code("UNCALIBRATED")[0].values["skipped"]
    for code in ("PLEURA_MARGIN", "PLEURA_OVERSHOOT", "NEEDLE_TOO_SHORT", "STEEP_ANGLE", "VESSEL_MARGIN"):
        assert code in skipped
    assert all(v is None for k, v in report.metrics.items() if k.endswith("_mm"))


def test_site_override_and_caller_override_of_thresholds() -> None:
    # The same-frame case's tip is 7 mm above the pleura on the same frame: clean at 5 mm, flagged at an 8 mm margin.
    p = plan_from_dict(BY_ID["pleura_same_frame"].plan)
    assert "PLEURA_MARGIN" not in check_plan(p).codes
    report = check_plan(p, thresholds={"PLEURA_MARGIN_MM": 8.0})
    assert report.by_code("PLEURA_MARGIN")[0].values["margin_mm"] == 8.0
    assert report.metrics["max_safe_insertion_mm"] == pytest.approx(17 - 8)


def test_report_is_deterministic_and_sorted_by_severity() -> None:
    p = plan_from_dict(BY_ID["thin_trapezius_at_pleura"].plan)
    a, b = check_plan(p), check_plan(p)
    assert a == b
    order = ["block", "warn", "info"]
    ranks = [order.index(f.severity) for f in a.findings]
    assert ranks == sorted(ranks)
    assert a.worst_severity == "warn" and math.isfinite(a.metrics["depth_mm"])


def test_trapezius_direction_needs_orientation():
    # Needle from (0,-18) to (11, 0) heads to the image's right (col increases).
    base = plan("upper_trapezius", structures=[box("target", 10, -2, 13, 2), pleura(30)], entry=(0, -18), tip=(11, 0))
    assert "TRAPEZIUS_DIRECTION" not in check_plan(plan_from_dict(base)).codes  # orientation unknown
    medial = check_plan(plan_from_dict({**base, "orientation": {"right": "medial"}}))
    assert medial.by_code("TRAPEZIUS_DIRECTION")[0].values["heading"] == "medial"
    assert "TRAPEZIUS_DIRECTION" not in check_plan(plan_from_dict({**base, "orientation": {"right": "lateral"}})).codes


def test_needle_reaches_pleura_suggests_a_shorter_needle():
    # Vertical 50 mm needle to a tip 6 mm deep, pleura 20 mm: 6 + 10 = 16 mm needed -> 16 mm needle,
    # which cannot reach the pleura 20 mm away.
    d = plan("rhomboid", structures=[box("target", 5, -2, 7, 2), pleura(20)], tip=(6, 0), length=50)
    f = check_plan(plan_from_dict(d)).by_code("NEEDLE_REACHES_PLEURA")[0]
    assert f.values["suggested_needle_mm"] == 16.0 and "cannot reach it" in f.message
