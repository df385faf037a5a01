"""Benchmark: the physical phantom (``synth --model physical``) on one core.

Targets (issue 15): a single 600 x 800 frame in under 5 s and a 100-frame cine in under 60 s.
The case is the rhomboid over an intercostal space (breathing pleura, sliding lung, pulsating
artery) through a linear probe sized so the image is exactly 600 x 800 (as bench_synth.py), and
the piriformis through the site's curvilinear probe (scan conversion).  The PSFs are simulated
once per probe and cached on disk: the first ("cold") frame includes the PyMUST simulation, the
timed runs use the cache, as every later case does.

    python benchmarks/bench_physical.py [--frames 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_synth import probe_600x800  # noqa: E402

from needleplan.synth import generate_case  # noqa: E402

FRAME_TARGET_S = 5.0
CINE_TARGET_S = 60.0


def timed(label: str, target_s: float | None, **kwargs) -> float:
    t0 = time.perf_counter()
    case = generate_case(model="physical", **kwargs)
    dt = time.perf_counter() - t0
    verdict = "" if target_s is None else (f"  (target < {target_s:.0f} s: {'met' if dt < target_s else 'MISSED'})")
    print(f"{label:<52} {case.frames.shape[1]}x{case.frames.shape[2]} x {case.n_frames:>3}: {dt:7.2f} s{verdict}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=100)
    args = ap.parse_args()
    probe = probe_600x800()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["NEEDLEPLAN_CACHE_DIR"] = cache
        timed(
            "cold: 600x800 frame, PSFs simulated with PyMUST",
            None,
            site="rhomboid_intercostal",
            habitus="average",
            seed=1,
            probe=probe,
        )
        timed(
            "600x800 frame (cached PSFs)",
            FRAME_TARGET_S,
            site="rhomboid_intercostal",
            habitus="average",
            seed=2,
            probe=probe,
        )
        timed(
            f"600x800 cine of {args.frames} frames",
            CINE_TARGET_S,
            site="rhomboid_intercostal",
            habitus="average",
            seed=2,
            probe=probe,
            frames=args.frames,
        )
        timed("cold: piriformis, curvilinear fan, PSFs simulated", None, site="piriformis", habitus="average", seed=1)
        timed(
            "piriformis frame, scan converted (cached PSFs)",
            FRAME_TARGET_S,
            site="piriformis",
            habitus="average",
            seed=2,
        )
        timed(
            f"piriformis cine of {args.frames} frames",
            CINE_TARGET_S,
            site="piriformis",
            habitus="average",
            seed=2,
            frames=args.frames,
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
