"""Seeded mutations of DICOM files, shared by the fuzz test and ``benchmarks/fuzz_dicom.py``.

A mutation is a pure function of ``(source bytes, seed)``: the same seed gives the same bytes on
every machine, so a failing case is reproduced from its seed alone.  Kinds (chosen by the seed):

* ``set``: one pixel-module or calibration attribute (top level or in an ultrasound region) set to
  an edge value (0, -1, 2**31, 1e308, -1e308, NaN, 1e-12, an empty string ...);
* ``delete``: one such attribute removed;
* ``flip``: 1-8 bytes of the header replaced by random bytes;
* ``length``: a 4-byte run in the header overwritten with a huge or random length;
* ``truncate``: the file cut at a random offset.
"""

from __future__ import annotations

import io
import random
import warnings
from typing import Any

__all__ = ["mutate", "KINDS", "PIXEL_KEYWORDS", "REGION_KEYWORDS"]

KINDS = ("set", "set", "set", "delete", "flip", "length", "truncate")
PIXEL_KEYWORDS = (
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "SamplesPerPixel",
    "PhotometricInterpretation",
    "Rows",
    "Columns",
    "NumberOfFrames",
    "PixelRepresentation",
    "PlanarConfiguration",
    "PixelSpacing",
    "RedPaletteColorLookupTableDescriptor",
    "Modality",
    "FrameTime",
)
REGION_KEYWORDS = (
    "PhysicalDeltaX",
    "PhysicalDeltaY",
    "ReferencePixelX0",
    "ReferencePixelY0",
    "ReferencePixelPhysicalValueX",
    "ReferencePixelPhysicalValueY",
    "RegionLocationMinX0",
    "RegionLocationMinY0",
    "RegionLocationMaxX1",
    "RegionLocationMaxY1",
    "PhysicalUnitsXDirection",
    "PhysicalUnitsYDirection",
    "RegionSpatialFormat",
    "RegionDataType",
)
_INTS = (0, 1, 2, 3, 7, 8, 12, 16, 24, 32, 64, 255, 256, 4096, 32767, 65535, -1, 2**31 - 1, 2**32 - 1, 10**6)
_FLOATS = (0.0, -0.0, 1e-12, 1e-6, 0.005, 0.5, 5.0, 50.0, 1e6, 1e308, -1e308, float("nan"), float("inf"), -0.026)
_STRINGS = (
    "",
    "MONOCHROME1",
    "MONOCHROME2",
    "RGB",
    "PALETTE COLOR",
    "YBR_FULL_422",
    "YBR_RCT",
    "HSV",
    "CMYK",
    "US",
    "CT",
    "X" * 64,
    "1\\2\\3",
)


def _header_end(data: bytes) -> int:
    pos = data.rfind(b"\xe0\x7f\x10\x00")
    return pos if pos > 132 else len(data)


def _value_for(rng: random.Random, element: Any) -> Any:
    vr = element.VR if element is not None else rng.choice(("US", "FD", "DS", "CS"))
    if vr in ("US", "SS", "UL", "SL", "IS", "UV", "SV"):
        value = rng.choice(_INTS)
        return str(value) if vr == "IS" else value
    if vr in ("FD", "FL", "DS"):
        value = rng.choice(_FLOATS)
        if vr == "DS":
            return [repr(value), repr(rng.choice(_FLOATS))] if element is not None and element.VM == 2 else repr(value)
        return value
    if element is not None and element.VM == 3:  # palette descriptors
        return [rng.choice(_INTS) for _ in range(3)]
    return rng.choice(_STRINGS)


def _set_or_delete(data: bytes, rng: random.Random, delete: bool) -> bytes | None:
    import pydicom
    from pydicom import config

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data), force=True)
        except Exception:  # noqa: BLE001 - a source that does not parse cannot be mutated this way
            return None
        targets: list[tuple[Any, str]] = [(ds, k) for k in PIXEL_KEYWORDS]
        for item in ds.get("SequenceOfUltrasoundRegions") or ():
            targets += [(item, k) for k in REGION_KEYWORDS]
        holder, keyword = rng.choice(targets)
        if delete:
            if keyword in holder:
                delattr(holder, keyword)
        else:
            element = holder[keyword] if keyword in holder else None
            value = _value_for(rng, element)
            try:
                setattr(holder, keyword, value)
            except Exception:  # noqa: BLE001 - a value of the wrong type for the VR: skip
                return None
        out = io.BytesIO()
        old = config.settings.writing_validation_mode
        config.settings.writing_validation_mode = config.IGNORE
        try:
            ds.save_as(out, enforce_file_format=False)
        except Exception:  # noqa: BLE001 - pydicom cannot write it (value out of range for the VR)
            return None
        finally:
            config.settings.writing_validation_mode = old
    return out.getvalue()


def mutate(data: bytes, seed: int) -> tuple[str, bytes]:
    """``(kind, mutated bytes)`` for ``seed``; deterministic for a given ``data`` and ``seed``."""
    rng = random.Random(seed)
    for _ in range(8):
        kind = rng.choice(KINDS)
        if kind in ("set", "delete"):
            out = _set_or_delete(data, rng, delete=kind == "delete")
            if out is not None:
                return kind, out
            continue
        buf = bytearray(data)
        end = _header_end(data)
        if kind == "flip":
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(132, max(end, 133))] = rng.randrange(256)
        elif kind == "length":
            at = rng.randrange(132, max(end - 4, 133))
            buf[at : at + 4] = rng.choice((b"\xff\xff\xff\xff", b"\xfe\xff\xff\x7f", rng.randbytes(4)))
        else:
            buf = buf[: rng.randrange(0, len(buf))]
        return kind, bytes(buf)
    return "truncate", data[: len(data) // 2]
