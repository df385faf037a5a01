"""Fuzz run: fresh mutated plans through ``load_plan`` + ``check_plan`` (what ``needleplan check`` runs).

Issue 16/17 asked for 0 tracebacks and 0 clean verdicts on nonsense geometry on 2,000 mutated plans.
Each plan is a mutated copy of a shipped sample plan (``tests/plan_mutations.py``: hostile numbers,
nanometre/kilometre scaling, 1 km needles, deep nesting, many points, hazards above the skin).
Counts: refused with one line (a NeedleplanError), checked (a verdict), tracebacks (any other
exception), refusals longer than one line, and nonsense plans whose verdict was not ``block``.
Also the time per plan and the process's peak memory.  Exit 1 if a traceback or a clean verdict on
nonsense is found.

    python benchmarks/fuzz_plans.py [--plans 2000] [--seed 20261205]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for tests.plan_mutations

from tests.plan_mutations import base_plans, mutate, nonsense_reasons, verdict  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    bases = base_plans()
    counts: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    times = []
    tracebacks, clean_nonsense = [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.plan.json"
        for i in range(args.plans):
            d = mutate(rng.choice(bases), rng)
            t0 = time.perf_counter()
            try:
                outcome, value = verdict(d, path)
            except Exception:  # noqa: BLE001 - counting what escapes the error hierarchy is the point
                tracebacks.append((i, traceback.format_exc(limit=3)))
                counts["traceback"] += 1
                continue
            finally:
                times.append(time.perf_counter() - t0)
            counts[outcome] += 1
            if outcome == "refused":
                counts["refused, more than one line"] += "\n" in value
                continue
            plan, report = value
            codes.update(f.code for f in report.findings if f.code.startswith("IMPLAUSIBLE"))
            reasons = nonsense_reasons(plan)
            if reasons:
                counts["nonsense geometry checked"] += 1
                if report.worst_severity != "block":
                    clean_nonsense.append((i, reasons, report.worst_severity))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ms = sorted(t * 1000 for t in times)
    print(f"fuzz_plans: {args.plans} mutated plans, seed {args.seed}")
    print(f"{'refused with one line':<38} {counts['refused']}")
    print(f"{'refused, more than one line':<38} {counts['refused, more than one line']}")
    print(f"{'checked (a verdict)':<38} {counts['checked']}")
    print(f"{'  of them nonsense geometry':<38} {counts['nonsense geometry checked']}")
    print(f"{'  nonsense with a clean verdict':<38} {len(clean_nonsense)}")
    print(f"{'tracebacks':<38} {len(tracebacks)}")
    print(f"{'IMPLAUSIBLE_* findings':<38} {dict(sorted(codes.items()))}")
    print(
        f"{'time per plan (median / p99 / max)':<38} {statistics.median(ms):.1f} / "
        f"{ms[int(0.99 * (len(ms) - 1))]:.1f} / {ms[-1]:.1f} ms"
    )
    print(f"{'process peak memory':<38} {peak_mb:.0f} MB")
    for i, text in tracebacks[:5]:
        print(f"--- traceback on plan {i}:\n{text}")
    for i, reasons, worst in clean_nonsense[:5]:
        print(f"--- plan {i}: {reasons} got worst {worst}")
    return 1 if tracebacks or clean_nonsense or counts["refused, more than one line"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
