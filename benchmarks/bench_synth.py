"""Benchmark: generating phantom cines (needleplan.synth) on one core.

Target (issue 3): a 600 x 800, 300-frame cine in under 30 s on one core.  The case is the rhomboid
over an intercostal space (the busiest cine: breathing pleura, sliding lung, pulsating artery)
rendered by a linear probe sized so the image is exactly 600 x 800.  Also times writing it
(uncompressed and JPEG Baseline) and the single-frame presets.

    OMP_NUM_THREADS=1 python benchmarks/bench_synth.py [--frames 300] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from needleplan.synth import SITE_PRESETS, Probe, generate_case, write_case  # noqa: E402
from needleplan.synth.probe import MARGINS_PX  # noqa: E402

TARGET_S = 30.0


def probe_600x800(spacing_mm: float = 0.08) -> Probe:
    """A linear probe whose image (with the screen margins) is 600 rows x 800 columns."""
    top, bottom, left, right = MARGINS_PX
    box_rows, box_cols = 600 - top - bottom, 800 - left - right
    return Probe("linear", 10.0, spacing_mm, (box_rows - 1) * spacing_mm, (box_cols - 1) * spacing_mm)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--keep", type=Path, default=None, help="write the cine files here and keep them")
    args = ap.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rows = []
    t0 = time.perf_counter()
    case = generate_case("rhomboid_intercostal", "average", frames=args.frames, seed=1, probe=probe_600x800())
    gen_s = time.perf_counter() - t0
    n, h, w = case.frames.shape
    rows.append(
        (
            f"generate {n} x {h} x {w} cine",
            gen_s,
            f"{1000 * gen_s / n:.1f} ms/frame",
            "PASS" if (h, w) == (600, 800) and gen_s < TARGET_S else "FAIL",
        )
    )
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_synth_"))
    folder.mkdir(parents=True, exist_ok=True)
    for compression in ("none", "jpeg"):
        t0 = time.perf_counter()
        written = write_case(case, folder / f"cine_{compression}.dcm", compression=compression)
        dt = time.perf_counter() - t0
        size = written.dicom_path.stat().st_size / 1e6
        rows.append((f"write_case ({compression})", dt, f"{size:.1f} MB", ""))
        if args.keep is None:
            for p in (written.dicom_path, written.truth_path, written.plan_path):
                p.unlink()
    if args.keep is None:
        folder.rmdir()
    for preset in SITE_PRESETS:
        t0 = time.perf_counter()
        c = generate_case(preset, "average", seed=1)
        rows.append((f"single frame {preset}", time.perf_counter() - t0, "x".join(map(str, c.frames.shape[1:])), ""))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"{'operation':<44} {'seconds':>8}  {'detail':<18} target")
    for name, s, detail, verdict in rows:
        print(f"{name:<44} {s:>8.2f}  {detail:<18} {verdict}")
    print(f"peak RSS {rss:.0f} MB; target: cine < {TARGET_S:.0f} s on one core")
    return 0 if rows[0][3] == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
