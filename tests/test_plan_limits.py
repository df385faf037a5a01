"""Plan validation refuses what is not a plan with one line naming the field, the value and the range.

Ranges: :data:`needleplan.clinical.plausible_ranges.PLAN_RANGES`; caps: ``MAX_*`` of the same module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from needleplan.cli import main
from needleplan.clinical.plausible_ranges import (
    MAX_NESTING,
    MAX_PLAN_FILE_BYTES,
    MAX_POINTS_PER_STRUCTURE,
    MAX_STRUCTURES,
    MAX_TOTAL_POINTS,
)
from needleplan.errors import PlanFormatError
from needleplan.plan import load_plan, plan_from_dict, plan_to_dict

REPRO = Path(__file__).parent / "data" / "fuzz_repro" / "plans"


def _plan(**overrides) -> dict:
    d = {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]},
        "site": "rhomboid",
        "patient": {"weight_kg": 70, "bmi": 24},
        "structures": [{"kind": "target", "points_mm": [[10, -2], [10, 2], [14, 0]], "closed": True}],
        "needle": {"entry_mm": [0, -18], "target_mm": [12, 0], "length_mm": 38, "gauge": 25},
        "injectate": [{"drug": "lidocaine", "concentration_pct": 1, "volume_ml": 2}],
    }
    d.update(overrides)
    return d


def _set(d: dict, path: tuple, value) -> dict:
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return d


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("needle", "length_mm"), 1e9, "needle.length_mm: expected a finite number from 5 to 300 mm, got 1000000000.0"),
        (("needle", "length_mm"), 4.9, "needle.length_mm: expected a finite number from 5 to 300 mm, got 4.9"),
        (("needle", "length_mm"), 10**400, "needle.length_mm: expected a finite number from 5 to 300 mm, got 1000"),
        (("needle", "gauge"), 99, "needle.gauge: expected an integer from 7 to 34 G, got 99"),
        (
            ("needle", "entry_mm"),
            [-1e18, 0],
            "needle.entry_mm: expected a finite number from -10000 to 10000 mm, got -1e+18",
        ),
        (("needle", "target_mm"), [10_000.5, 0], "needle.target_mm: expected a finite number from -10000 to 10000 mm"),
        (
            ("structures", 0, "points_mm", 1),
            [10**400, 2],
            "structures[0].points_mm[1]: expected a finite number from -10000 to 10000 mm, got 100000",
        ),
        (("patient", "weight_kg"), 0.4, "patient.weight_kg: expected a finite number from 0.5 to 400 kg, got 0.4"),
        (("patient", "weight_kg"), 401, "patient.weight_kg: expected a finite number from 0.5 to 400 kg, got 401"),
        (("patient", "bmi"), 1e300, "patient.bmi: expected a finite number from 5 to 250 kg/m2"),
        (
            ("injectate", 0, "volume_ml"),
            5e-324,
            "injectate[0].volume_ml: expected a finite number from 0.001 to 1000 mL",
        ),
        (
            ("injectate", 0, "concentration_pct"),
            150,
            "injectate[0].concentration_pct: expected a finite number from 0.001 to 20 %, got 150",
        ),
        (
            ("calibration", "spacing_mm"),
            [5e-324, 0.2],
            "calibration.spacing_mm: expected a finite number from 0.005 to 5 mm/px, got 5e-324",
        ),
        (
            ("calibration", "spacing_mm"),
            [0.2, 1e300],
            "calibration.spacing_mm: expected a finite number from 0.005 to 5 mm/px, got 1e+300",
        ),
        (
            ("calibration", "origin_px"),
            [-1e308, 0],
            "calibration.origin_px: expected a finite number from -100000 to 100000 px",
        ),
        (("calibration", "region_index"), 10**400, "calibration.region_index: expected an integer from 0 to 65,535"),
        (("image", "frame_index"), 2**31, "image.frame_index: expected an integer from 0 to 2,147,483,647"),
        (("structures", 0, "frame_index"), 1.5, "structures[0].frame_index: expected an integer"),
        (
            ("probe",),
            {"type": "linear", "frequency_mhz": 10**400},
            "probe.frequency_mhz: expected a finite number from 0.5 to 100 MHz",
        ),
    ],
)
def test_a_number_outside_its_physical_range_is_refused_with_field_value_and_range(path, value, message):
    with pytest.raises(PlanFormatError) as err:
        plan_from_dict(_set(_plan(), path, value))
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text and len(text) < 200  # one line, a huge integer is not printed in full


@pytest.mark.parametrize(
    "path, value",
    [
        (("needle", "length_mm"), 5),
        (("needle", "length_mm"), 300),
        (("patient", "weight_kg"), 0.5),
        (("patient", "weight_kg"), 400),
        (("calibration", "spacing_mm"), [0.005, 5]),
        (("needle", "entry_mm"), [-10_000, 10_000]),
    ],
)
def test_the_ends_of_each_range_are_accepted(path, value):
    plan_from_dict(_set(_plan(), path, value))


def test_an_optional_field_given_as_null_means_absent():
    # docs/contracts.md §4: an uncalibrated plan may give spacing_mm and origin_px as null
    d = _plan(
        calibration={
            "source": "NONE",
            "spacing_mm": None,
            "origin_px": None,
            "region_index": None,
            "region_box_px": None,
            "reason": None,
            "notes": None,
        },
        approach=None,
        injectate=None,
        findings=None,
        metrics=None,
        patient=None,
    )
    d["structures"][0].update(closed=None, label=None, frame_index=None, suggested=None, confidence=None)
    d["needle"]["gauge"] = None
    plan = plan_from_dict(d)
    assert plan.calibration.source == "NONE" and plan.calibration.origin_px == (0.0, 0.0)
    assert plan.approach == "in_plane" and plan.injectate == () and plan.needle.gauge is None
    s = plan.structures[0]
    assert (s.closed, s.label, s.frame_index, s.suggested, s.confidence) == (False, None, None, False, None)
    assert plan_from_dict(plan_to_dict(plan)) == plan  # and it round-trips


def test_caps_on_points_and_structures_name_the_numbers():
    many = [[float(i % 50), float(i)] for i in range(MAX_POINTS_PER_STRUCTURE + 1)]
    with pytest.raises(
        PlanFormatError,
        match=r"^structures\[0\]\.points_mm: 2,001 points, more than a person "
        r"draws \(at most 2,000 per structure\); simplify the outline",
    ):
        plan_from_dict(_plan(structures=[{"kind": "other", "points_mm": many}]))
    # exactly the cap is a plan
    plan_from_dict(_plan(structures=[{"kind": "other", "points_mm": many[:MAX_POINTS_PER_STRUCTURE]}]))
    mark = {"kind": "other", "points_mm": [[1, 1]]}
    with pytest.raises(PlanFormatError, match=r"^structures: 201 structures, more than a plan marks \(at most 200\)"):
        plan_from_dict(_plan(structures=[mark] * (MAX_STRUCTURES + 1)))
    # 11 structures of 2,000 points each: 22,000 in all, over the 20,000 cap
    outline = {"kind": "other", "points_mm": many[:MAX_POINTS_PER_STRUCTURE]}
    with pytest.raises(
        PlanFormatError,
        match=r"^structures: 22,000 points in all, more than a plan needs "
        r"\(at most 20,000\)",
    ):
        plan_from_dict(_plan(structures=[outline] * (MAX_TOTAL_POINTS // MAX_POINTS_PER_STRUCTURE + 1)))


def test_nesting_deeper_than_the_format_is_refused_but_unknown_fields_are_kept():
    def nest(depth):
        value = 1
        for _ in range(depth):
            value = [value]
        return value

    # the plan object is level 1, so a field nested MAX_NESTING - 1 deep just fits
    kept = plan_from_dict(_plan(lab={"deep": nest(MAX_NESTING - 2)}))
    assert plan_to_dict(kept)["lab"] == {"deep": nest(MAX_NESTING - 2)}
    with pytest.raises(PlanFormatError, match=r"^plan: arrays and objects nested more than 16 deep"):
        plan_from_dict(_plan(lab={"deep": nest(MAX_NESTING - 1)}))
    with pytest.raises(PlanFormatError, match="nested more than 16 deep"):
        plan_from_dict(_plan(lab=nest(100_000)))  # measured without recursion


def _cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "P1_bigint_overflow",
            "structures[0].points_mm[5]: expected a finite number from -10000 to 10000 mm, got 1000",
        ),
        ("P2_deep_nesting_recursion", "arrays and objects nested thousands deep; a needleplan plan nests 5 deep"),
        ("P4_1km_needle_clean", "needle.length_mm: expected a finite number from 5 to 300 mm, got 1000000000.0"),
    ],
)
def test_reproducers_are_answered_with_one_line_and_exit_2(name, message, capsys):
    path = REPRO / f"{name}.plan.json"
    code, out, err = _cli(["check", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert message in err and str(path) in err


def test_a_plan_file_larger_than_any_plan_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.plan.json"
    path.write_bytes(b"[" + b" " * MAX_PLAN_FILE_BYTES + b"]")
    with pytest.raises(PlanFormatError, match=r"8\.4 MB, larger than any plan \(at most 8\.4 MB\)"):
        load_plan(path)


def test_a_million_point_plan_is_one_line_in_bounded_memory(tmp_path):
    # issue 17: a structure of 1,000,000 points took 8.4 GB and 34 s in `check`.  The file is made
    # here (about 25 MB) and checked in a new process whose address space is capped at 1.5 GB: it
    # must answer with one line, exit 2, and never come near the cap.
    plan = _plan()
    plan["structures"] = [
        {
            "kind": "other",
            "closed": False,
            "points_mm": [[20.0 + (i % 7) * 0.01, -50.0 + i * 1e-4] for i in range(1_000_000)],
        }
    ]
    path = tmp_path / "million.plan.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    assert path.stat().st_size > 20_000_000
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))\n"
        "from needleplan.cli import main\n"
        "sys.exit(main(['check', sys.argv[1]]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == "" and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "larger than any plan" in proc.stderr
    # the same plan given as an object (the plugin, a library add) is refused by the point cap
    with pytest.raises(PlanFormatError, match=r"1,000,000 points, more than a person draws"):
        plan_from_dict(plan)
