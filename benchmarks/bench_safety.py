"""Benchmark: one full safety check of a 10-structure plan, and the safe angle window of a 60 x 40 mm field.

Targets (issue 4): full check < 2 ms median (``check_plan(plan, window=False)``); safe angle window
< 50 ms (so the plugin can update while the needle is dragged); ``check_plan(plan)`` computes both.
Prints a plain table; exit 1 if a target is missed.

    python benchmarks/bench_safety.py [--repeats 300]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

from needleplan.plan import plan_from_dict
from needleplan.planner import prepare, safe_angle_window
from needleplan.safety import check_plan


def _ellipse(kind, row, col, r_row, r_col, n=16, **kw):
    pts = [[row + r_row * math.sin(2 * math.pi * k / n), col + r_col * math.cos(2 * math.pi * k / n)] for k in range(n)]
    return {"kind": kind, "points_mm": pts, "closed": True, **kw}


def _wavy(kind, row, c0=-30.0, c1=30.0, n=25, amp=0.6):
    return {
        "kind": kind,
        "closed": False,
        "points_mm": [[row + amp * math.sin(k / 3), c0 + (c1 - c0) * k / (n - 1)] for k in range(n)],
    }


def bench_plan() -> dict:
    """A 60 mm wide x 40 mm deep rhomboid field with 10 marked structures (16-25 vertices each)."""
    structures = [
        _wavy("skin", 0.0),
        _wavy("fascia", 6.0),
        _ellipse("target", 12.0, 2.0, 2.0, 5.0),
        _ellipse("rib", 19.0, -18.0, 3.0, 7.0),
        _ellipse("rib", 19.0, 20.0, 3.0, 7.0),
        _wavy("pleura", 24.0),
        _ellipse("artery", 9.0, -8.0, 1.5, 1.5),
        _ellipse("vein", 8.0, 12.0, 1.0, 2.5),
        _ellipse("nerve", 10.0, -14.0, 1.2, 1.8),
        _ellipse("bone", 36.0, 0.0, 3.0, 25.0),
    ]
    return {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"frame_index": 0},
        "calibration": {
            "source": "US_REGION",
            "spacing_mm": [0.1, 0.1],
            "origin_px": [30.0, 300.0],
            "region_index": 0,
            "region_box_px": [20, 0, 450, 600],
        },
        "site": "rhomboid",
        "patient": {"bmi": 21.0, "weight_kg": 60, "sex": "F"},
        "structures": structures,
        "needle": {"entry_mm": [0.0, -22.0], "target_mm": [12.0, 2.0], "length_mm": 38.0, "gauge": 25},
        "injectate": [{"drug": "lidocaine", "concentration_pct": 1.0, "volume_ml": 4.0}],
    }


def _time(fn, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=300)
    args = ap.parse_args(argv)
    plan = plan_from_dict(bench_plan())
    scene = prepare(plan)
    long_d = bench_plan()
    long_d["needle"]["length_mm"] = 152.0  # nothing filtered by length: every candidate path is traced
    long_scene = prepare(plan_from_dict(long_d))
    rows = [
        ("check_plan + angle window (budget 2 + 50 ms)", _time(lambda: check_plan(plan), args.repeats), 52.0),
        (
            "check_plan, 10 structures, no angle window",
            _time(lambda: check_plan(plan, window=False), args.repeats),
            2.0,
        ),
        ("safe_angle_window 60x40 mm, 1 deg steps", _time(lambda: safe_angle_window(scene), args.repeats), 50.0),
        (
            "safe_angle_window, 152 mm needle, 1 deg steps",
            _time(lambda: safe_angle_window(long_scene), args.repeats),
            50.0,
        ),
        (
            "safe_angle_window, 152 mm needle, 0.25 deg",
            _time(lambda: safe_angle_window(long_scene, step_deg=0.25), max(20, args.repeats // 5)),
            50.0,
        ),
        (
            "safe_angle_window 60x40 mm, 0.25 deg steps",
            _time(lambda: safe_angle_window(scene, step_deg=0.25), max(20, args.repeats // 5)),
            50.0,
        ),
    ]
    report = check_plan(plan)
    print(
        f"plan: {len(plan.structures)} structures, {sum(len(s.points_mm) for s in plan.structures)} vertices; "
        f"findings {sorted(report.codes)}"
    )
    print(f"{'case':<48} {'median ms':>10} {'p90 ms':>8} {'target ms':>10}  ok")
    ok_all = True
    for name, times, target in rows:
        med = statistics.median(times)
        p90 = sorted(times)[int(0.9 * (len(times) - 1))]
        ok = med < target
        ok_all &= ok
        print(f"{name:<48} {med:>10.3f} {p90:>8.3f} {target:>10.1f}  {'yes' if ok else 'NO'}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
