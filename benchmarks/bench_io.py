"""Benchmark: `needleplan info` and frame 0 of a long cine, against plain pydicom in the same run.

Generates (not committed) 600 x 800 RGB cines of 500 frames, uncompressed and JPEG Baseline
(frames encoded with Pillow and encapsulated), plus a 1,000-frame JPEG cine to show frame 0 does
not depend on the length.  Every case runs in its own subprocess so its peak RSS is its own.

    python benchmarks/bench_io.py [--frames 500] [--work DIR] [--keep]

Targets (issue 2): info < 0.3 s; frame 0 < 0.5 s whatever the length; peak RSS < 250 MB for the
uncompressed 500-frame cine; first frame >= 20x faster than pydicom's full decode.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS, COLS = 600, 800

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
case, path = sys.argv[1], sys.argv[2]
import numpy, pydicom, pydicom.pixels          # imports timed apart: every case pays them alike
from needleplan.io import open_image, read_info
t1 = time.perf_counter()
if case == "needleplan_info":
    info = read_info(path)
    shape = [info.frames, info.rows, info.columns]
elif case == "needleplan_frame0":
    shape = list(open_image(path).frame(0).shape)
elif case == "pydicom_full":
    shape = list(pydicom.dcmread(path).pixel_array.shape)
elif case == "pydicom_index0":
    shape = list(pydicom.pixels.pixel_array(path, index=0).shape)
t2 = time.perf_counter()
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"op_s": t2 - t1, "import_s": t1 - t0, "rss_mb": rss_mb, "shape": shape}))
"""


def _frame(i: int):
    import numpy as np

    r = np.arange(ROWS, dtype=np.int32)[:, None]
    c = np.arange(COLS, dtype=np.int32)[None, :]
    grey = ((r // 3 + c // 5 + 7 * i) % 200 + 20).astype(np.uint8)
    rng = np.random.default_rng(i)
    speckle = rng.integers(0, 30, size=(ROWS, COLS), dtype=np.uint8)
    g = grey + speckle
    return np.stack([g, g, g], axis=-1)


def _header(frames: int, jpeg: bool):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit if jpeg else ExplicitVRLittleEndian
    ds.Modality = "US"
    ds.Rows, ds.Columns, ds.NumberOfFrames = ROWS, COLS, frames
    ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    ds.PhotometricInterpretation = "YBR_FULL_422" if jpeg else "RGB"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.FrameTime, ds.FrameIncrementPointer = 33.3, 0x00181063
    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
    item.RegionLocationMinX0, item.RegionLocationMinY0 = 100, 40
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = 700, 560
    item.ReferencePixelX0, item.ReferencePixelY0 = 300, 0
    item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3
    item.PhysicalDeltaX = item.PhysicalDeltaY = 0.02
    ds.SequenceOfUltrasoundRegions = Sequence([item])
    return ds


def write_cine(path: Path, frames: int, jpeg: bool) -> None:
    """Stream the cine to disk: header by pydicom, pixel data element written frame by frame."""
    from PIL import Image

    ds = _header(frames, jpeg)
    with open(path, "wb") as f:
        ds.save_as(f, enforce_file_format=True)
        if jpeg:
            f.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, 0xFFFFFFFF))
            f.write(struct.pack("<HHL", 0xFFFE, 0xE000, 0))  # empty Basic Offset Table
            encoded: dict[int, bytes] = {}
            for i in range(frames):
                key = i % 50  # 50 distinct frames keep generation quick; every frame is its own fragment
                if key not in encoded:
                    buf = io.BytesIO()
                    Image.fromarray(_frame(key)).save(buf, format="JPEG", quality=90)
                    data = buf.getvalue()
                    encoded[key] = data + (b"\x00" if len(data) % 2 else b"")
                f.write(struct.pack("<HHL", 0xFFFE, 0xE000, len(encoded[key])))
                f.write(encoded[key])
            f.write(struct.pack("<HHL", 0xFFFE, 0xE0DD, 0))
        else:
            f.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OB", 0, ROWS * COLS * 3 * frames))
            for i in range(frames):
                f.write(_frame(i % 50).tobytes())


def run_child(case: str, path: Path, child: str = CHILD) -> dict:
    """Run the ``child`` script for ``case`` in a new interpreter; its JSON result plus ``wall_s``."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", child, case, str(path)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "failed", "wall_s": wall}
    out = json.loads(proc.stdout)
    out["wall_s"] = wall
    return out


def run_cli_info(path: Path, repeats: int = 3) -> dict:
    """`needleplan info --json` as a user runs it (interpreter start and imports included); best of `repeats`."""
    best = None
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(["needleplan", "info", "--json", str(path)], capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            return {"error": proc.stderr.strip(), "wall_s": wall}
        best = wall if best is None else min(best, wall)
    return {"wall_s": best}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated cines (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated cines")
    args = parser.parse_args()
    print(
        "wall s: whole subprocess; import s: numpy + pydicom + needleplan.io; op s: the operation alone",
        file=sys.stderr,
    )
    work = args.work or Path(tempfile.mkdtemp(prefix="needleplan-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    files = {
        f"jpeg_{args.frames}": (args.frames, True),
        f"native_{args.frames}": (args.frames, False),
        f"jpeg_{args.frames * 2}": (args.frames * 2, True),
    }
    paths = {}
    for name, (frames, jpeg) in files.items():
        paths[name] = work / f"cine_{name}.dcm"
        if not paths[name].exists():
            t = time.perf_counter()
            write_cine(paths[name], frames, jpeg)
            size_mb = paths[name].stat().st_size / 1e6
            print(f"generated {paths[name].name}: {size_mb:.1f} MB in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    rows = []
    for name, path in paths.items():
        rows.append((name, "needleplan info (CLI, whole process)", run_cli_info(path)))
        rows.append((name, "needleplan read_info()", run_child("needleplan_info", path)))
        rows.append((name, "needleplan open_image().frame(0)", run_child("needleplan_frame0", path)))
        rows.append((name, "pydicom pixel_array(path, index=0)", run_child("pydicom_index0", path)))
        if not name.startswith("jpeg_") or name == f"jpeg_{args.frames}":
            rows.append((name, "pydicom dcmread().pixel_array (full)", run_child("pydicom_full", path)))
    print(f"{'cine':<12} {'case':<40} {'wall s':>8} {'import s':>9} {'op s':>8} {'peak RSS MB':>12}")
    for name, case, r in rows:
        if "error" in r:
            print(f"{name:<12} {case:<40} {'error: ' + r['error'][:60]}")
            continue
        nan = float("nan")
        print(
            f"{name:<12} {case:<40} {r['wall_s']:>8.3f} {r.get('import_s', nan):>9.3f} "
            f"{r.get('op_s', nan):>8.3f} {r.get('rss_mb', nan):>12.1f}"
        )
    by = {(n, c): r for n, c, r in rows}
    for name in (f"jpeg_{args.frames}", f"native_{args.frames}"):
        ours = by[(name, "needleplan open_image().frame(0)")]
        full = by.get((name, "pydicom dcmread().pixel_array (full)"), {})
        if "op_s" in ours and "op_s" in full:
            print(
                f"{name}: first frame {full['op_s'] / ours['op_s']:.0f}x faster than the full decode "
                f"({ours['op_s']:.3f} s vs {full['op_s']:.3f} s; "
                f"whole process {ours['wall_s']:.2f} s vs {full['wall_s']:.2f} s)"
            )
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
