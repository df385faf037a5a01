"""Benchmark: `needleplan review` over a library of 10,000 plans (target: under 0.5 s).

Builds a library of N plans in a temporary folder: plan files and status events are written in the
library's layout, then the index is built by the library's own recovery (opening a library whose
index is missing rebuilds it from the files), which is also timed.  A few hundred real
``Library.add`` calls (durable: fsync per file) measure the save rate.  Then it times the listing:
the index query alone, the `review` command in-process, and `needleplan review` as a new process
(with `needleplan --version` as the start-up baseline of the command line itself).

    python benchmarks/bench_library.py [--plans 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from needleplan.cli import main as cli_main
from needleplan.library import Library
from needleplan.library.layout import PLANS_DIR, event_name, plan_dir_name, revision_name

SITES = (
    "upper_trapezius",
    "rhomboid",
    "thoracic_paraspinal",
    "gluteus_medius",
    "piriformis",
    "quadratus_lumborum",
    "levator_scapulae",
)
FINDINGS = (
    ("PLEURA_MARGIN", "warn"),
    ("THIN_PATIENT", "warn"),
    ("PLEURA_NOT_MARKED", "block"),
    ("SAFE_INSERTION", "info"),
    ("VESSEL_MARGIN", "warn"),
    ("NERVE_CROSSED", "block"),
)


def plan_dict(i: int, rng: random.Random) -> dict:
    findings = [
        {"code": c, "severity": s, "message": f"{c.lower()} {i}", "values": {}}
        for c, s in rng.sample(FINDINGS, rng.randint(0, 3))
    ]
    return {
        "format": "needleplan.plan",
        "version": 1,
        "image": {
            "path": f"case{i}.dcm",
            "sop_instance_uid": f"2.25.{1000 + i}",
            "frame_index": 0,
            "pixel_sha256": f"{i:064x}",
        },
        "calibration": {"source": "US_REGION", "spacing_mm": [0.2, 0.2], "origin_px": [30.0, 300.0], "region_index": 0},
        "site": rng.choice(SITES),
        "approach": "in_plane",
        "patient": {"id": f"P{rng.randint(1, 3000)}", "bmi": round(rng.uniform(16, 35), 1)},
        "structures": [{"kind": "pleura", "points_mm": [[15.0, -20.0], [15.0, 20.0]], "closed": False}],
        "needle": {"entry_mm": [0.0, -15.0], "target_mm": [9.0, 0.0], "length_mm": 38.0, "gauge": 25},
        "author": f"Dr {rng.choice('ABCDEFGHIJ')}",
        "created": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:00:00+00:00",
        "findings": findings,
    }


def write_files(root: Path, n: int, seed: int = 7) -> None:
    """N plans in the library layout: revision 1 and, for some, submit/approve events."""
    rng = random.Random(seed)
    plans = root / PLANS_DIR
    plans.mkdir(parents=True)
    for i in range(1, n + 1):
        folder = plans / plan_dir_name(i)
        folder.mkdir()
        body = plan_dict(i, rng)
        body["library"] = {
            "plan_id": i,
            "revision": 1,
            "seq": 1,
            "parent_revision": None,
            "saved_at": body["created"],
            "saved_by": body["author"],
            "findings": [],
        }
        (folder / revision_name(1)).write_text(json.dumps(body))
        steps = rng.choice(((), ("submit",), ("submit", "approve"), ("submit", "request_changes")))
        status = "draft"
        for seq, action in enumerate(steps, start=2):
            new = {"submit": "submitted", "approve": "approved", "request_changes": "changes_requested"}[action]
            event = {
                "kind": "status",
                "seq": seq,
                "revision": 1,
                "action": action,
                "from": status,
                "to": new,
                "by": "Dr Z",
                "at": body["created"],
                "comment": "ok" if action != "submit" else None,
            }
            (folder / event_name(seq)).write_text(json.dumps(event))
            status = new


def best_of(fn, repeat: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def quiet_cli(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(list(argv)) == 0


def subprocess_time(argv: list[str], repeat: int = 3) -> tuple[float, float]:
    def run() -> None:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    return best_of(run, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--adds", type=int, default=200, help="real durable Library.add calls")
    parser.add_argument("--keep", help="build the library here and keep it")
    args = parser.parse_args()
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="np-bench-"))
    root = base / "library"
    if root.exists():
        shutil.rmtree(root)
    rows: list[tuple[str, str, str]] = []

    t0 = time.perf_counter()
    write_files(root, args.plans)
    rows.append((f"write {args.plans} plan files (layout only)", f"{time.perf_counter() - t0:.2f} s", ""))
    t0 = time.perf_counter()
    with Library(root) as lib:
        rebuild = time.perf_counter() - t0
        count = len(lib.list_plans())
    assert count == args.plans, count
    rows.append((f"index rebuilt from {args.plans} plans' files", f"{rebuild:.2f} s", ""))

    add_root = base / "adds"
    shutil.rmtree(add_root, ignore_errors=True)
    rng = random.Random(1)
    with Library(add_root) as lib:
        t0 = time.perf_counter()
        for i in range(args.adds):
            lib.add(plan_dict(i, rng))
        per_add = (time.perf_counter() - t0) / args.adds
    rows.append(("Library.add, durable (fsync), per plan", f"{per_add * 1000:.1f} ms", ""))

    with Library(root) as lib:
        for label, kwargs in (
            ("index query: all plans", {}),
            ("index query: --status submitted", {"status": "submitted"}),
            ("index query: --site rhomboid", {"site": "rhomboid"}),
            ("index query: --code NERVE_CROSSED", {"code": "NERVE_CROSSED"}),
        ):
            best, median = best_of(lambda kw=kwargs: lib.list_plans(**kw))
            rows.append((label, f"{best * 1000:.1f} ms", f"median {median * 1000:.1f} ms"))

    lib_arg = ["--library", str(root)]
    quiet_cli("review", *lib_arg)  # warm: subcommand modules imported once
    for label, argv in (
        ("review (in-process, table of all)", ["review", *lib_arg]),
        ("review --json (in-process)", ["review", "--json", *lib_arg]),
        ("review --status approved (in-process)", ["review", "--status", "approved", *lib_arg]),
        ("history 5000 (in-process)", ["history", "5000", *lib_arg]),
    ):
        best, median = best_of(lambda a=argv: quiet_cli(*a))
        rows.append((label, f"{best * 1000:.0f} ms", f"median {median * 1000:.0f} ms"))

    exe = shutil.which("needleplan") or sys.executable
    start = [exe] if exe.endswith("needleplan") else [exe, "-m", "needleplan"]
    base_best, _ = subprocess_time([*start, "--version"])
    rows.append(("`needleplan --version` (start-up baseline)", f"{base_best:.2f} s", ""))
    best, median = subprocess_time([*start, "review", *lib_arg])
    rows.append(
        (
            f"`needleplan review` new process, {args.plans} plans",
            f"{best:.2f} s",
            f"median {median:.2f} s; minus start-up {best - base_best:.2f} s",
        )
    )
    # the same command with only its own module imported: what `needleplan review` costs when the
    # command line does not import every other subcommand's dependencies at start-up
    alone = (
        "import argparse, sys\nfrom needleplan.cli import review\n"
        "p = argparse.ArgumentParser(); review.register(p.add_subparsers())\n"
        f"a = p.parse_args(['review', '--library', {str(root)!r}])\nsys.exit(a.func(a))"
    )
    python_best, _ = subprocess_time([sys.executable, "-c", "pass"])
    best, median = subprocess_time([sys.executable, "-c", alone])
    rows.append(("`python -c pass` (interpreter baseline)", f"{python_best:.2f} s", ""))
    rows.append(("review, new process, review module only", f"{best:.2f} s", f"median {median:.2f} s"))
    if os.environ.get("NP_BENCH_IMPORTS"):
        print(
            subprocess.run(
                [sys.executable, "-X", "importtime", "-c", "import needleplan.cli as c; c.build_parser()"],
                capture_output=True,
                text=True,
            ).stderr[-2000:]
        )

    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'time':>10}  notes")
    print(f"{'-' * width}  {'-' * 10}  -----")
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>10}  {note}")
    if not args.keep:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
