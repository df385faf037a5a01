"""The Image Pixel module checked before any decoder sees it.

Decoders written in C or C++ trust the header.  GDCM (python-gdcm 3.0) aborts the whole process
with a C++ assertion, not an exception, on a JPEG header it finds inconsistent.  Measured with
pydicom's ``gdcm`` plugin on a real 8-bit JPEG Lossless and a real 8-bit JPEG Baseline file, each
case in its own process (tests/data/fuzz_repro/README.md has the whole table):

* Bits Allocated 8 with Bits Stored 1, 2 or 7 aborts (``GetBitsAllocated() == GetBitsStored()``),
* Bits Allocated 32 aborts for every Bits Stored (JPEG Baseline and Lossless),
* Bits Allocated 1 aborts for JPEG Baseline,
* Bits Allocated 16 with an 8-bit stream raises an ordinary error.

So the rules below follow the standard (PS3.3 C.7.6.3 Image Pixel module, PS3.5 section 8 and
annex A.4 for what each compressed syntax may hold), and are strict where GDCM would abort: a JPEG
family syntax holds 8 or 16 allocated bits, and 8 allocated bits means 8 stored bits.
"""

from __future__ import annotations

from typing import Any

from needleplan.errors import DicomReadError

__all__ = ["check_pixel_module", "MAX_ROWS_COLUMNS", "NATIVE_SYNTAXES"]

#: Implicit VR LE, Explicit VR LE, Deflated Explicit VR LE, Explicit VR BE: pixel data not encapsulated
NATIVE_SYNTAXES = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2")

#: Rows and Columns are US (unsigned short) in the standard: at most 65535
MAX_ROWS_COLUMNS = 65535
_ONE_SAMPLE = ("MONOCHROME1", "MONOCHROME2", "PALETTE COLOR")
_THREE_SAMPLES = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_420", "YBR_PARTIAL_422", "YBR_ICT", "YBR_RCT")
_NATIVE_BITS = (1, 8, 16, 32)
_JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
# JPEG (Extended, Lossless, JPEG-LS): 8 or 16 bits allocated; GDCM aborts on 32 and on 8 with fewer stored
_JPEG_FAMILY = (
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.81",
)
_RLE = "1.2.840.10008.1.2.5"
_ACTION = "the image header is damaged; export the image again from the scanner or PACS"


def _bad(what: str) -> DicomReadError:
    return DicomReadError(f"{what}: {_ACTION}")


def _int(ds: Any, keyword: str, *, required: bool, default: int = 0) -> int:
    element = ds.get(keyword)
    if element is None or element == "":
        if required:
            raise _bad(f"the {_label(keyword)} attribute is missing")
        return default
    try:
        value = int(element)
    except (TypeError, ValueError):
        raise _bad(f"{_label(keyword)} is {str(element)[:40]!r}, not a whole number") from None
    return value


def _label(keyword: str) -> str:
    return "".join(f" {c}" if c.isupper() else c for c in keyword).strip()


def check_pixel_module(ds: Any, transfer_syntax_uid: str, *, encapsulated: bool | None = None) -> None:
    """Refuse a pixel module that is inconsistent in itself or with its transfer syntax.

    Raises :class:`~needleplan.errors.DicomReadError` naming the attribute and its value.  The
    expected length of native pixel data is checked where the Pixel Data element is indexed
    (:func:`needleplan.io._layout.scan_pixel_data`), from the values accepted here.

    Examples
    --------
    >>> from pydicom import Dataset
    >>> ds = Dataset()
    >>> ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 480, 640, 1, "MONOCHROME2"
    >>> ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    >>> check_pixel_module(ds, "1.2.840.10008.1.2.1")   # consistent: no error
    >>> ds.BitsStored, ds.HighBit = 1, 0   # 1 bit stored in an 8-bit JPEG Lossless: GDCM would abort
    >>> check_pixel_module(ds, "1.2.840.10008.1.2.4.70")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    needleplan.errors.DicomReadError: Bits Stored 1 with Bits Allocated 8 cannot hold a JPEG image
    (8 stored bits expected): the image header is damaged; export the image again from the scanner or PACS
    """
    if encapsulated is None:
        encapsulated = str(transfer_syntax_uid) not in NATIVE_SYNTAXES
    rows = _int(ds, "Rows", required=True)
    cols = _int(ds, "Columns", required=True)
    for name, value in (("Rows", rows), ("Columns", cols)):
        if not 1 <= value <= MAX_ROWS_COLUMNS:
            raise _bad(f"{name} is {value}; an image has 1 to {MAX_ROWS_COLUMNS}")
    frames = _int(ds, "NumberOfFrames", required=False, default=1)
    if frames < 1:
        raise _bad(f"Number of Frames is {frames}; an image has at least 1")
    allocated = _int(ds, "BitsAllocated", required=True)
    stored = _int(ds, "BitsStored", required=True)
    high = _int(ds, "HighBit", required=False, default=stored - 1)
    if allocated not in _NATIVE_BITS:
        raise _bad(f"Bits Allocated is {allocated}; images use 1, 8, 16 or 32")
    if not 1 <= stored <= allocated:
        raise _bad(f"Bits Stored {stored} does not fit in Bits Allocated {allocated}")
    if high != stored - 1:
        raise _bad(f"High Bit is {high} but Bits Stored {stored} needs High Bit {stored - 1}")
    representation = _int(ds, "PixelRepresentation", required=False)
    if representation not in (0, 1):
        raise _bad(f"Pixel Representation is {representation}; it is 0 (unsigned) or 1 (signed)")
    _check_samples(ds)
    if encapsulated:
        _check_codec(transfer_syntax_uid, allocated, stored)


def _check_samples(ds: Any) -> None:
    samples = _int(ds, "SamplesPerPixel", required=True)
    photometric = str(ds.get("PhotometricInterpretation") or "").strip().upper()
    if not photometric:
        raise _bad("the Photometric Interpretation attribute is missing")
    if photometric in _ONE_SAMPLE:
        expected = 1
    elif photometric in _THREE_SAMPLES:
        expected = 3
    else:
        raise _bad(f"Photometric Interpretation {photometric[:30]!r} is not one an image can use")
    if samples != expected:
        raise _bad(f"{photometric} needs {expected} sample(s) per pixel, the header says {samples}")
    if samples == 3 and _int(ds, "PlanarConfiguration", required=False) not in (0, 1):
        raise _bad(f"Planar Configuration is {ds.get('PlanarConfiguration')}; it is 0 or 1")
    if photometric == "PALETTE COLOR":
        _check_palette(ds)


def _check_palette(ds: Any) -> None:
    allocated = _int(ds, "BitsAllocated", required=True)
    if allocated not in (8, 16):
        raise _bad(f"a PALETTE COLOR image has 8 or 16 bits allocated, the header says {allocated}")
    for colour in ("Red", "Green", "Blue"):
        keyword = f"{colour}PaletteColorLookupTableDescriptor"
        descriptor = ds.get(keyword)
        try:
            entries, _first, bits = (int(v) for v in descriptor)
        except (TypeError, ValueError):
            raise _bad(f"the {colour.lower()} palette descriptor is {descriptor!r}, not three numbers") from None
        if bits not in (8, 16):
            raise _bad(f"the {colour.lower()} palette has {bits}-bit entries; palettes use 8 or 16 bits")
        data = ds.get(f"{colour}PaletteColorLookupTableData")
        segmented = ds.get(f"Segmented{colour}PaletteColorLookupTableData")
        if data is None and segmented is None:
            raise _bad(f"the {colour.lower()} palette has no lookup table data")
        needed = (entries or 65536) * bits // 8  # 0 entries means 65536 (PS3.3 C.7.6.3.1.5)
        if data is not None and len(data) < needed:
            raise _bad(
                f"the {colour.lower()} palette holds {len(data)} bytes for {entries or 65536} "
                f"{bits}-bit entries ({needed} bytes)"
            )


def _check_codec(tsyntax: str, allocated: int, stored: int) -> None:
    if tsyntax == _JPEG_BASELINE and (allocated, stored) != (8, 8):
        raise _bad(
            f"JPEG Baseline holds 8-bit images, the header says Bits Allocated {allocated}, Bits Stored {stored}"
        )
    if tsyntax in _JPEG_FAMILY:
        if allocated not in (8, 16):
            raise _bad(f"Bits Allocated {allocated} cannot hold a JPEG image (8 or 16 expected)")
        if allocated == 8 and stored != 8:
            raise _bad(f"Bits Stored {stored} with Bits Allocated 8 cannot hold a JPEG image (8 stored bits expected)")
    if tsyntax == _RLE and allocated not in (8, 16, 32):
        raise _bad(f"Bits Allocated {allocated} cannot hold an RLE image (8, 16 or 32 expected)")
    if allocated == 1:
        raise _bad("a compressed image with 1 bit allocated is not supported")
