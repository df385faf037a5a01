"""Benchmark: frame 0 and frame 250 of a 500-frame 600 x 800 H.264 cine, against decoding it all.

Generates (not committed) a phantom cine (rhomboid over a rib, 500 frames, placed on a 600 x 800
screen with black margins as a scanner exports it), encodes it once with libx264 (crf 18, a key
frame every 30 frames = about 1 s, 2 B-frames) as an MP4 and as a DICOM (transfer syntax
1.2.840.10008.1.2.4.102, the same stream in fragments), and times in separate subprocesses (so each
peak RSS is its own):

* ``read_info`` (indexes the packets, decodes nothing);
* ``open_image(path).frame(0)`` and ``.frame(250)`` (decode from the key frame before the frame);
* every frame in order through ``open_image`` (what ``detect --cine`` and playback do);
* PyAV decoding the whole video into memory, as a loader without seeking would.

    python benchmarks/bench_video.py [--frames 500] [--gop 30] [--work DIR] [--keep]

Target (issue 15): frame N is decoded from the nearest key frame, not by decoding the whole video.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS, COLS = 600, 800

CHILD = r"""
import json, sys, time
case, path = sys.argv[1], sys.argv[2]
import numpy, av, pydicom, pydicom.pixels  # imports timed apart: every case pays them alike
from needleplan.io import open_image, read_info
t1 = time.perf_counter()
decoded = None
if case == "info":
    info = read_info(path)
    shape = [info.frames, info.rows, info.columns]
elif case.startswith("frame"):
    image = open_image(path)
    shape = list(image.frame(int(case[5:])).shape)
    decoded = image._source.video.decoded_frames
elif case == "inorder":
    image = open_image(path)
    for i in range(image.info.frames):
        image.frame(i)
    shape = [image.info.frames, image.info.rows, image.info.columns]
    decoded = image._source.video.decoded_frames
elif case == "whole":
    import io
    import pydicom
    from pydicom.encaps import generate_fragments
    source = path
    if path.endswith(".dcm"):
        source = io.BytesIO(b"".join(generate_fragments(pydicom.dcmread(path).PixelData)))
    with av.open(source) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for p in container.demux(stream) for f in stream.decode(p)]
    shape = [len(frames), *frames[0].shape]
    decoded = len(frames)
t2 = time.perf_counter()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork + exec
with open("/proc/self/status") as status:
    rss_mb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
print(json.dumps({"op_s": t2 - t1, "rss_mb": rss_mb, "shape": shape, "decoded": decoded}))
"""


def phantom_screen(frames: int):
    """``frames`` x 600 x 800 uint8: the phantom's cine on a black 600 x 800 screen."""
    import numpy as np

    from needleplan.synth import generate_case

    case = generate_case("rhomboid_rib", "average", frames=frames, seed=3)
    rows, cols = min(ROWS, case.frames.shape[1]), min(COLS, case.frames.shape[2])
    screen = np.zeros((frames, ROWS, COLS), dtype=np.uint8)
    left = (COLS - cols) // 2
    screen[:, :rows, left : left + cols] = case.frames[:, :rows, :cols]
    return screen


def _versus_whole(kind: str, middle: int, ours: dict, whole: dict) -> str:
    if "op_s" not in ours or "op_s" not in whole:
        return f"{kind}: no comparison (a case failed)"
    return (
        f"{kind}: frame {middle} {whole['op_s'] / ours['op_s']:.0f}x faster than decoding the whole video "
        f"({ours['op_s']:.3f} s, {ours['rss_mb']:.0f} MB vs {whole['op_s']:.3f} s, {whole['rss_mb']:.0f} MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--gop", type=int, default=30)
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated videos (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated videos")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from bench_io import run_child  # this folder is on sys.path when the script runs

    from tests.video_factory import h264_mp4, video_dicom

    work = args.work or Path(tempfile.mkdtemp(prefix="needleplan-bench-video-"))
    work.mkdir(parents=True, exist_ok=True)
    paths = {"mp4": work / f"cine_{args.frames}.mp4", "dicom": work / f"cine_{args.frames}.dcm"}
    if not all(p.exists() for p in paths.values()):
        t = time.perf_counter()
        screen = phantom_screen(args.frames)
        print(f"phantom: {screen.shape} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        for kind, path in paths.items():
            t = time.perf_counter()
            if kind == "mp4":
                h264_mp4(screen, path, gop=args.gop)
            else:
                video_dicom(screen, path, gop=args.gop, fragments=4, delta_cm=(0.01, 0.01), ref_px=(0, 400))
            print(
                f"encoded {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
        del screen
    middle = args.frames // 2
    cases = [
        ("info", "read_info() (packet index, no decode)"),
        ("frame0", "open_image().frame(0)"),
        (f"frame{middle}", f"open_image().frame({middle})"),
        ("inorder", "open_image(): every frame in order"),
        ("whole", "PyAV: decode the whole video"),
    ]
    print(f"{'video':<6} {'case':<40} {'wall s':>8} {'op s':>8} {'peak RSS MB':>12} {'decoded':>8}")
    results = {}
    for kind, path in paths.items():
        for case, label in cases:
            r = run_child(case, path, child=CHILD)
            results[(kind, case)] = r
            if "error" in r:
                print(f"{kind:<6} {label:<40} error: {r['error'][:80]}")
                continue
            decoded = "-" if r["decoded"] is None else str(r["decoded"])
            print(f"{kind:<6} {label:<40} {r['wall_s']:>8.3f} {r['op_s']:>8.3f} {r['rss_mb']:>12.1f} {decoded:>8}")
    for kind in paths:
        print(_versus_whole(kind, middle, results[(kind, f"frame{middle}")], results[(kind, "whole")]))
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
