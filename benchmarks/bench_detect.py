"""Benchmark: assisted-marking detection speed, one core.

Single frame: ``detect_frame`` on 600 x 800 frames (a real Philips 600 x 800 file at 0.26 mm/px, a
phantom at 0.1 mm/px with a linear probe, a phantom at 0.25 mm/px with a curvilinear probe: the
coarse pixels are the worst case, no block averaging).  Cine: ``detect_cine`` on a 300-frame 600 x 800
phantom cine (pleura with sliding, a pulsating artery), from memory and from a JPEG Baseline DICOM
(decoding each frame included).

    python benchmarks/bench_detect.py [--repeat 20] [--cine-frames 300]

Targets (issue 7): < 100 ms per 600 x 800 frame; a 300-frame cine at >= 15 frames/s on one core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core

import argparse  # noqa: E402
import functools  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from needleplan.detect import detect_cine, detect_frame, detect_image  # noqa: E402
from needleplan.detect.scoring import case_calibration as _cal  # noqa: E402
from needleplan.io import open_image  # noqa: E402
from needleplan.synth import Probe, generate_case, write_case  # noqa: E402

REAL = Path(__file__).resolve().parents[1] / "tests" / "data" / "real_dicom" / "OBXXXX1A_rle.dcm"


def _probe(kind: str, spacing: float) -> Probe:
    # margins 20 + 10 rows and 24 + 40 columns around the box: a 600 x 800 image
    rows, cols = 600 - 30, 800 - 64
    if kind == "linear":
        return Probe("linear", 10.0, spacing, (rows - 1) * spacing, (cols - 1) * spacing)
    # fan of radius 50 mm and 60 degrees: (50 + 134) * sin 30 / 0.25 = 368 px each side, 134 mm deep
    return Probe("curvilinear", 3.5, spacing, 134.0, 50.0, radius_mm=50.0, fov_deg=60.0)


def _time(fn, repeat: int) -> tuple[float, float]:
    """Median wall-clock ms and median CPU ms of this process (the machine may be shared)."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    return float(np.median(wall)), float(np.median(cpu))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--cine-frames", type=int, default=300)
    args = ap.parse_args()
    rows = []
    image = open_image(REAL)
    frame = image.frame(0)
    cal = image.info.calibration
    rows.append(("real OBXXXX1A_rle 0.26 mm/px", frame.shape, *_time(lambda: detect_frame(frame, cal), args.repeat)))
    for kind, spacing, site in (("linear", 0.1, "rhomboid_intercostal"), ("curvilinear", 0.25, "gluteus_medius")):
        case = generate_case(site, "average", seed=0, probe=_probe(kind, spacing))
        c = _cal(case)
        f0 = case.frames[0]
        one_frame = functools.partial(detect_frame, f0, c, site=case.site)
        rows.append((f"phantom {site} {spacing} mm/px", f0.shape, *_time(one_frame, args.repeat)))
    print(f"{'single frame':<44} {'shape':<12} {'wall ms':>8} {'cpu ms':>8}   target < 100 ms (median)")
    for name, shape, wall, cpu in rows:
        verdict = "ok" if min(wall, cpu) < 100 else "MISSED"
        print(f"{name:<44} {f'{shape[0]}x{shape[1]}':<12} {wall:8.1f} {cpu:8.1f}   {verdict}")
    t0 = time.perf_counter()
    case = generate_case("rhomboid_intercostal", "thin", frames=args.cine_frames, seed=0, probe=_probe("linear", 0.1))
    gen_s = time.perf_counter() - t0
    c = _cal(case)
    t0, c0 = time.perf_counter(), time.process_time()
    res = detect_cine(case.frames, c, frame_time_ms=case.motion.frame_time_ms, site=case.site)
    s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    fps = case.n_frames / s
    kinds = sorted(d.kind for d in res.detections if d.kind in ("pleura", "artery", "vein", "vessel"))
    print(
        f"\ncine {case.n_frames} frames {case.frames.shape[1]}x{case.frames.shape[2]} (generated in {gen_s:.1f} s): "
        f"{s:.2f} s wall ({cpu_s:.2f} s CPU), {fps:.1f} frames/s wall, {case.n_frames / cpu_s:.1f} per CPU second   "
        f"target >= 15 frames/s: {'ok' if fps >= 15 else 'MISSED'}  ({', '.join(kinds)})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        written = write_case(case, Path(tmp) / "cine.dcm", compression="jpeg")
        t0, c0 = time.perf_counter(), time.process_time()
        detect_image(open_image(written.dicom_path), cine=True, site=case.site)
        s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    fps = case.n_frames / s
    print(
        f"same cine as a JPEG Baseline DICOM, decoding included: {s:.2f} s wall ({cpu_s:.2f} s CPU), "
        f"{fps:.1f} frames/s   target >= 15 frames/s: {'ok' if fps >= 15 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
