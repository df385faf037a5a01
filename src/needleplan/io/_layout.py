"""Where each frame's stored bytes are in a DICOM file, found without reading the pixel data.

For native (uncompressed) data the frames sit back to back after the Pixel Data element header.
For encapsulated data the item headers are walked (8 bytes read per fragment, values skipped), so
a 1,000-frame cine is indexed in milliseconds.  A file cut off inside the pixel data, a Pixel Data
element shorter than the image needs, or a missing Pixel Data element is a
:class:`~needleplan.errors.DicomReadError` here, before anything is reported as loaded.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from needleplan.errors import DicomReadError
from needleplan.io._video import VIDEO_TRANSFER_SYNTAXES

__all__ = ["PixelLayout", "scan_pixel_data"]

PIXEL_DATA = (0x7FE0, 0x0010)
FLOAT_PIXEL_DATA = {(0x7FE0, 0x0008), (0x7FE0, 0x0009)}
ITEM = (0xFFFE, 0xE000)
SEQUENCE_DELIMITER = (0xFFFE, 0xE0DD)
UNDEFINED = 0xFFFFFFFF
# first bytes of a JPEG (SOI) or JPEG 2000 (SOC + SIZ) codestream: a fragment that starts a frame
_FRAME_STARTS = (b"\xff\xd8", b"\xff\x4f\xff\x51")


@dataclass(frozen=True, slots=True)
class PixelLayout:
    """Byte ranges ``(offset, length)`` of each frame; one range per fragment for encapsulated data."""

    encapsulated: bool
    pixel_vr: str | None
    frames: tuple[tuple[tuple[int, int], ...], ...]

    def read_frame(self, f: BinaryIO, index: int) -> bytes:
        """The stored bytes of frame ``index`` (fragments joined for encapsulated data)."""
        parts = []
        for offset, length in self.frames[index]:
            f.seek(offset)
            data = f.read(length)
            if len(data) != length:
                raise DicomReadError(f"the file ends inside frame {index}; it was cut off, copy it again")
            parts.append(data)
        return b"".join(parts)


_PIXEL_VRS = (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN")


def _element_header(f: BinaryIO, implicit: bool, little: bool) -> tuple[tuple[int, int], str | None, int]:
    """Read the Pixel Data element header; the VR bytes decide explicit or implicit.

    Some files declare explicit VR but store implicit VR (pydicom reads them with a warning, e.g.
    SC_rgb_jpeg.dcm), so the declared encoding is only the tie-breaker.
    """
    end = "<" if little else ">"
    head = f.read(8)
    if len(head) < 8:
        raise DicomReadError("the file has no Pixel Data element (7FE0,0010): it holds no image")
    group, elem = struct.unpack(f"{end}HH", head[:4])
    vr = head[4:6]
    if vr in _PIXEL_VRS and (not implicit or head[6:8] == b"\x00\x00"):
        (length,) = struct.unpack(f"{end}L", f.read(4))
        return (group, elem), vr.decode("ascii"), length
    (length,) = struct.unpack(f"{end}L", head[4:8])
    return (group, elem), None, length


def scan_pixel_data(f: BinaryIO, ds: Any, *, implicit: bool, little: bool, frame_bytes: int | None) -> PixelLayout:
    """Index the Pixel Data element at ``f``'s position (the file is left anywhere).

    ``frame_bytes`` is the size of one native frame (None when it is not a whole number of bytes).
    """
    size = os.fstat(f.fileno()).st_size
    frames = int(ds.get("NumberOfFrames") or 1)
    if str(ds.file_meta.get("TransferSyntaxUID", "")) in VIDEO_TRANSFER_SYNTAXES:
        frames = 1  # a video's fragments hold one stream, split into frames by its decoder (io/_video.py)
    tag, vr, length = _element_header(f, implicit, little)
    if tag in FLOAT_PIXEL_DATA:
        raise DicomReadError("the file holds Float Pixel Data, which is not an ultrasound or CT image")
    if tag != PIXEL_DATA:
        raise DicomReadError(
            f"expected Pixel Data (7FE0,0010) but found ({tag[0]:04X},{tag[1]:04X}); the file holds no image"
        )
    start = f.tell()
    if length != UNDEFINED:
        available = size - start
        if available < length:
            raise DicomReadError(
                f"the file ends {length - available} bytes into its Pixel Data ({available} of {length} bytes): "
                "it was cut off, copy it again"
            )
        if frame_bytes is None:  # bit-packed frames: the whole element must hold every frame's bits
            bits = frames * int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel") or 1)
            if length < (bits + 7) // 8:
                raise DicomReadError(
                    f"the Pixel Data holds {length} bytes but {frames} frame(s) of 1-bit "
                    f"{ds.get('Rows')}x{ds.get('Columns')} need {(bits + 7) // 8}: the pixel data is truncated"
                )
            return PixelLayout(False, vr, tuple(((start, length),) for _ in range(frames)))
        needed = frame_bytes * frames
        if length < needed:
            raise DicomReadError(
                f"the Pixel Data holds {length} bytes but {frames} frame(s) of "
                f"{ds.get('Rows')}x{ds.get('Columns')} need {needed}: the pixel data is truncated"
            )
        return PixelLayout(False, vr, tuple(((start + i * frame_bytes, frame_bytes),) for i in range(frames)))
    return PixelLayout(True, vr, _encapsulated_frames(f, ds, size, frames))


def _encapsulated_frames(f: BinaryIO, ds: Any, size: int, frames: int) -> tuple[tuple[tuple[int, int], ...], ...]:
    items: list[tuple[int, int, bytes]] = []  # (value offset, length, first 4 bytes)
    while True:
        head = f.read(8)
        if len(head) < 8:
            raise DicomReadError(
                f"the file ends inside its compressed Pixel Data after {max(len(items) - 1, 0)} fragment(s), "
                "before the closing delimiter: it was cut off, copy it again"
            )
        group, elem, length = struct.unpack("<HHL", head)
        if (group, elem) == SEQUENCE_DELIMITER:
            break
        if (group, elem) != ITEM or length == UNDEFINED:
            raise DicomReadError(
                f"the compressed Pixel Data is malformed at byte {f.tell() - 8}: "
                f"expected an item, found ({group:04X},{elem:04X})"
            )
        offset = f.tell()
        if offset + length > size:
            raise DicomReadError(
                f"the file ends inside fragment {len(items)} of its compressed Pixel Data "
                f"({size - offset} of {length} bytes): it was cut off, copy it again"
            )
        first = f.read(min(length, 4))
        f.seek(offset + length)
        items.append((offset, length, first))
    if not items:
        raise DicomReadError("the compressed Pixel Data has no Basic Offset Table item; the file is malformed")
    bot, fragments = items[0], items[1:]
    if not fragments:
        raise DicomReadError("the compressed Pixel Data holds no frames")
    if frames == 1:
        groups = [fragments]
    elif len(fragments) == frames:
        groups = [[frag] for frag in fragments]
    else:
        groups = _group_fragments(f, ds, bot, fragments)
    if len(groups) != frames:
        raise DicomReadError(
            f"the compressed Pixel Data holds {len(groups)} frame(s) but the header says {frames}: "
            "the file is truncated or malformed"
        )
    return tuple(tuple((off, ln) for off, ln, _ in grp) for grp in groups)


def _group_fragments(f: BinaryIO, ds: Any, bot: tuple[int, int, bytes], fragments: list) -> list[list]:
    """Group fragments into frames: Extended Offset Table, Basic Offset Table, else codestream markers."""
    first_item = fragments[0][0] - 8
    offsets: list[int] | None = None
    eot = ds.get("ExtendedOffsetTable")
    if eot:
        offsets = list(struct.unpack(f"<{len(eot) // 8}Q", eot))
    elif bot[1]:
        f.seek(bot[0])
        raw = f.read(bot[1])
        offsets = list(struct.unpack(f"<{len(raw) // 4}L", raw))
    if offsets is not None:
        starts = {first_item + o for o in offsets}
        groups: list[list] = []
        for frag in fragments:
            if frag[0] - 8 in starts or not groups:
                groups.append([])
            groups[-1].append(frag)
        return groups
    groups = []
    for frag in fragments:
        if frag[2].startswith(_FRAME_STARTS) or not groups:
            groups.append([])
        groups[-1].append(frag)
    return groups
