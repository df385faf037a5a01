"""Fuzzing plans through ``check`` (issue 16, issue 17): only a NeedleplanError or a verdict, and a
``block`` whenever the plan describes no real procedure.

Two tests: a hypothesis property over plans the validator accepts, and a seeded run of mutated
copies of the shipped sample plans (the tester's method; ``benchmarks/fuzz_plans.py`` runs 2,000).
The oracle (:func:`tests.plan_mutations.nonsense_reasons`) is worked out without the rules.
"""

from __future__ import annotations

import json
import math
import random
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needleplan.clinical import SITE_PROFILES
from needleplan.clinical.plausible_ranges import MAX_POINTS_PER_STRUCTURE, MAX_TOTAL_POINTS
from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from needleplan.vocabulary import StructureKind
from tests.plan_mutations import base_plans, mutate, nonsense_reasons, verdict

# coordinates at every scale a mutation reaches: nanometres, a body, the +-10 m limit
_coord = st.one_of(st.floats(-1e-6, 1e-6), st.floats(-80.0, 80.0), st.floats(-10_000.0, 10_000.0))
_point = st.tuples(_coord, _coord).map(list)


@st.composite
def _structure(draw):
    kind = draw(st.sampled_from([k.value for k in StructureKind]))
    closed = draw(st.booleans())
    points = draw(st.lists(_point, min_size=3 if closed else 1, max_size=12))
    return {"kind": kind, "points_mm": points, "closed": closed, "suggested": draw(st.booleans())}


@st.composite
def _plan_dict(draw):
    calibrated = draw(st.booleans())
    entry = draw(_point)
    target = draw(_point.filter(lambda p: p != entry))
    return {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": {"source": "MANUAL", "spacing_mm": [draw(st.floats(0.005, 5.0))] * 2, "origin_px": [0, 0]}
        if calibrated
        else {"source": "NONE", "origin_px": None},
        "site": draw(st.sampled_from(sorted(SITE_PROFILES))),
        "approach": draw(st.sampled_from(["in_plane", "out_of_plane"])),
        "patient": {"weight_kg": draw(st.floats(0.5, 400.0)), "lung_disease": draw(st.booleans())},
        "structures": draw(st.lists(_structure(), max_size=5)),
        "needle": {"entry_mm": entry, "target_mm": target, "length_mm": draw(st.floats(5.0, 300.0))},
        "injectate": [
            {
                "drug": "lidocaine",
                "concentration_pct": draw(st.floats(0.001, 20.0)),
                "volume_ml": draw(st.floats(0.001, 1000.0)),
            }
        ],
    }


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(_plan_dict())
def test_every_accepted_plan_gets_a_verdict_and_nonsense_is_blocked(d):
    plan = plan_from_dict(d)  # every generated number is inside its range: the validator accepts it
    report = check_plan(plan)
    assert report.worst_severity in (None, "info", "warn", "block")
    json.dumps(report.to_dict(), allow_nan=False)  # a verdict is plain JSON: no inf, no nan
    reasons = nonsense_reasons(plan)
    if reasons:
        assert report.worst_severity == "block", (reasons, [(f.code, f.severity) for f in report.findings])


def test_the_largest_plan_the_validator_accepts_is_checked_in_bounded_memory():
    # 10 wavy lines of 2,000 points (20,000 in all, both caps reached).  Measured: 131 MB peak, about
    # 1.2 s (benchmarks/fuzz_plans.py); before the caps, 1,000,000 points took 8.4 GB.
    n = MAX_POINTS_PER_STRUCTURE
    kinds = ("pleura", "artery", "rib", "nerve", "vein")
    structures = [
        {
            "kind": kinds[j % 5],
            "closed": False,
            "points_mm": [[8.0 + 3 * j + 0.5 * math.sin(i / 7), -60 + 120 * i / (n - 1)] for i in range(n)],
        }
        for j in range(MAX_TOTAL_POINTS // n)
    ]
    plan = plan_from_dict(
        {
            "format": "needleplan.plan",
            "version": 1,
            "image": {"frame_index": 0},
            "calibration": {"source": "MANUAL", "spacing_mm": [0.2, 0.2], "origin_px": [0, 0]},
            "site": "rhomboid",
            "structures": structures,
            "needle": {"entry_mm": [0, -30], "target_mm": [4, 0], "length_mm": 38},
        }
    )
    tracemalloc.start()
    try:
        report = check_plan(plan)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.worst_severity == "warn"  # the tip is 4 mm above the pleura at row 8: a margin warning
    assert peak < 512 * 2**20, f"{peak / 2**20:.0f} MB"


@pytest.mark.parametrize("seed", [20261204, 17, 16])
def test_mutated_plans_get_one_line_or_a_verdict_and_nonsense_is_blocked(seed, tmp_path):
    rng = random.Random(seed)
    bases = base_plans()
    refused = checked = blocked_nonsense = 0
    for _ in range(120):
        outcome, value = verdict(mutate(rng.choice(bases), rng), tmp_path / "mutated.plan.json")
        if outcome == "refused":
            refused += 1
            assert "\n" not in value and len(value) < 400, value
            continue
        checked += 1
        plan, report = value
        if nonsense_reasons(plan):
            assert report.worst_severity == "block", (nonsense_reasons(plan), report.codes)
            blocked_nonsense += 1
    # the run exercised both paths: refusals and verdicts, nonsense among the verdicts
    assert refused >= 10 and checked >= 10 and blocked_nonsense >= 1
