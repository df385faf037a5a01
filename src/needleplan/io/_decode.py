"""Decoding one stored frame with pydicom 3's decoders, and making it display-ready.

Decoder choice (docs/decoders.md): a preferred plugin per transfer syntax, falling back to any
other installed one.  Pillow for JPEG Baseline/Extended, pylibjpeg-openjpeg for JPEG 2000,
python-gdcm for JPEG Lossless (Pillow cannot), pylibjpeg-rle for RLE.  pylibjpeg-libjpeg (GPLv3)
is deliberately not used.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from needleplan.errors import DicomReadError, UnsupportedCodecError

__all__ = ["check_decoder", "decode_frame", "display_ready", "PREFERRED_PLUGINS"]

_JPEG_BASELINE, _JPEG_EXTENDED = "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"
_J2K = (
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
)
PREFERRED_PLUGINS: dict[str, tuple[str, ...]] = {
    _JPEG_BASELINE: ("pillow", "gdcm"),
    _JPEG_EXTENDED: ("pillow", "gdcm"),
    "1.2.840.10008.1.2.4.57": ("gdcm",),
    "1.2.840.10008.1.2.4.70": ("gdcm",),
    "1.2.840.10008.1.2.4.80": ("gdcm", "pyjpegls"),
    "1.2.840.10008.1.2.4.81": ("gdcm", "pyjpegls"),
    "1.2.840.10008.1.2.5": ("pylibjpeg", "pydicom", "gdcm"),
    **dict.fromkeys(_J2K, ("pylibjpeg", "pillow", "gdcm")),
}
# what to install when no decoder is available, in words a user can act on
_INSTALL_HINT: dict[str, str] = {
    _JPEG_BASELINE: "pip install pillow (or python-gdcm)",
    _JPEG_EXTENDED: "pip install pillow (or python-gdcm)",
    "1.2.840.10008.1.2.4.57": "pip install python-gdcm (Pillow cannot decode JPEG Lossless)",
    "1.2.840.10008.1.2.4.70": "pip install python-gdcm (Pillow cannot decode JPEG Lossless)",
    "1.2.840.10008.1.2.4.80": "pip install python-gdcm (or pyjpegls)",
    "1.2.840.10008.1.2.4.81": "pip install python-gdcm (or pyjpegls)",
    "1.2.840.10008.1.2.5": "pip install pylibjpeg pylibjpeg-rle (or numpy for pydicom's own RLE decoder)",
    **dict.fromkeys(_J2K, "pip install pylibjpeg pylibjpeg-openjpeg (or pillow, python-gdcm)"),
}


def _uid_name(uid: str) -> str:
    from pydicom.uid import UID

    name = UID(uid).name
    return f"{name} ({uid})" if name and name != uid else uid


def check_decoder(tsyntax: str) -> Any:
    """The pydicom decoder for ``tsyntax``; :class:`UnsupportedCodecError` says what would add one."""
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        name = _uid_name(tsyntax)
        if tsyntax.startswith("1.2.840.10008.1.2.4.11"):
            hint = (
                "no pydicom decoder exists yet for JPEG XL (pydicom 3.0); export the images as "
                "JPEG or uncompressed from the scanner or PACS"
            )
        elif tsyntax.startswith("1.2.840.10008.1.2.4.10"):
            hint = "pydicom cannot decode video transfer syntaxes; export single images or a JPEG cine"
        else:
            hint = "no pydicom decoder exists for it; export the images uncompressed or as JPEG"
        raise UnsupportedCodecError(f"cannot decode transfer syntax {name}: {hint}") from None
    if not decoder.is_available:
        hint = _INSTALL_HINT.get(tsyntax, "install a pydicom decoder plugin for it")
        raise UnsupportedCodecError(f"no installed decoder handles transfer syntax {_uid_name(tsyntax)}: {hint}")
    return decoder


def _plugin_order(decoder: Any, tsyntax: str) -> list[str]:
    available = list(decoder.available_plugins)
    preferred = [p for p in PREFERRED_PLUGINS.get(tsyntax, ()) if p in available]
    # GPLv3 pylibjpeg-libjpeg: pylibjpeg's plugin for JPEG is only used if nothing else is there
    return preferred + [p for p in available if p not in preferred] or [""]


def decode_frame(stored: bytes, opts: dict[str, Any], encapsulated: bool, index: int) -> np.ndarray:
    """Decode one frame's stored bytes (``opts`` from ``pydicom.pixels.utils.as_pixel_options``)."""
    from pydicom.encaps import encapsulate

    tsyntax = str(opts["transfer_syntax_uid"])
    decoder = check_decoder(tsyntax)
    frame_opts = dict(opts, number_of_frames=1)
    src = encapsulate([stored]) if encapsulated else stored
    if encapsulated and len(stored) % 2:
        src = encapsulate([stored + b"\x00"])
    errors = []
    for plugin in _plugin_order(decoder, tsyntax) if encapsulated else [""]:
        try:
            arr, _ = decoder.as_array(src, index=0, validate=True, raw=False, decoding_plugin=plugin, **frame_opts)
            return arr
        except (RuntimeError, ValueError, OSError, IndexError, TypeError) as exc:
            text = " ".join(str(exc).split()).replace(_ALL_FAILED, "")
            text = re.sub(r"\s*<[^>]*>", "", text).removeprefix(f"{plugin}: ")
            errors.append(f"{plugin or 'pydicom'}: {text[:120]}")
    raise DicomReadError(
        f"frame {index} could not be decoded ({_uid_name(tsyntax)}): the compressed data is damaged or does "
        f"not match the header; try another export of the file ({errors[0]})"
    )


_ALL_FAILED = "Unable to decode as exceptions were raised by all available plugins: "


def display_ready(arr: np.ndarray, header: Any) -> np.ndarray:
    """Palette -> RGB (8-bit), MONOCHROME1 inverted; RGB/YBR are already RGB (pydicom converts)."""
    photometric = str(header.get("PhotometricInterpretation", "")).upper()
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        rgb = apply_color_lut(arr, header)
        if rgb.dtype != np.uint8:
            # 16-bit palette entries span 0-65535: keep the top byte for display
            bits = int(header.get("RedPaletteColorLookupTableDescriptor", [0, 0, 16])[2] or 16)
            rgb = (rgb >> max(bits - 8, 0)).astype(np.uint8)
        return rgb
    if photometric == "MONOCHROME1":
        if arr.dtype.kind == "u":
            bits = int(header.get("BitsStored") or arr.dtype.itemsize * 8)
            return (np.asarray((1 << bits) - 1, dtype=arr.dtype) - arr).astype(arr.dtype)
        if arr.dtype.kind == "i":
            return (-1 - arr).astype(arr.dtype)
        return arr.max() + arr.min() - arr
    return arr
