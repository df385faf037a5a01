"""Benchmark: frame 0 of a 300-frame cine opened from a local Orthanc (DICOMweb) against the same file on disk.

Generates (not committed) a phantom cine with ``needleplan.synth`` in a temporary folder, uncompressed
and JPEG Baseline, uploads each to a throw-away Orthanc on 127.0.0.1, then times:

* ``disk``: ``open_image(file).frame(0)`` on the generated file;
* ``pacs cold``: WADO-RS retrieve into an empty cache, then ``open_image(...).frame(0)``
  (what "Open from PACS" costs the first time);
* ``pacs cached``: the same with the instance already in the cache (size + SHA-256 check only).

    python benchmarks/bench_pacs.py [--frames 300] [--repeat 3]

Needs the Debian packages orthanc and orthanc-dicomweb.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _timed(func) -> float:
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def _bench_one(client, path: Path, work: Path, repeat: int) -> dict:
    import pydicom

    from needleplan import pacs
    from needleplan.io import open_image

    header = pydicom.dcmread(path, stop_before_pixels=True)
    uids = (str(header.StudyInstanceUID), str(header.SeriesInstanceUID), str(header.SOPInstanceUID))
    size_mb = path.stat().st_size / 1e6
    disk, cold, warm = [], [], []
    for k in range(repeat):
        disk.append(_timed(lambda: open_image(path).frame(0)))
        cache_dir = work / f"cache-{path.stem}-{k}"

        def from_pacs(cache_dir: Path = cache_dir) -> None:
            result = pacs.retrieve(client, pacs.InstanceCache(cache_dir), *uids)  # both cines share a study
            open_image(result.paths[0]).frame(0)

        cold.append(_timed(from_pacs))
        warm.append(_timed(from_pacs))
        shutil.rmtree(cache_dir)
    return {
        "file": path.name,
        "size_mb": size_mb,
        "disk_s": statistics.median(disk),
        "cold_s": statistics.median(cold),
        "warm_s": statistics.median(warm),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    from needleplan import pacs
    from needleplan.pacs.testserver import LocalOrthanc, find_orthanc
    from needleplan.synth import generate_case, write_case

    if find_orthanc() is None:
        print("Orthanc is not installed (apt-get install orthanc orthanc-dicomweb)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-pacs-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        case = generate_case("upper_trapezius", "average", frames=args.frames, seed=0)
        gen_s = time.perf_counter() - t0
        files = []
        for compression in ("none", "jpeg"):
            folder = work / compression
            folder.mkdir()
            files.append(Path(write_case(case, folder / f"cine-{compression}.dcm", compression=compression).dicom_path))
        rows = []
        with LocalOrthanc(work / "orthanc") as server:
            upload_s = {}
            for path in files:
                upload_s[path.name] = _timed(lambda p=path: server.upload(p))
            with pacs.connect(pacs.PacsSettings(url=server.dicomweb_url)) as client:
                for path in files:
                    rows.append({**_bench_one(client, path, work, args.repeat), "upload_s": upload_s[path.name]})
    frames, rows_px, cols_px = case.frames.shape
    print(
        f"cine: {frames} frames of {rows_px} x {cols_px} (phantom generated in {gen_s:.1f} s); "
        f"median of {args.repeat}; Orthanc on 127.0.0.1"
    )
    print(f"{'file':<18} {'MB':>7} {'upload s':>9} {'disk s':>8} {'pacs cold s':>12} {'MB/s':>7} {'pacs cached s':>14}")
    for r in rows:
        print(
            f"{r['file']:<18} {r['size_mb']:>7.1f} {r['upload_s']:>9.3f} {r['disk_s']:>8.3f} {r['cold_s']:>12.3f} "
            f"{r['size_mb'] / r['cold_s']:>7.0f} {r['warm_s']:>14.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
