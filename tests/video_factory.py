"""Real encoded videos for the tests and benchmarks: phantom cines through PyAV's encoders.

``encode_video`` writes H.264 (libx264), HEVC (libx265) or MPEG-2 (FFmpeg's mpeg2video) into any
container; ``h264_mp4`` writes an H.264 MP4; ``video_dicom`` writes the codec's bare elementary
stream encapsulated in an ultrasound multi-frame DICOM with the codec's transfer syntax
(1.2.840.10008.1.2.4.102, .107 or .100) and a Sequence of Ultrasound Regions.
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


def phantom_cine(frames: int = 30, seed: int = 1) -> np.ndarray:
    """``frames`` x 128 x 160 uint8: the thin trapezius phantom's cine, every third pixel (0.3 mm).

    The phantom's origin (the skin above the target, pixel (20, 274) at 0.1 mm) lands on crop pixel
    ((20 - 2) / 3, (274 - 4) / 3) = (6, 90), so the crop's millimetres are the phantom's.
    """
    from needleplan.synth import generate_case

    case = generate_case("upper_trapezius", "thin", frames=frames, seed=seed)
    return np.ascontiguousarray(case.frames[:, 2:386:3, 4:484:3])


#: codec -> (PyAV encoder, DICOM transfer syntax, FFmpeg elementary-stream muxer)
CODECS = {
    "h264": ("libx264", UID("1.2.840.10008.1.2.4.102"), "h264"),  # MPEG-4 AVC/H.264 High Profile / Level 4.1
    "hevc": ("libx265", UID("1.2.840.10008.1.2.4.107"), "hevc"),  # HEVC/H.265 Main Profile / Level 5.1
    "mpeg2": ("mpeg2video", UID("1.2.840.10008.1.2.4.100"), "mpeg2video"),  # MPEG2 Main Profile / Main Level
}


def _options(codec: str, gop: int, crf: int, closed_gop: bool) -> dict[str, str]:
    """A key frame every ``gop`` frames (no scene-cut extras), 2 B-frames, one thread (deterministic).

    ``closed_gop=False`` lets x265 write its default open groups (CRA key frames whose leading
    pictures refer back); libx264 and mpeg2video keep their own defaults.
    """
    if codec == "h264":
        return {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "crf": str(crf), "bf": "2", "threads": "1"}
    if codec == "hevc":
        return {
            "x265-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=2:crf={crf}:"
            f"open-gop={int(not closed_gop)}:log-level=none:pools=1:frame-threads=1"
        }
    return {"g": str(gop), "bf": "2", "b": "4000000", "threads": "1"}


def encode_video(
    frames: np.ndarray,
    target: Any,
    container: str,
    *,
    codec: str = "h264",
    gop: int = 10,
    crf: int = 18,
    fps: int = 25,
    closed_gop: bool = True,
) -> None:
    """Encode grey ``frames`` (n, rows, cols) as yuv420p with ``codec`` (a key of :data:`CODECS`)."""
    import av

    with av.open(target, "w", format=container) as out:
        stream = out.add_stream(CODECS[codec][0], rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        stream.options = _options(codec, gop, crf, closed_gop)
        for grey in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(grey), format="gray")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def h264_mp4(frames: np.ndarray, path: Path, **kw: Any) -> Path:
    encode_video(frames, str(path), "mp4", **kw)
    return path


def video_dicom(
    frames: np.ndarray,
    path: Path,
    *,
    codec: str = "h264",
    timing: Mapping[str, float] | None = None,
    fragments: int = 3,
    delta_cm: tuple[float, float] = (0.03, 0.03),
    ref_px: tuple[int, int] = (6, 90),
    **kw: Any,
) -> Path:
    """An ultrasound cine whose Pixel Data is the ``codec``'s stream split into ``fragments`` fragments.

    ``timing`` goes to ``us_dataset`` (default Frame Time 40 ms); the region is 0.3 mm/px with its
    reference pixel where the phantom's origin falls in :func:`phantom_cine`'s crop.
    """
    buf = io.BytesIO()
    encode_video(frames, buf, CODECS[codec][2], codec=codec, **kw)
    stream = buf.getvalue()
    n, rows, cols = frames.shape
    ds: Dataset = us_dataset(
        rows,
        cols,
        frames=n,
        rgb=True,
        **(timing or {"frame_time_ms": 40.0}),
        regions=[region(0, 0, rows - 1, cols - 1, delta_cm=delta_cm, ref_px=ref_px)],
    )
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"  # PS3.5 8.2.5-8.2.8: what these streams store
    step = -(-len(stream) // fragments)
    step += step % 2  # fragments have even lengths: a pad byte may only end the last one
    ds.PixelData = encapsulate([stream[i : i + step] for i in range(0, len(stream), step)])
    ds["PixelData"].VR = "OB"
    ds.LossyImageCompression = "01"
    if not isinstance(getattr(ds, "file_meta", None), FileMetaDataset):
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = CODECS[codec][1]
    return write(ds, path)
