"""Real encoded videos for the tests and benchmarks: phantom cines through PyAV's libx264.

``h264_mp4`` writes an MP4; ``h264_dicom`` writes the same kind of stream (an H.264 Annex B
elementary stream) encapsulated in an ultrasound multi-frame DICOM with transfer syntax
1.2.840.10008.1.2.4.102 and a Sequence of Ultrasound Regions.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import UID

from tests.dicom_factory import region, us_dataset, write

H264_HIGH_41 = UID("1.2.840.10008.1.2.4.102")


def phantom_cine(frames: int = 30, seed: int = 1) -> np.ndarray:
    """``frames`` x 128 x 160 uint8: the thin trapezius phantom's cine, every third pixel (0.3 mm).

    The phantom's origin (the skin above the target, pixel (20, 274) at 0.1 mm) lands on crop pixel
    ((20 - 2) / 3, (274 - 4) / 3) = (6, 90), so the crop's millimetres are the phantom's.
    """
    from needleplan.synth import generate_case

    case = generate_case("upper_trapezius", "thin", frames=frames, seed=seed)
    return np.ascontiguousarray(case.frames[:, 2:386:3, 4:484:3])


def encode_h264(frames: np.ndarray, target: Any, container: str, *, gop: int = 10, crf: int = 18,
                fps: int = 25) -> None:
    """Encode grey ``frames`` (n, rows, cols) with libx264 (yuv420p, 2 B-frames, a key frame every ``gop``)."""
    import av

    with av.open(target, "w", format=container) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "crf": str(crf),
                          "bf": "2", "threads": "1"}
        for grey in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(grey), format="gray")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def h264_mp4(frames: np.ndarray, path: Path, **kw: Any) -> Path:
    encode_h264(frames, str(path), "mp4", **kw)
    return path


def h264_dicom(frames: np.ndarray, path: Path, *, timing: Mapping[str, float] | None = None, fragments: int = 3,
               delta_cm: tuple[float, float] = (0.03, 0.03), ref_px: tuple[int, int] = (6, 90), **kw: Any) -> Path:
    """An ultrasound cine whose Pixel Data is the H.264 stream split into ``fragments`` fragments.

    ``timing`` goes to ``us_dataset`` (default Frame Time 40 ms); the region is 0.3 mm/px with its
    reference pixel where the phantom's origin falls in :func:`phantom_cine`'s crop.
    """
    buf = io.BytesIO()
    encode_h264(frames, buf, "h264", **kw)
    stream = buf.getvalue()
    n, rows, cols = frames.shape
    ds: Dataset = us_dataset(rows, cols, frames=n, rgb=True, **(timing or {"frame_time_ms": 40.0}),
                             regions=[region(0, 0, rows - 1, cols - 1, delta_cm=delta_cm, ref_px=ref_px)])
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"  # PS3.5 8.2.7: what an H.264 stream stores
    step = -(-len(stream) // fragments)
    step += step % 2  # fragments have even lengths: a pad byte may only end the last one
    ds.PixelData = encapsulate([stream[i:i + step] for i in range(0, len(stream), step)])
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompression = "01"
    if not isinstance(getattr(ds, "file_meta", None), FileMetaDataset):
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = H264_HIGH_41
    return write(ds, path)
