"""De-identify files and folders: header profile + Clean Pixel Data, one secret per run."""

from __future__ import annotations

import os
import secrets
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes

from needleplan.calibration import regions_from_dataset
from needleplan.deid import pixels
from needleplan.deid.header import TABLE_VERSION, HeaderProfile
from needleplan.errors import DeidentificationError, DicomReadError, ImageReadError, NeedleplanError

__all__ = ["DeidResult", "Deidentifier", "deidentify_path", "read_secret"]

SECRET_ENV = "NEEDLEPLAN_DEID_SECRET"


@dataclass(frozen=True, slots=True)
class DeidResult:
    """One file's outcome.

    ``clean`` is True only when no burned-in text can remain: the pixels outside the calibrated
    regions were blanked, or the file declared BurnedInAnnotation NO.
    """

    source: str
    output: str
    clean: bool
    pixels_cleaned: bool
    kept_boxes_px: tuple[tuple[int, int, int, int], ...]
    methods: tuple[str, ...]  # CID 7050 code values written
    note: str

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "output": self.output,
            "clean": self.clean,
            "pixels_cleaned": self.pixels_cleaned,
            "kept_boxes_px": [list(b) for b in self.kept_boxes_px],
            "methods": list(self.methods),
            "note": self.note,
        }


def read_secret(path: str | os.PathLike[str] | None) -> tuple[str, bool]:
    """The run's secret: from a file, else ``$NEEDLEPLAN_DEID_SECRET``, else a random one.

    Returns ``(secret, reproducible)``; with a random secret, pseudonyms cannot be linked to a
    later run.
    """
    if path is not None:
        text = Path(path).read_text(encoding="utf-8").strip()
        if not text:
            raise ImageReadError(f"secret file {path} is empty; put a long random line in it")
        return text, True
    env = os.environ.get(SECRET_ENV, "").strip()
    if env:
        return env, True
    return secrets.token_hex(32), False


@dataclass(frozen=True, slots=True)
class PixelsDone:
    """What the pixel step kept (clamped inclusive boxes) and blanked (pixels per frame)."""

    kept_boxes_px: tuple[tuple[int, int, int, int], ...]
    blanked_px: int


class Deidentifier:
    """De-identifies datasets; every file of one instance shares pseudonyms, UIDs and date shift.

    Parameters
    ----------
    secret : str
        Seeds the pseudonyms, the UID mapping and the date shift (see :func:`read_secret`).
    allow_burned_in : bool
        When an image has no calibrated region to keep and does not declare BurnedInAnnotation NO,
        write it anyway with its header de-identified, BurnedInAnnotation YES and
        PatientIdentityRemoved NO, and report it as not clean.  Without it such a file is refused.
    """

    def __init__(self, secret: str, *, allow_burned_in: bool = False) -> None:
        self._header = HeaderProfile(secret)
        self.allow_burned_in = allow_burned_in

    def deidentify_dataset(self, ds: Dataset, source: str = "<dataset>") -> tuple[bool, PixelsDone]:
        """De-identify ``ds`` in place; return ``(clean, pixels_done)``."""
        if "PixelData" not in ds:
            raise DicomReadError(f"{source}: no pixel data; only images are de-identified for cases")
        regions = regions_from_dataset(ds)
        rows, cols = int(ds.Rows), int(ds.Columns)
        boxes = pixels.kept_boxes(regions, rows, cols)
        burned = str(ds.get("BurnedInAnnotation", "")).strip().upper() or "absent"
        arr, photometric = pixels.decode_all_frames(ds, source)
        if boxes:
            value = pixels.blank_value(ds, photometric)
            keep = pixels.keep_mask(regions, rows, cols)
            blanked = pixels.apply_mask(arr, keep, int(ds.get("SamplesPerPixel", 1)), value)
            done = PixelsDone(boxes, blanked)
            clean = True
        elif burned == "NO":
            done, clean = PixelsDone((), 0), True
        elif self.allow_burned_in:
            done, clean = PixelsDone((), 0), False
        else:
            raise DeidentificationError(
                f"{source}: no calibrated ultrasound region to keep and BurnedInAnnotation is {burned}, "
                "so burned-in patient text cannot be cleaned; mask it by hand, or pass "
                "--allow-burned-in to write it marked as not de-identified"
            )
        pixels.store_uncompressed(ds, arr, photometric)
        self._header.apply(ds)
        _set_deid_attributes(ds, clean=clean, pixels_cleaned=bool(done.kept_boxes_px))
        return clean, done

    def deidentify_file(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> DeidResult:
        """De-identify one DICOM file into ``dst`` (a file path, or a folder to put it in)."""
        src_path = Path(src)
        try:
            with warnings.catch_warnings():  # the input's own VR quirks are not the user's business
                warnings.simplefilter("ignore", UserWarning)
                ds = pydicom.dcmread(src_path)
                for _ in ds.iterall():  # convert every element now: a damaged value fails here
                    pass
        except InvalidDicomError as exc:  # pydicom's text ends "Use force=True": not for users
            raise DicomReadError(
                f"{src_path}: not a DICOM file (no DICOM header); give a DICOM image exported from the scanner or PACS"
            ) from exc
        except OSError as exc:
            raise DicomReadError(f"{src_path}: not a readable DICOM file ({exc})") from exc
        except Exception as exc:  # noqa: BLE001 - pydicom's parser raises many types on damaged bytes
            raise DicomReadError(
                f"{src_path}: the DICOM file is damaged ({' '.join(str(exc).split())[:160]}); "
                "export it again from the scanner or PACS"
            ) from None
        clean, done = self.deidentify_dataset(ds, str(src_path))
        dst_path = Path(dst)
        if dst_path.is_dir():
            dst_path = dst_path / f"{ds.SOPInstanceUID}.dcm"
        if dst_path.resolve() == src_path.resolve():
            raise ImageReadError(f"{src_path}: output would overwrite the input; choose another OUT")
        _write_atomic(ds, dst_path)
        methods = tuple(item.CodeValue for item in ds.DeidentificationMethodCodeSequence)
        if done.kept_boxes_px:
            note = (
                f"kept {len(done.kept_boxes_px)} calibrated region(s), blanked "
                f"{done.blanked_px} pixels per frame outside them"
            )
        elif clean:
            note = "BurnedInAnnotation NO and no calibrated region: pixels kept as they are"
        else:
            note = "NOT CLEAN: no calibrated region to keep; burned-in text may remain"
        return DeidResult(
            str(src_path), str(dst_path), clean, bool(done.kept_boxes_px), done.kept_boxes_px, methods, note
        )


def deidentify_path(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    deidentifier: Deidentifier,
) -> tuple[list[DeidResult], list[str], list[tuple[str, str]]]:
    """De-identify a file, or every DICOM file under a folder into ``dst`` (named by new UID).

    Returns ``(results, skipped, failed)``: ``skipped`` lists files that are not DICOM, ``failed``
    ``(file, reason)`` for DICOM files that could not be de-identified (a folder run goes on with
    the others; a single file raises instead).  Output files are named by their new SOP Instance
    UID, since input names often carry the patient's name.
    """
    src_path, dst_path = Path(src), Path(dst)
    if not src_path.exists():
        raise ImageReadError(f"{src_path} does not exist")
    if src_path.is_file():
        if not dst_path.exists() and str(dst).endswith(os.sep):
            dst_path.mkdir(parents=True)
        return [deidentifier.deidentify_file(src_path, dst_path)], [], []
    dst_path.mkdir(parents=True, exist_ok=True)
    results, skipped, failed = [], [], []
    for path in sorted(p for p in src_path.rglob("*") if p.is_file()):
        if dst_path.resolve() in path.resolve().parents:
            continue
        if not _looks_like_dicom(path):
            skipped.append(str(path))
            continue
        try:
            results.append(deidentifier.deidentify_file(path, dst_path))
        except NeedleplanError as exc:
            failed.append((str(path), str(exc)))
    return results, skipped, failed


def _looks_like_dicom(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(132)
    return len(head) == 132 and head[128:132] == b"DICM"


def _set_deid_attributes(ds: Dataset, *, clean: bool, pixels_cleaned: bool) -> None:
    used = [
        codes.DCM.BasicApplicationConfidentialityProfile,
        codes.DCM.RetainLongitudinalTemporalInformationModifiedDatesOption,
    ]
    if pixels_cleaned:
        used.insert(1, codes.DCM.CleanPixelDataOption)
    items = []
    for code in used:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code.value, code.scheme_designator, code.meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = items
    ds.DeidentificationMethod = [
        "needleplan deid: PS3.15 Basic Profile",
        f"dicognito pseudonyms; Table E.1-1 {TABLE_VERSION}",
        "dates shifted" + ("; pixels outside US regions blanked" if pixels_cleaned else ""),
    ]
    ds.LongitudinalTemporalInformationModified = "MODIFIED"
    ds.PatientIdentityRemoved = "YES" if clean else "NO"
    if pixels_cleaned:
        ds.BurnedInAnnotation = "NO"
    elif not clean:
        ds.BurnedInAnnotation = "YES"
    _fresh_file_meta(ds)


def _fresh_file_meta(ds: Dataset) -> None:
    """A new File Meta Information group: only what the file needs, no sending station's AE title."""
    old = getattr(ds, "file_meta", None)
    meta = pydicom.dataset.FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = old.TransferSyntaxUID if old is not None else pydicom.uid.ExplicitVRLittleEndian
    meta.ImplementationClassUID = pydicom.uid.PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"PYDICOM {pydicom.__version__}"[:16]
    ds.file_meta = meta


def _write_atomic(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".deid-", suffix=".dcm", dir=path.parent)
    os.close(fd)
    try:
        ds.save_as(tmp, enforce_file_format=True)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
