"""Decoding one video stream lazily through PyAV: the packet index and a decoder kept open.

Opening demuxes the packets once without decoding (:class:`VideoIndex`: key frames, timestamps,
the stream's SHA-256).  Frame ``N`` is decoded from the last clean key frame at or before it (a
seek where the container has an index, a skip of undecoded packets in a bare elementary stream)
and the decoder stays open, so frames asked for in order decode each picture once.  Display order
comes from the timestamps; where there are none (AVI, bare H.264/HEVC) it is counted from an IDR
key frame, and a start that turns out not to be a clean cut falls back to an earlier key frame.
:attr:`VideoStream.decoded_frames` counts the pictures the codec produced so tests can prove it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from needleplan.errors import ImageReadError, UnsupportedCodecError


def _pyav() -> Any:
    """The ``av`` module, or a one-line error saying which distribution adds it.

    PyAV is an optional extra (``needleplan[video]``): its binary wheel bundles the GPL x264/x265
    encoders beside FFmpeg's LGPL decoders, so the core does not pull it in (docs/decoders.md).
    """
    try:
        import av
    except ImportError:
        raise UnsupportedCodecError(
            "video cines (MP4/MOV/AVI, DICOM MPEG-2/H.264/HEVC) need PyAV: pip install 'needleplan[video]' "
            "(or pip install av); see docs/decoders.md for its licence"
        ) from None
    return av


__all__ = ["VideoIndex", "VideoStream"]

_NO_PTS_FORMATS = ("avi", "h264", "hevc")  # the mpegvideo parser derives real ones from the stream
_BARE_FORMATS = ("h264", "hevc", "mpegvideo")  # elementary streams: no index to seek with
_IDR_NAL_TYPES = {"h264": (5,), "hevc": (19, 20)}  # IDR pictures: a clean cut in decode and display order


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
            # display_pts exist only when every packet has a timestamp, so ``p is None`` never drops one
            candidates = [
                k
                for k, (key, p) in enumerate(zip(self.keyframe, self.pts, strict=True))
                if key and p is not None and p <= target
            ]
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
        #: pictures the codec produced so far (all calls); lets tests prove how little was decoded
        self.decoded_frames = 0
        self.index = self._build_index()
        self.display_index = self.index.display_index  # computed once: asked for every picture
        self._lock = threading.Lock()
        self._cursor: _Cursor | None = None
        self._unclean: set[int] = set()  # key frames whose leading pictures make them no clean start

    def _container(self) -> Any:
        av = _pyav()

        try:
            return av.open(self._opener(), mode="r")
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise ImageReadError(
                f"{self.label} is not a readable video (FFmpeg: {_av_error(exc)}); "
                "it may be damaged or cut off, copy or export it again"
            ) from None

    def _build_index(self) -> VideoIndex:
        av = _pyav()

        with self._container() as container:
            if not container.streams.video:
                raise ImageReadError(f"{self.label} holds no video stream")
            stream = container.streams.video[0]
            codec = stream.codec_context
            if codec is None or not codec.name:
                raise UnsupportedCodecError(
                    f"{self.label}: no installed FFmpeg decoder for its video codec "
                    f"({stream.codec_tag or 'unknown'}); export it as H.264 MP4"
                )
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
                raise ImageReadError(
                    f"{self.label}: the video stream is damaged after {len(pts)} frame(s) "
                    f"(FFmpeg: {_av_error(exc)}); copy or export it again"
                ) from None
            if not pts:
                raise ImageReadError(f"{self.label}: the video stream holds no frames")
            if not codec.width or not codec.height:
                raise ImageReadError(
                    f"{self.label}: the video stream does not say its frame size; it is damaged or not a video"
                )
            # AVI and bare elementary streams carry no presentation timestamps (AVI's are the decode
            # order): display order is then counted from a key frame, timing is the frame rate
            has_pts = all(p is not None for p in pts) and container.format.name not in _NO_PTS_FORMATS
            rate = stream.average_rate or stream.guessed_rate
            # timestamps place any key frame; counted display order needs a clean cut (an IDR)
            keyframe = [True, *(flagged if has_pts else idr)[1:]]
            timestamps = [p for p in pts if p is not None]  # all of them when has_pts
            return VideoIndex(
                codec=codec.name,
                rows=int(codec.height),
                columns=int(codec.width),
                keyframe=tuple(keyframe),
                pts=tuple(pts),
                display_pts=tuple(sorted(timestamps)) if has_pts else None,
                time_base=float(stream.time_base) if has_pts and stream.time_base else None,
                frame_rate=float(rate) if rate else None,
                stream_sha256=sha.hexdigest(),
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
        """Display frame ``index`` as (rows, cols, 3) uint8 RGB, decoded from the key frame before it.

        The decoder is kept open after a frame: the next frame forward continues from there (a cine
        played or analysed in order decodes each picture once); a frame behind it, or one whose key
        frame lies ahead of what was read, starts again from its key frame (an earlier one if that
        key frame proves not to be a clean start).
        """
        av = _pyav()

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
                        raise ImageReadError(
                            f"{self.label}: frame {index} could not be decoded: the decoder "
                            "skipped it (a damaged or open group of pictures); export the video again"
                        )
            except av.FFmpegError as exc:
                self._cursor = None
                cursor.close()
                raise ImageReadError(
                    f"{self.label}: frame {index} could not be decoded (FFmpeg: {_av_error(exc)}); "
                    "the video is damaged, copy or export it again"
                ) from None
            except ImageReadError:
                self._cursor = None
                cursor.close()
                raise
        if arr.shape[:2] != (ix.rows, ix.columns):
            raise ImageReadError(
                f"{self.label}: frame {index} is {arr.shape[0]}x{arr.shape[1]}, the video's first is "
                f"{ix.rows}x{ix.columns}; frames that change size are not supported"
            )
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
                raise ImageReadError(
                    f"{video.label}: the video ends before the frame asked for; "
                    "it is damaged or cut off, export it again"
                )
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
