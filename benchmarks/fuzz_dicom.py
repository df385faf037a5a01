"""Fuzz run: fresh seeded mutations of real DICOM files through info, frame 0 and detect (issue 16).

Every case is one seed: the source file is ``SOURCES[seed % len(SOURCES)]`` and the mutation is
``tests.dicom_mutations.mutate(source, seed)``.  Cases run in long-lived worker processes (one per
``--workers``) with a memory limit; a worker that dies (an abort in a C extension) or does not
answer within ``--timeout`` seconds is counted and replaced, so no case can stop the run.

Counted per case: ``ok`` (read, decoded, detected), ``refused`` (a NeedleplanError: one clear
line), ``traceback`` (any other exception: a bug), ``abort`` (the worker process died),
``hang`` (timeout), ``implausible`` (a calibration outside 0.005-5 mm/px, or an origin not finite
or beyond ten image sizes, accepted by ``info``).  Seeds 1,000,000 and up were never used to find
the reproducers in tests/data/fuzz_repro.

    python benchmarks/fuzz_dicom.py [--cases 10000] [--first-seed 1000000] [--workers 2] [--timeout 60]
                                    [--src OTHER_CHECKOUT/src] [--log cases.jsonl]

``detect`` is run once per distinct (frame bytes, calibration) pair: most mutations leave both as in
another case, and detect's answer depends on nothing else.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real_dicom"
SOURCES = (
    "GREYSCALE_IMAGE.dcm",
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "OBXXXX1A_rle.dcm",
    "no-pixel-spacing.dcm",
    "US-YBR_FULL_422-EVRLE.dcm",
    "RGB_IMAGE.dcm",
    "examples_ybr_color.dcm",
    "US1_J2KR.dcm",
    "SC_rgb_jpeg.dcm",
    "CT_small.dcm",
)
MEMORY_LIMIT_BYTES = 3 * 1024**3

WORKER = r"""
import hashlib, json, math, os, resource, sys, tempfile, traceback, warnings
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
sys.path.insert(0, sys.argv[2])
warnings.simplefilter("ignore")
from tests.dicom_mutations import mutate
from needleplan.errors import NeedleplanError
from needleplan.io import open_image
from needleplan.detect import detect_image
sources = [open(p, "rb").read() for p in sys.argv[3:]]
detected = {}
tmp = tempfile.mkdtemp(prefix="fuzz_dicom_")

def implausible(cal, rows, cols):
    if cal.spacing_mm is None:
        return None
    sr, sc = cal.spacing_mm
    o_r, o_c = cal.origin_px
    if not all(math.isfinite(v) and 0.005 <= v <= 5.0 for v in (sr, sc)):
        return f"spacing {sr!r} x {sc!r}"
    inside = -10 * rows <= o_r <= 11 * rows and -10 * cols <= o_c <= 11 * cols
    if not (math.isfinite(o_r) and math.isfinite(o_c)) or not inside:
        return f"origin {o_r!r}, {o_c!r}"
    return None

for line in sys.stdin:
    seed = int(line)
    kind, data = mutate(sources[seed % len(sources)], seed)
    path = os.path.join(tmp, f"case_{seed}.dcm")
    with open(path, "wb") as f:
        f.write(data)
    out = {"seed": seed, "kind": kind, "outcome": "ok", "step": None, "detail": None}
    step = "info"
    try:
        image = open_image(path)
        info = image.info
        bad = implausible(info.calibration, info.rows, info.columns)
        if bad:
            out.update(outcome="implausible", detail=bad)
        step = "frame"
        frame = image.frame(0)
        step = "detect"
        key = (hashlib.sha256(frame.tobytes()).hexdigest(), frame.shape, repr(info.calibration), info.modality)
        if key not in detected:
            try:
                detect_image(image, any_modality=True)
                detected[key] = None
            except NeedleplanError as exc:
                detected[key] = type(exc).__name__
        if detected[key] is not None:
            raise NeedleplanError(detected[key])
    except NeedleplanError as exc:
        if out["outcome"] == "ok":
            out.update(outcome="refused", step=step)
    except BaseException as exc:
        out.update(outcome="traceback", step=step, detail=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")
    finally:
        os.remove(path)
    print(json.dumps(out), flush=True)
"""


class Worker:
    """One worker process; ``run(seed)`` returns its JSON answer, or an abort/hang record."""

    def __init__(self, src: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]))
        self.src = src
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(MEMORY_LIMIT_BYTES), str(ROOT), *(str(REAL / s) for s in SOURCES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

    def run(self, seed: int, timeout: float) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{seed}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            self.proc.wait()
            return {"seed": seed, "outcome": "hang", "detail": f"no answer in {timeout:g} s"}
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            return {"seed": seed, "outcome": "abort", "detail": f"worker exit code {code}"}
        return json.loads(line)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.alive():
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--first-seed", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT / "src",
        help="the needleplan source tree to fuzz (another checkout's src/ for a before/after)",
    )
    parser.add_argument("--log", type=Path, default=None, help="write every case's record here (JSON lines)")
    args = parser.parse_args()
    import threading

    seeds = list(range(args.first_seed, args.first_seed + args.cases))
    lock = threading.Lock()
    records: list[dict] = []
    start = time.perf_counter()

    def drive(mine: list[int]) -> None:
        worker = Worker(args.src)
        for seed in mine:
            rec = worker.run(seed, args.timeout)
            if rec["outcome"] in ("abort", "hang") or not worker.alive():
                worker = Worker(args.src)
            with lock:
                records.append(rec)
                if len(records) % 500 == 0:
                    print(f"  {len(records)} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        worker.close()

    threads = [threading.Thread(target=drive, args=(seeds[i :: args.workers],)) for i in range(args.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    records.sort(key=lambda r: r["seed"])
    if args.log:
        args.log.write_text("".join(json.dumps(r) + "\n" for r in records))
    counts = Counter(r["outcome"] for r in records)
    kinds = Counter(r.get("kind", "?") for r in records)
    print(
        f"fuzz_dicom: {len(records)} cases, seeds {seeds[0]}-{seeds[-1]}, {args.workers} worker(s), "
        f"{elapsed:.0f} s ({1000 * elapsed / max(len(records), 1):.0f} ms/case wall)"
    )
    print("mutations: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    print("| outcome | cases |\n|---|---|")
    for outcome in ("ok", "refused", "traceback", "abort", "hang", "implausible"):
        print(f"| {outcome} | {counts.get(outcome, 0)} |")
    for r in records:
        if r["outcome"] in ("traceback", "abort", "hang", "implausible"):
            print(f"  seed {r['seed']} ({r.get('kind')}): {r['outcome']} at {r.get('step')}: {r.get('detail')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
