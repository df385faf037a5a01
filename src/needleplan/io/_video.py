"""Video cines through PyAV (FFmpeg): MP4/MOV/AVI files and DICOM with a video transfer syntax.

Lazy by design: opening a video demuxes its packets once (no decoding) to learn the frame count,
each frame's presentation time and where the key frames are.  Frame ``N`` is then decoded by
starting at the last key frame at or before ``N`` (a seek in a container with an index, a skip of
undecoded packets in a bare elementary stream) and decoding forward to ``N``: at most one group
of pictures is decoded, never the whole video, and frames asked for in order (playback, a cine
analysis) continue from the open decoder, so each picture is decoded once.
:attr:`VideoStream.decoded_frames` counts the pictures the codec produced so tests can prove it.

Frame identity for the plan binding (``frame_sha256``): the SHA-256 of the text
``"<stream sha256>:<frame index>"``, where the stream hash covers the compressed packets of the
video stream in decode order.  It depends on what the file stores, not on the FFmpeg version that
decodes it, and it is cheap (computed while indexing).

A DICOM video keeps its header: ultrasound regions, calibration and cine timing (Frame Time, Frame
Time Vector, Cine Rate).  A plain video file carries no calibration (``NONE`` with the reason)
until a two-point calibration; its frame times come from the container's timestamps.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from needleplan.calibration import Calibration, calibration_from_dataset, regions_from_dataset
from needleplan.errors import ImageReadError, UnsupportedCodecError
from needleplan.io._model import ImageInfo
from needleplan.io._timing import cine_timing

__all__ = ["VIDEO_TRANSFER_SYNTAXES", "VideoIndex", "VideoStream", "PlainVideoSource", "DicomVideoSource",
           "looks_like_video", "is_video_dicom", "PLAIN_VIDEO_REASON"]

#: DICOM video transfer syntaxes (PS3.5 section 8.2.5-8.2.8) -> the FFmpeg decoder they need
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
PLAIN_VIDEO_REASON = ("a plain {fmt} video carries no calibration; calibrate with two points of known "
                      "distance (e.g. two 1 cm ticks of the depth ruler)")
_NO_PTS_FORMATS = ("avi", "h264", "hevc")  # the mpegvideo parser derives real ones from the stream
_BARE_FORMATS = ("h264", "hevc", "mpegvideo")  # elementary streams: no index to seek with
_IDR_NAL_TYPES = {"h264": (5,), "hevc": (19, 20)}  # IDR pictures: a clean cut in decode and display order
_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def looks_like_video(path: Path) -> str | None:
    """'MP4' (also MOV: ISO base media boxes) or 'AVI' by the file's first bytes, else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return None
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


@dataclass(frozen=True, slots=True)
class VideoIndex:
    """The packets of a video stream in decode order, learnt without decoding.

    ``display_pts[n]`` is the timestamp of display frame ``n`` (None when the stream has none, a
    bare elementary stream: then display order is decode order within closed groups of pictures).
    """

    codec: str
    rows: int
    columns: int
    keyframe: tuple[bool, ...]
    pts: tuple[int | None, ...]
    display_pts: tuple[int, ...] | None
    time_base: float | None  # seconds per pts unit
    frame_rate: float | None  # frames per second the container declares
    stream_sha256: str
    seekable: bool

    @property
    def frames(self) -> int:
        return len(self.keyframe)

    @property
    def display_index(self) -> dict[int, int] | None:
        """Timestamp -> display index (None without timestamps)."""
        if self.display_pts is None:
            return None
        return {p: i for i, p in enumerate(self.display_pts)}

    def start_packet(self, index: int) -> int:
        """Decode position of the last key frame whose picture is shown at or before frame ``index``.

        Examples
        --------
        >>> ix = VideoIndex("h264", 2, 2, (True, False, False, True, False), (None,) * 5, None, None, None, "", False)
        >>> ix.start_packet(2), ix.start_packet(3), ix.start_packet(4)
        (0, 3, 3)
        """
        if self.display_pts is None:
            candidates = [k for k in range(index + 1) if self.keyframe[k]]
        else:
            target = self.display_pts[index]
            candidates = [k for k, key in enumerate(self.keyframe) if key and self.pts[k] <= target]
        return candidates[-1] if candidates else 0

    def frame_times_ms(self) -> tuple[float, ...] | None:
        """Cumulative display times (first 0): from the timestamps, else the frame rate, else None."""
        if self.frames < 2:
            return None
        if self.display_pts is None or self.time_base is None:
            if not self.frame_rate:
                return None
            return tuple(round(i * 1000.0 / self.frame_rate, 6) for i in range(self.frames))
        first = self.display_pts[0]
        return tuple(round((p - first) * self.time_base * 1000.0, 6) for p in self.display_pts)


def _is_idr(data: bytes, codec: str) -> bool:
    r"""Whether an Annex B access unit holds an IDR slice; True for other codecs and layouts.

    Examples
    --------
    >>> _is_idr(b"\x00\x00\x00\x01\x67\x00\x00\x00\x01\x65", "h264")  # SPS, then an IDR slice
    True
    >>> _is_idr(b"\x00\x00\x01\x26\x01", "hevc"), _is_idr(b"\x00\x00\x01\x2a\x01", "hevc")  # IDR_W_RADL, CRA
    (True, False)
    """
    types = _IDR_NAL_TYPES.get(codec)
    if types is None or b"\x00\x00\x01" not in data[:8]:
        return True  # MPEG-2, or length-prefixed NAL units (MP4): the container's flag stands
    position = data.find(b"\x00\x00\x01")
    while position != -1 and position + 3 < len(data):
        header = data[position + 3]
        nal_type = header & 0x1F if codec == "h264" else (header >> 1) & 0x3F
        if nal_type in types:
            return True
        position = data.find(b"\x00\x00\x01", position + 3)
    return False


def _av_error(exc: Exception) -> str:
    """FFmpeg's own words ("Invalid data found when processing input"), without errno and path."""
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:160]


class VideoStream:
    """The video stream of a container that ``opener`` opens (a path or a file-like object).

    ``label`` names the file in messages.  Decoding is serialised by a lock (napari's slicing
    thread and a detector may ask at once); the open decoder is kept between frames.
    """

    def __init__(self, opener: Callable[[], Any], label: str) -> None:
        self._opener = opener
        self.label = label
        #: pictures the codec produced so far (all calls); lets tests prove at most one GOP per frame
        self.decoded_frames = 0
        self.index = self._build_index()
        self.display_index = self.index.display_index  # computed once: asked for every picture
        self._lock = threading.Lock()
        self._cursor: _Cursor | None = None
        self._unclean: set[int] = set()  # key frames whose leading pictures make them no clean start

    def _container(self) -> Any:
        import av

        try:
            return av.open(self._opener(), mode="r")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise ImageReadError(f"{self.label} is not a readable video (FFmpeg: {_av_error(exc)}); "
                                 "it may be damaged or cut off, copy or export it again") from None

    def _build_index(self) -> VideoIndex:
        import av

        with self._container() as container:
            if not container.streams.video:
                raise ImageReadError(f"{self.label} holds no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context
            if codec is None or not codec.name:
                raise UnsupportedCodecError(f"{self.label}: no installed FFmpeg decoder for its video codec "
                                            f"({stream.codec_tag or 'unknown'}); export it as H.264 MP4")
            sha = hashlib.sha256()
            flagged: list[bool] = []  # the container's key frame flag
            idr: list[bool] = []  # an IDR picture (H.264/HEVC), else the flag
            pts: list[int | None] = []
            try:
                for packet in container.demux(stream):
                    if packet.size == 0:
                        continue
                    data = bytes(packet)
                    sha.update(data)
                    flagged.append(bool(packet.is_keyframe))
                    idr.append(flagged[-1] and _is_idr(data, codec.name))
                    pts.append(packet.pts)
            except av.FFmpegError as exc:
                raise ImageReadError(f"{self.label}: the video stream is damaged after {len(pts)} frame(s) "
                                     f"(FFmpeg: {_av_error(exc)}); copy or export it again") from None
            if not pts:
                raise ImageReadError(f"{self.label}: the video stream holds no frames")
            if not codec.width or not codec.height:
                raise ImageReadError(f"{self.label}: the video stream does not say its frame size; "
                                     "it is damaged or not a video")
            # AVI and bare elementary streams carry no presentation timestamps (AVI's are the decode
            # order): display order is then counted from a key frame, timing is the frame rate
            has_pts = all(p is not None for p in pts) and container.format.name not in _NO_PTS_FORMATS
            rate = stream.average_rate or stream.guessed_rate
            # timestamps place any key frame; counted display order needs a clean cut (an IDR)
            keyframe = [True, *(flagged if has_pts else idr)[1:]]
            return VideoIndex(
                codec=codec.name, rows=int(codec.height), columns=int(codec.width), keyframe=tuple(keyframe),
                pts=tuple(pts), display_pts=tuple(sorted(pts)) if has_pts else None,  # type: ignore[arg-type]
                time_base=float(stream.time_base) if has_pts and stream.time_base else None,
                frame_rate=float(rate) if rate else None, stream_sha256=sha.hexdigest(),
                seekable=has_pts and container.format.name not in _BARE_FORMATS,
            )

    def frame_sha256(self, index: int) -> str:
        """SHA-256 of ``"<stream sha256>:<index>"`` (see the module docstring)."""
        return hashlib.sha256(f"{self.index.stream_sha256}:{index}".encode("ascii")).hexdigest()

    def _packets_from(self, container: Any, stream: Any, start: int) -> Iterator[Any]:
        """Packets in decode order from decode position ``start``, the earlier ones not decoded."""
        ix = self.index
        if ix.seekable and start > 0:
            container.seek(ix.pts[start], stream=stream, backward=True, any_frame=False)
            packets = (p for p in container.demux(stream) if p.size)
            for packet in packets:  # the seek lands on a key frame at or before the wanted one
                if packet.is_keyframe and packet.pts == ix.pts[start]:
                    yield packet
                    break
            yield from packets
            return
        position = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if position >= start:
                yield packet
            position += 1

    def decode(self, index: int) -> np.ndarray:
        """Display frame ``index`` as (rows, cols, 3) uint8 RGB, decoding at most one group of pictures.

        The decoder is kept open after a frame: the next frame forward continues from there (a cine
        played or analysed in order decodes each picture once); a frame behind it, or one whose key
        frame lies ahead of what was read, starts again from its key frame.
        """
        import av

        ix = self.index
        with self._lock:
            start = self._start_for(index)
            cursor = self._cursor
            if cursor is None or cursor.last_index >= index or start > cursor.fed:
                if cursor is not None:
                    cursor.close()
                self._cursor = cursor = _Cursor(self, start)
            try:
                while True:
                    try:
                        shown, picture = cursor.next_picture(self)
                    except _UncleanStart:  # not a clean cut after all: an earlier key frame, at worst the first
                        self._unclean.add(cursor.start)
                        cursor.close()
                        self._cursor = cursor = _Cursor(self, self._start_for(index))
                        continue
                    if shown == index:
                        arr = picture.to_ndarray(format="rgb24")
                        break
                    if shown > index:  # a stream whose order is not what its index said
                        raise ImageReadError(f"{self.label}: frame {index} could not be decoded: the decoder "
                                             "skipped it (a damaged or open group of pictures); export the video again")
            except av.FFmpegError as exc:
                self._cursor = None
                cursor.close()
                raise ImageReadError(f"{self.label}: frame {index} could not be decoded (FFmpeg: {_av_error(exc)}); "
                                     "the video is damaged, copy or export it again") from None
            except ImageReadError:
                self._cursor = None
                cursor.close()
                raise
        if arr.shape[:2] != (ix.rows, ix.columns):
            raise ImageReadError(f"{self.label}: frame {index} is {arr.shape[0]}x{arr.shape[1]}, the video's first is "
                                 f"{ix.rows}x{ix.columns}; frames that change size are not supported")
        return arr


    def _start_for(self, index: int) -> int:
        """The key frame to decode frame ``index`` from, skipping those found not to be clean cuts."""
        start = self.index.start_packet(index)
        while start in self._unclean:
            start = max((k for k in range(start) if self.index.keyframe[k]), default=0)
        return start


class _UncleanStart(Exception):
    """The first picture out of a fresh decoder was not its key frame (leading pictures)."""


class _Cursor:
    """An open decoder positioned in the stream: what was fed, and the last picture produced.

    Without timestamps (display order counted from the key frame), each packet is tagged with its
    decode position; the first picture out must be the key frame itself, or the start was not a
    clean cut (:class:`_UncleanStart`).
    """

    def __init__(self, video: VideoStream, start: int) -> None:
        ix = video.index
        self.container = video._container()
        self.stream = self.container.streams.video[0]
        # FFmpeg's default (slice threads): frame threads would hold pictures back and add latency
        self.packets = video._packets_from(self.container, self.stream, start)
        self.fed = start  # decode position of the next packet
        # display index of the last picture: from its timestamp, else counted from the key frame
        # (closed groups of pictures: a key frame is shown after everything decoded before it)
        self.last_index = (ix.display_pts.index(ix.pts[start]) if ix.display_pts is not None else start) - 1
        self.pending: deque[Any] = deque()
        self.finished = False
        self.start = start
        self.counting = ix.display_pts is None
        self.checked = start == 0 or not self.counting

    def next_picture(self, video: VideoStream) -> tuple[int, Any]:
        """(display index, picture) of the next picture in display order; ImageReadError at the end."""
        while not self.pending:
            if self.finished:
                raise ImageReadError(f"{video.label}: the video ends before the frame asked for; "
                                     "it is damaged or cut off, export it again")
            packet = next(self.packets, None)
            if packet is None:
                self.finished = True
            else:
                if self.counting:
                    packet.pts = self.fed  # the decoder hands it to the picture made from this packet
                self.fed += 1
            produced = self.stream.decode(packet)
            video.decoded_frames += len(produced)
            self.pending.extend(produced)
        picture = self.pending.popleft()
        if not self.checked:
            self.checked = True
            if picture.pts != self.start:
                raise _UncleanStart
        by_pts = video.display_index.get(picture.pts) if video.display_index is not None else None
        self.last_index = by_pts if by_pts is not None else self.last_index + 1
        return self.last_index, picture

    def close(self) -> None:
        self.container.close()


class PlainVideoSource:
    """An MP4/MOV/AVI file: pixels only (calibration ``NONE``), timing from the container."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.video = VideoStream(lambda: str(path), path.name)
        ix = self.video.index
        times = ix.frame_times_ms()
        step = round(times[-1] / (len(times) - 1), 6) if times else None
        cal = Calibration("NONE", None, (0.0, 0.0), None, None, PLAIN_VIDEO_REASON.format(fmt=fmt))
        self.info = ImageInfo(
            path=str(path), modality=None, rows=ix.rows, columns=ix.columns, frames=ix.frames,
            samples_per_pixel=3, photometric="RGB", transfer_syntax_uid=None, sop_instance_uid=None,
            sop_class_uid=None, frame_time_ms=step, frame_times_ms=times, regions=(), calibration=cal,
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
            raise UnsupportedCodecError(f"{path.name}: transfer syntax {tsyntax} promises {expected} but the "
                                        f"stream is {ix.codec}; the file is inconsistent, export it again")
        if (ix.rows, ix.columns) != (int(ds.Rows), int(ds.Columns)):
            raise ImageReadError(f"{path.name}: the video's frames are {ix.rows}x{ix.columns} but the header says "
                                 f"{ds.Rows}x{ds.Columns}; the ultrasound regions would not fit, export it again")
        declared = int(ds.get("NumberOfFrames") or 1)
        if declared != ix.frames:
            notes.append(f"the header says {declared} frames, the video stream holds {ix.frames}; "
                         "the stream's count is used")
        frame_time_ms, frame_times_ms, timing_notes = cine_timing(ds, ix.frames)
        self.info = ImageInfo(
            path=str(path), modality=_str(ds.get("Modality")), rows=ix.rows, columns=ix.columns,
            frames=ix.frames, samples_per_pixel=3, photometric=_str(ds.get("PhotometricInterpretation")),
            transfer_syntax_uid=tsyntax, sop_instance_uid=_str(ds.get("SOPInstanceUID")),
            sop_class_uid=_str(ds.get("SOPClassUID")), frame_time_ms=frame_time_ms,
            frame_times_ms=frame_times_ms, regions=regions_from_dataset(ds),
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
