"""Video cines through PyAV (FFmpeg): MP4/MOV/AVI files and DICOM with a video transfer syntax.

This module finds and opens video files (:class:`PlainVideoSource`, :class:`DicomVideoSource`);
the lazy decoding is :mod:`needleplan.io._video_stream`: opening demuxes the packets once (no
decoding), frame ``N`` is decoded from the key frame before it (at most one group of pictures,
never the whole video), and frames asked for in order continue from the open decoder.

Frame identity for the plan binding (``frame_sha256``): the SHA-256 of the text
``"<stream sha256>:<frame index>"``, where the stream hash covers the compressed packets of the
video stream in decode order.  It depends on what the file stores, not on the FFmpeg version that
decodes it, and it is cheap (computed while indexing).

A DICOM video keeps its header: ultrasound regions, calibration and cine timing (Frame Time, Frame
Time Vector, Cine Rate).  A plain video file carries no calibration (``NONE`` with the reason)
until a two-point calibration; its frame times come from the container's timestamps.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from needleplan.calibration import Calibration, calibration_from_dataset, regions_from_dataset
from needleplan.errors import ImageReadError, UnsupportedCodecError
from needleplan.io._model import ImageInfo
from needleplan.io._plain import file_head
from needleplan.io._timing import cine_timing
from needleplan.io._video_stream import VideoIndex, VideoStream

__all__ = [
    "VIDEO_TRANSFER_SYNTAXES",
    "VideoIndex",
    "VideoStream",
    "PlainVideoSource",
    "DicomVideoSource",
    "looks_like_video",
    "is_video_dicom",
    "PLAIN_VIDEO_REASON",
]

VIDEO_TRANSFER_SYNTAXES: dict[str, str] = {
    "1.2.840.10008.1.2.4.100": "mpeg2video",  # MPEG2 Main Profile / Main Level
    "1.2.840.10008.1.2.4.101": "mpeg2video",  # MPEG2 Main Profile / High Level
    "1.2.840.10008.1.2.4.102": "h264",  # MPEG-4 AVC/H.264 High Profile / Level 4.1
    "1.2.840.10008.1.2.4.103": "h264",  # ... BD-compatible High Profile / Level 4.1
    "1.2.840.10008.1.2.4.104": "h264",  # ... High Profile / Level 4.2 for 2D video
    "1.2.840.10008.1.2.4.105": "h264",  # ... High Profile / Level 4.2 for 3D video
    "1.2.840.10008.1.2.4.106": "h264",  # ... Stereo High Profile / Level 4.2
    "1.2.840.10008.1.2.4.107": "hevc",  # HEVC/H.265 Main Profile / Level 5.1
    "1.2.840.10008.1.2.4.108": "hevc",  # HEVC/H.265 Main 10 Profile / Level 5.1
}
PLAIN_VIDEO_REASON = (
    "a plain {fmt} video carries no calibration; calibrate with two points of known "
    "distance (e.g. two 1 cm ticks of the depth ruler)"
)
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def looks_like_video(path: Path) -> str | None:
    """'MP4' (also MOV: ISO base media boxes) or 'AVI' by the file's first bytes, else None."""
    head = file_head(path, 12)
    if head[4:8] in _ISO_BOXES:
        return "MOV" if path.suffix.lower() == ".mov" else "MP4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    return None


def is_video_dicom(path: Path) -> bool:
    """True when the File Meta header names a video transfer syntax (reads the meta only)."""
    from pydicom.filereader import read_file_meta_info

    try:
        meta = read_file_meta_info(path)
    except Exception:  # noqa: BLE001 - not readable here: the DICOM reader gives the real error
        return False
    return str(meta.get("TransferSyntaxUID", "")) in VIDEO_TRANSFER_SYNTAXES


class PlainVideoSource:
    """An MP4/MOV/AVI file: pixels only (calibration ``NONE``), timing from the container."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.video = VideoStream(lambda: str(path), path.name)
        ix = self.video.index
        times = ix.frame_times_ms()
        step = round(times[-1] / (len(times) - 1), 6) if times else None
        cal = Calibration(
            source="NONE",
            spacing_mm=None,
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason=PLAIN_VIDEO_REASON.format(fmt=fmt),
        )
        self.info = ImageInfo(
            path=str(path),
            modality=None,
            rows=ix.rows,
            columns=ix.columns,
            frames=ix.frames,
            samples_per_pixel=3,
            photometric="RGB",
            transfer_syntax_uid=None,
            sop_instance_uid=None,
            sop_class_uid=None,
            frame_time_ms=step,
            frame_times_ms=times,
            regions=(),
            calibration=cal,
            notes=(f"{fmt} video, {ix.codec} codec, decoded with FFmpeg (PyAV)",),
        )

    def decode(self, index: int) -> np.ndarray:
        return self.video.decode(index)

    def frame_sha256(self, index: int) -> str:
        return self.video.frame_sha256(index)


class DicomVideoSource:
    """A DICOM file whose Pixel Data is an encapsulated MPEG-2, H.264 or HEVC stream."""

    def __init__(self, path: Path) -> None:
        from needleplan.io._dicom import _str, read_dicom_header

        self.path = path
        ds, layout, notes = read_dicom_header(path)
        tsyntax = str(ds.file_meta.TransferSyntaxUID)
        stream = self._stream_bytes([rng for frame in layout.frames for rng in frame])
        self.video = VideoStream(lambda: io.BytesIO(stream), path.name)
        ix = self.video.index
        expected = VIDEO_TRANSFER_SYNTAXES[tsyntax]
        if ix.codec != expected:
            raise UnsupportedCodecError(
                f"{path.name}: transfer syntax {tsyntax} promises {expected} but the "
                f"stream is {ix.codec}; the file is inconsistent, export it again"
            )
        if (ix.rows, ix.columns) != (int(ds.Rows), int(ds.Columns)):
            raise ImageReadError(
                f"{path.name}: the video's frames are {ix.rows}x{ix.columns} but the header says "
                f"{ds.Rows}x{ds.Columns}; the ultrasound regions would not fit, export it again"
            )
        declared = int(ds.get("NumberOfFrames") or 1)
        if declared != ix.frames:
            notes.append(
                f"the header says {declared} frames, the video stream holds {ix.frames}; the stream's count is used"
            )
        frame_time_ms, frame_times_ms, timing_notes = cine_timing(ds, ix.frames)
        self.info = ImageInfo(
            path=str(path),
            modality=_str(ds.get("Modality")),
            rows=ix.rows,
            columns=ix.columns,
            frames=ix.frames,
            samples_per_pixel=3,
            photometric=_str(ds.get("PhotometricInterpretation")),
            transfer_syntax_uid=tsyntax,
            sop_instance_uid=_str(ds.get("SOPInstanceUID")),
            sop_class_uid=_str(ds.get("SOPClassUID")),
            frame_time_ms=frame_time_ms,
            frame_times_ms=frame_times_ms,
            regions=regions_from_dataset(ds),
            calibration=calibration_from_dataset(ds),
            notes=(*notes, f"{ix.codec} video stream, decoded with FFmpeg (PyAV)", *timing_notes),
        )

    def _stream_bytes(self, fragments: list[tuple[int, int]]) -> bytes:
        """The video stream: the Pixel Data fragments joined (compressed; kept in memory while open)."""
        with open(self.path, "rb") as f:
            parts = []
            for offset, length in fragments:
                f.seek(offset)
                parts.append(f.read(length))
        return b"".join(parts)

    def decode(self, index: int) -> np.ndarray:
        return self.video.decode(index)

    def frame_sha256(self, index: int) -> str:
        return self.video.frame_sha256(index)
