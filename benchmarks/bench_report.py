"""Benchmark: writing the clinical report, and generating the samples an installed package uses.

No target in the issue; measured so a slow report or first-use sample is visible.  Times (median of
``--repeat`` runs, in process) the report of the thin-patient trapezius sample as PDF, PNG (300 dpi)
and HTML, and each sample's generation into an empty cache folder (what a user who installed the
wheels waits for the first time).

    python benchmarks/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from needleplan.io import open_image
from needleplan.plan import load_plan
from needleplan.report import image_identity, write_report
from needleplan.samples import SAMPLES, write_sample


def _median_s(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'what':<56} {'median s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for spec in SAMPLES:
            seconds = _median_s(lambda spec=spec: write_sample(spec, folder / spec.key), 1)
            print(f"{'sample generated on first use: ' + spec.key:<56} {seconds:>9.2f}")
        plan_path = write_sample(SAMPLES[0], folder / "report")
        plan = load_plan(plan_path)
        image_path = plan_path.with_name(plan_path.name.replace(".plan.json", ".dcm"))
        frame = open_image(image_path).frame(plan.image.frame_index)
        identity = image_identity(image_path)
        for suffix in (".pdf", ".png", ".html"):
            out = folder / f"r{suffix}"
            seconds = _median_s(lambda out=out: write_report(plan, out, frame=frame, identity=identity), args.repeat)
            size = out.stat().st_size / 1e6
            print(f"{'report ' + suffix[1:] + f' ({size:.2f} MB)':<56} {seconds:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
