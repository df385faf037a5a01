"""Mutated plans for fuzzing ``check`` (issue 16/17), shared by the tests and ``benchmarks/fuzz_plans.py``.

:func:`mutate` changes a valid plan dict the way the independent tester did: a leaf replaced by a
hostile value (10**400, -1e18, NaN, null, a string), a whole plan scaled to nanometres or kilometres,
deep nesting, a huge list, a needle of 1 km, hazards moved above the skin.  :func:`nonsense_reasons`
is the oracle, worked out independently of the rules: why a plan describes no real procedure (then
``check`` must answer ``block``).
"""

from __future__ import annotations

import copy
import json
import math
import random
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PLANS = sorted((ROOT / "sample_dicom").glob("*.plan.json"))

HOSTILE = (
    10**400,
    -(10**400),
    -1e18,
    1e18,
    5e-324,
    1e300,
    -1e300,
    float("nan"),
    float("inf"),
    -float("inf"),
    None,
    "",
    "12",
    True,
    [],
    {},
    [1, 2, 3],
    0,
    -1,
    2**63,
    1e-12,
)


def base_plans() -> list[dict]:
    """The shipped sample plans (valid, realistic)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in SAMPLE_PLANS]


def _paths(obj: Any, *, max_depth: int = 12) -> list[tuple]:
    """Every path to a leaf or container inside ``obj`` (without recursion, at most ``max_depth`` deep)."""
    out, stack = [], [((), obj)]
    while stack:
        prefix, item = stack.pop()
        out.append(prefix)
        if len(prefix) >= max_depth:
            continue
        if isinstance(item, dict):
            stack.extend((prefix + (k,), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((prefix + (i,), v) for i, v in enumerate(item))
    out.sort(key=repr)  # the same order on every run, whatever the traversal
    return out


def _set(obj: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


def _scale(plan: dict, factor: float) -> None:
    for s in plan.get("structures") or []:
        s["points_mm"] = [[p[0] * factor, p[1] * factor] for p in s["points_mm"]]
    needle = plan.get("needle")
    if needle:
        needle["entry_mm"] = [v * factor for v in needle["entry_mm"]]
        needle["target_mm"] = [v * factor for v in needle["target_mm"]]


def _above_skin(plan: dict, rng: random.Random) -> None:
    structures = [s for s in plan.get("structures") or [] if s["kind"] != "skin"]
    if structures:
        s = rng.choice(structures)
        top = max(p[0] for p in s["points_mm"])
        lift = top + rng.uniform(1.0, 30.0)
        s["points_mm"] = [[p[0] - lift, p[1]] for p in s["points_mm"]]


def _nest(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


def mutate(plan: dict, rng: random.Random) -> dict:
    """One to three mutations of a copy of ``plan`` (a mutation that no longer fits is skipped)."""
    plan = copy.deepcopy(plan)
    for _ in range(rng.randint(1, 3)):
        try:
            _mutate_once(plan, rng)
        except (TypeError, KeyError, IndexError, AttributeError, ValueError, OverflowError):
            pass  # an earlier mutation changed the shape this one expects
    return plan


def _mutate_once(plan: dict, rng: random.Random) -> None:
    """One mutation, chosen at random (hostile leaf, scaling, needle, nesting, points, deletion)."""
    kind = rng.random()
    paths = [p for p in _paths(plan) if p]
    if kind < 0.45 and paths:
        _set(plan, rng.choice(paths), rng.choice(HOSTILE))
    elif kind < 0.55:
        _scale(plan, rng.choice((1e-9, 1e-6, 1e-3, 10.0, 1e3, 1e6)))
    elif kind < 0.63 and plan.get("needle"):
        plan["needle"]["length_mm"] = rng.choice((1e9, 1e-12, 0.5, 4.9, 5.0, 199.0, 201.0, 250.0, 300.0))
    elif kind < 0.72:
        _above_skin(plan, rng)
    elif kind < 0.78 and paths:
        _set(plan, rng.choice(paths), _nest(rng.choice((6, 20, 1000, 5000))))
    elif kind < 0.84 and plan.get("structures"):
        s = rng.choice(plan["structures"])
        factor = rng.choice((10, 200, 3000))
        if len(s["points_mm"]) * factor <= 200_000:  # repeated, this could reach 1e8 points (GBs of JSON)
            s["points_mm"] = s["points_mm"] * factor
    elif kind < 0.90 and plan.get("needle"):
        # the tip above the skin, at the skin, or a fraction of a millimetre from the entry
        entry = plan["needle"]["entry_mm"]
        plan["needle"]["target_mm"] = rng.choice(
            ([entry[0] - rng.uniform(0.5, 20), entry[1] + 5], [0.0, entry[1] + 3], [entry[0] + 1e-4, entry[1] + 1e-4])
        )
    elif kind < 0.95:
        # an optional field the rules read (design: kept unknown fields), given a hostile value
        field = rng.choice(("probe", "orientation", "formulary", "side", "planning_position", "procedure_position"))
        value = rng.choice(HOSTILE)
        plan[field] = rng.choice((value, {"type": "linear", "frequency_mhz": value}, {"right": value}))
    elif paths:
        path = rng.choice(paths)
        parent = plan
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict):
            del parent[path[-1]]


def nonsense_reasons(plan: Any) -> list[str]:
    """Why a validated :class:`~needleplan.plan.Plan` describes no real procedure (empty: it may be real).

    Worked out without the rules: depth is measured from ``row_mm = 0`` unless a skin line is marked
    (plans with a skin line are judged only on what does not need it).  Uncalibrated plans are judged
    only on the needle's length.
    """
    reasons = []
    needle = plan.needle
    if needle is not None and not 1.0 <= needle.length_mm <= 200.0:
        reasons.append(f"needle of {needle.length_mm:g} mm")
    if not plan.calibration.is_calibrated:
        return reasons
    has_skin = any(s.kind == "skin" and not s.suggested for s in plan.structures)
    if needle is not None:
        path = math.dist(needle.entry_mm, needle.target_mm)
        if needle.length_mm < path:
            reasons.append(f"needle {needle.length_mm:g} mm shorter than its path {path:g} mm")
        if path < 1.0 - 1e-6:
            reasons.append(f"path of {path:g} mm")
        if not has_skin and needle.target_mm[0] < 1.0 - 1e-6:
            reasons.append(f"target {needle.target_mm[0]:g} mm below the skin")
    if not has_skin:
        for i, s in enumerate(plan.structures):
            if not s.suggested and s.kind != "skin" and all(p[0] < -1e-6 for p in s.points_mm):
                reasons.append(f"structures[{i}] above the skin")
    return reasons


def verdict(d: dict, path: Path) -> tuple[str, Any]:
    """Run a mutated plan as ``needleplan check`` does: write it, :func:`load_plan`, :func:`check_plan`.

    Returns ``("refused", message)`` for a :class:`NeedleplanError` or ``("checked", (plan, report))``;
    any other exception propagates (that is the bug the fuzzing looks for).
    """
    from needleplan.errors import NeedleplanError
    from needleplan.plan import load_plan, plan_from_dict
    from needleplan.safety import check_plan

    try:
        path.write_text(json.dumps(d), encoding="utf-8")  # NaN and Infinity written as JSON allows them
        load = load_plan
    except RecursionError:  # nested deeper than Python's JSON writer goes: give the object itself

        def load(_path):
            return plan_from_dict(d)

    try:
        plan = load(path)
    except NeedleplanError as exc:
        return "refused", str(exc)
    return "checked", (plan, check_plan(plan))
