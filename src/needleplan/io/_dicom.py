"""DICOM files: header, calibration, timing, pixel layout; one frame decoded at a time.

Policy on files without the File Meta header (``no_meta.dcm``): they are recovered when pydicom
can read them with ``force=True`` *and* the result looks like an image (Rows, Columns, an SOP
Class UID and a Pixel Data element); the transfer syntax pydicom detected (implicit or explicit VR
little endian) is then set, and a note says so.  Anything else is "not a DICOM file".
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from needleplan.calibration import calibration_from_dataset, regions_from_dataset
from needleplan.errors import DicomReadError, ImageReadError
from needleplan.io._decode import check_decoder, decode_frame, display_ready
from needleplan.io._layout import PixelLayout, scan_pixel_data
from needleplan.io._model import ImageInfo
from needleplan.io._pixel_module import check_pixel_module
from needleplan.io._timing import cine_timing

__all__ = ["DicomSource", "read_dicom_header", "looks_like_dicom"]

_IMPLICIT_LE, _EXPLICIT_LE = "1.2.840.10008.1.2", "1.2.840.10008.1.2.1"


def looks_like_dicom(path: Path) -> bool:
    """A 'DICM' magic at byte 128 (the normal case)."""
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def _read(f: Any, force: bool) -> tuple[Any, list[str]]:
    import pydicom

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = pydicom.dcmread(f, stop_before_pixels=True, force=force)
        for _ in ds.iterall():  # convert every element now, so a damaged value is found here, not later
            pass
    return ds, [" ".join(str(w.message).split()) for w in caught]


def read_dicom_header(path: Path) -> tuple[Any, PixelLayout, list[str]]:
    """Read the header and index the pixel data; raise a DicomReadError for anything unusable."""
    from pydicom.errors import InvalidDicomError

    notes: list[str] = []
    try:
        with open(path, "rb") as f:
            try:
                ds, caught = _read(f, force=False)
            except InvalidDicomError:
                f.seek(0)
                try:
                    ds, caught = _read(f, force=True)
                except Exception:  # noqa: BLE001 - whatever pydicom trips on, this is not DICOM
                    ds = None
                if ds is None or not _is_image(ds):
                    raise ImageReadError(
                        f"{path.name} is not a DICOM file (no DICOM header, and its content does not parse as "
                        "a DICOM image); re-export it as a DICOM file, or open a PNG/JPEG"
                    ) from None
                _recover_transfer_syntax(ds)
                notes.append(f"the file has no DICOM File Meta header; read as {ds.file_meta.TransferSyntaxUID.name}")
            notes.extend(caught)
            tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
            if not tsyntax:
                _recover_transfer_syntax(ds)
                tsyntax = ds.file_meta.TransferSyntaxUID
            for keyword in ("Rows", "Columns"):
                if not ds.get(keyword):
                    raise DicomReadError(f"no {keyword} attribute: the file holds no image")
            implicit, little = _encoding(ds, tsyntax)
            check_pixel_module(ds, str(tsyntax))
            layout = scan_pixel_data(f, ds, implicit=implicit, little=little, frame_bytes=_native_frame_bytes(ds))
    except DicomReadError as exc:
        raise type(exc)(f"{path.name}: {exc}") from None
    except ImageReadError:
        raise
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except MemoryError:  # a damaged length: pydicom sets aside memory for a value bigger than the file
        raise DicomReadError(
            f"{path.name} could not be read as DICOM (an element claims more bytes than memory "
            "holds): the file is damaged; export it again from the scanner or PACS"
        ) from None
    except Exception as exc:  # noqa: BLE001 - pydicom's parser raises many types on damaged bytes
        raise DicomReadError(
            f"{path.name} could not be read as DICOM ({_library_text(exc)}): the file is "
            "damaged; export it again from the scanner or PACS"
        ) from None
    return ds, layout, notes


def _library_text(exc: BaseException) -> str:
    """A library's exception as a short phrase (its first sentence, at most 160 characters)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text.split(". ")[0][:160]


def _encoding(ds: Any, tsyntax: Any) -> tuple[bool, bool]:
    """(implicit VR, little endian) as pydicom read the dataset; compressed syntaxes are explicit LE."""
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        try:
            implicit, little = tsyntax.is_implicit_VR, tsyntax.is_little_endian
        except ValueError:  # a transfer syntax this pydicom does not know (JPEG XL in 3.0)
            implicit, little = False, True
    return bool(implicit), bool(little)


def _is_image(ds: Any) -> bool:
    return bool(ds.get("Rows")) and bool(ds.get("Columns")) and bool(ds.get("SOPClassUID"))


def _recover_transfer_syntax(ds: Any) -> None:
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID

    implicit, little = ds.original_encoding
    if not hasattr(ds, "file_meta") or ds.file_meta is None:
        ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = UID(_IMPLICIT_LE if implicit in (True, None) else _EXPLICIT_LE)
    if little is False:
        raise DicomReadError("big-endian DICOM without File Meta header cannot be read")


def _native_frame_bytes(ds: Any) -> int | None:
    """Bytes of one native frame (None for bit-packed frames that are not byte aligned)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    spp = int(ds.get("SamplesPerPixel") or 1)
    bits = int(ds.get("BitsAllocated") or 8)
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if photometric in ("YBR_FULL_422", "YBR_PARTIAL_422") and spp == 3:
        return rows * cols * 2 * bits // 8
    total_bits = rows * cols * spp * bits
    return total_bits // 8 if total_bits % 8 == 0 else None


class DicomSource:
    """A DICOM image on disk: its header is kept, its frames are read one at a time."""

    def __init__(self, path: Path) -> None:
        from pydicom.pixels.utils import as_pixel_options

        self.path = path
        self.header, self.layout, notes = read_dicom_header(path)
        ds = self.header
        tsyntax = ds.file_meta.TransferSyntaxUID
        check_decoder(str(tsyntax))
        try:
            self.opts = as_pixel_options(ds)
            self.opts.update(transfer_syntax_uid=tsyntax, pixel_keyword="PixelData")
            if self.layout.pixel_vr:
                self.opts["pixel_vr"] = self.layout.pixel_vr
            elif not self.layout.encapsulated:
                self.opts["pixel_vr"] = "OW" if int(ds.get("BitsAllocated") or 8) > 8 else "OB"
            self.info = self._info(ds, tsyntax, notes)
        except ImageReadError:
            raise
        except Exception as exc:  # noqa: BLE001 - a header value pydicom read but that is unusable
            raise DicomReadError(
                f"{path.name}: the header could not be understood ({_library_text(exc)}); "
                "export the image again from the scanner or PACS"
            ) from None

    def _info(self, ds: Any, tsyntax: Any, notes: list[str]) -> ImageInfo:
        path = self.path
        frames = len(self.layout.frames)
        frame_time_ms, frame_times_ms, timing_notes = cine_timing(ds, frames)
        return ImageInfo(
            path=str(path),
            modality=_str(ds.get("Modality")),
            rows=int(ds.Rows),
            columns=int(ds.Columns),
            frames=frames,
            samples_per_pixel=int(ds.get("SamplesPerPixel") or 1),
            photometric=_str(ds.get("PhotometricInterpretation")),
            transfer_syntax_uid=str(tsyntax),
            sop_instance_uid=_str(ds.get("SOPInstanceUID")),
            sop_class_uid=_str(ds.get("SOPClassUID")),
            frame_time_ms=frame_time_ms,
            frame_times_ms=frame_times_ms,
            regions=regions_from_dataset(ds),
            calibration=calibration_from_dataset(ds),
            notes=tuple(notes) + timing_notes,
        )

    def stored_bytes(self, index: int) -> bytes:
        with open(self.path, "rb") as f:
            return self.layout.read_frame(f, index)

    def frame_sha256(self, index: int) -> str:
        return hashlib.sha256(self.stored_bytes(index)).hexdigest()

    def decode(self, index: int) -> np.ndarray:
        """Frame ``index`` display-ready; whatever a decoder raises becomes a :class:`DicomReadError`."""
        try:
            if not self.layout.encapsulated and _native_frame_bytes(self.header) is None:
                return self._decode_bit_packed(index)
            arr = decode_frame(self.stored_bytes(index), self.opts, self.layout.encapsulated, index)
            return display_ready(arr, self.header)
        except ImageReadError:
            raise
        except MemoryError:
            raise DicomReadError(
                f"{self.path.name}: frame {index} is too large to decode in the memory "
                "available; close other programs or use a smaller export"
            ) from None
        except Exception as exc:  # noqa: BLE001 - decoder plugins raise many types on damaged data
            raise DicomReadError(
                f"{self.path.name}: frame {index} could not be decoded ({_library_text(exc)}): "
                "the pixel data does not match its header; export the image again"
            ) from None

    def _decode_bit_packed(self, index: int) -> np.ndarray:
        from pydicom.pixels import pixel_array

        with open(self.path, "rb") as f:
            arr = pixel_array(f, index=index, transfer_syntax_uid=self.opts["transfer_syntax_uid"])
        return display_ready(arr, self.header)

    def file_size(self) -> int:
        return os.path.getsize(self.path)


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
