"""Writing a synthetic case as DICOM (US Image / US Multi-frame Image Storage).

Grey 8-bit MONOCHROME2, uncompressed (Explicit VR Little Endian) or JPEG Baseline (frames
encoded with Pillow, encapsulated with pydicom).  The calibration is one 2D tissue region of the
Sequence of Ultrasound Regions in cm, its reference pixel on the skin line at the centre of the
probe face (docs/ultrasound-calibration.md §1).  Cines carry Frame Time and a Frame Increment Pointer
to it (section 3).  Every UID is derived from the case parameters and every date is fixed, so the
same case gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.tag import Tag
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEGBaseline8Bit

if TYPE_CHECKING:
    from needleplan.synth import SyntheticCase

__all__ = ["write_dicom", "frame_hashes", "US_IMAGE", "US_MULTIFRAME", "JPEG_QUALITY", "case_uid", "derived_uid"]

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"
JPEG_QUALITY = 90
COMPRESSIONS = ("none", "jpeg")
_BODY_PART = {
    "upper_trapezius": "SHOULDER",
    "rhomboid": "BACK",
    "thoracic_paraspinal": "TSPINE",
    "gluteus_medius": "HIP",
    "piriformis": "BUTTOCK",
    "quadratus_lumborum": "LSPINE",
}


def derived_uid(*parts: str) -> str:
    """A ``2.25.<128-bit integer>`` UID (ISO/IEC 9834-8) from a SHA-256 of ``parts``: the same
    parts give the same UID, so files are reproducible bit for bit.

    >>> derived_uid("a", "b") == derived_uid("a", "b") != derived_uid("a", "c")
    True
    >>> derived_uid("a").startswith("2.25.") and len(derived_uid("a")) <= 64
    True
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()[:16]
    return "2.25." + str(int.from_bytes(digest, "big"))


def case_uid(case: SyntheticCase, what: str, compression: str = "") -> str:
    """A UID derived from the case parameters: same case, same UID."""
    return derived_uid(
        "needleplan.synth", case.preset, case.habitus, str(case.seed), str(case.n_frames), what, compression
    )


def _region(case: SyntheticCase) -> Dataset:
    r0, c0, r1, c1 = case.region_box_px
    item = Dataset()
    item.RegionSpatialFormat = 1  # 2D
    item.RegionDataType = 1  # tissue
    item.RegionFlags = 0
    item.RegionLocationMinX0 = c0
    item.RegionLocationMinY0 = r0
    item.RegionLocationMaxX1 = c1
    item.RegionLocationMaxY1 = r1
    item.ReferencePixelX0 = int(case.origin_px[1]) - c0
    item.ReferencePixelY0 = int(case.origin_px[0]) - r0
    item.PhysicalUnitsXDirection = 3  # cm
    item.PhysicalUnitsYDirection = 3
    item.ReferencePixelPhysicalValueX = 0.0
    item.ReferencePixelPhysicalValueY = 0.0
    item.PhysicalDeltaX = case.spacing_mm[1] / 10.0
    item.PhysicalDeltaY = case.spacing_mm[0] / 10.0
    item.TransducerFrequency = int(round(case.probe.frequency_mhz * 1000))  # kHz
    return item


def _encode_jpeg(frame: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(frame, mode="L").save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=False)
    return buf.getvalue()


def _header(case: SyntheticCase, compression: str) -> Dataset:
    cine = case.n_frames > 1
    sop_class = US_MULTIFRAME if cine else US_IMAGE
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(sop_class)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(case_uid(case, "sop", compression))
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit if compression == "jpeg" else ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = UID(derived_uid("needleplan.synth", "implementation", "1"))
    ds.file_meta.ImplementationVersionName = "NEEDLEPLAN_SYN1"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20250106"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "093000"
    ds.AccessionNumber = f"SYN{case.seed:06d}"[:16]
    ds.Modality = "US"
    ds.Manufacturer = "needleplan"
    ds.InstitutionName = "Phantom Teaching Hospital"
    ds.ReferringPhysicianName = ""
    ds.StationName = "SYNTH01"
    ds.StudyDescription = "US MSK trigger point injection planning"
    ds.SeriesDescription = f"{case.preset} {case.habitus} {'cine' if cine else 'frame'}"
    ds.ManufacturerModelName = "synthetic B-mode phantom"
    ds.DerivationDescription = "Synthetic phantom image (needleplan synth); not a patient"
    ds.PatientName = f"PHANTOM^{case.preset.upper()}"
    ds.PatientID = f"PHANTOM-{case.habitus.upper()}-{case.seed}"
    ds.PatientBirthDate = "19800101"
    ds.PatientSex = case.patient["sex"]
    ds.PatientWeight = f"{case.patient['weight_kg']:.1f}"
    ds.PatientSize = f"{math.sqrt(case.patient['weight_kg'] / case.patient['bmi']):.2f}"
    ds.BodyPartExamined = _BODY_PART.get(case.site, "")
    ds.TransducerType = "CURVED LINEAR" if case.probe.kind == "curvilinear" else "LINEAR"
    ds.DepthOfScanField = int(round(case.probe.depth_mm))
    ds.StudyInstanceUID = case_uid(case, "study")
    ds.SeriesInstanceUID = case_uid(case, "series", compression)
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.BurnedInAnnotation = "NO"
    ds.SequenceOfUltrasoundRegions = [_region(case)]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = int(case.frames.shape[1]), int(case.frames.shape[2])
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    if cine:
        frame_ms = case.motion.frame_time_ms
        ds.NumberOfFrames = case.n_frames
        ds.FrameIncrementPointer = Tag(0x0018, 0x1063)  # Frame Time
        ds.FrameTime = f"{frame_ms:.3f}"
        ds.CineRate = int(round(1000.0 / frame_ms))
        ds.RecommendedDisplayFrameRate = ds.CineRate
        ds.EffectiveDuration = f"{case.n_frames * frame_ms / 1000.0:.3f}"
        ds.HeartRate = int(round(case.motion.heart_rate_bpm))
        ds.PreferredPlaybackSequencing = 0
    return ds


def write_dicom(case: SyntheticCase, path: str | Path, compression: str = "none") -> Dataset:
    """Write ``case`` to ``path``; return the dataset written."""
    ds = _header(case, compression)
    if compression == "jpeg":
        encoded = [_encode_jpeg(np.ascontiguousarray(f)) for f in case.frames]
        ds.PixelData = encapsulate(encoded)
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
        raw = case.frames.size
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionRatio = f"{raw / sum(len(e) for e in encoded):.2f}"
        ds.LossyImageCompressionMethod = "ISO_10918_1"
    else:
        ds.PixelData = np.ascontiguousarray(case.frames).tobytes()
        ds["PixelData"].VR = "OB"
        ds.LossyImageCompression = "00"
    ds.save_as(path, enforce_file_format=True)
    return ds


def frame_hashes(ds: Dataset) -> list[str]:
    """Hex SHA-256 of each frame's *stored* bytes: the native frame bytes, or the encapsulated
    frame's bytes for a compressed transfer syntax (as ``LoadedImage.frame_sha256`` defines it)."""
    n = int(ds.get("NumberOfFrames", 1) or 1)
    if ds.file_meta.TransferSyntaxUID.is_encapsulated:
        frames = list(generate_frames(ds.PixelData, number_of_frames=n))
    else:
        size = int(ds.Rows) * int(ds.Columns) * int(ds.SamplesPerPixel) * (int(ds.BitsAllocated) // 8)
        frames = [ds.PixelData[i * size : (i + 1) * size] for i in range(n)]
    return [hashlib.sha256(f).hexdigest() for f in frames]
