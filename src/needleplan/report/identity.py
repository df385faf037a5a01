"""Who and which image a report is about: the patient and study fields of the DICOM header.

Read from the header only (no pixels).  A de-identified image (Patient Identity Removed = YES, or a
name and ID replaced by a pseudonym) prints its pseudonym and says it is one; a field the image does
not hold prints "not recorded", never a blank and never an invented value.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydicom is imported only when a DICOM identity is read
    from pydicom import Dataset

__all__ = ["ImageIdentity", "image_identity", "NOT_RECORDED", "dicom_date"]

NOT_RECORDED = "not recorded"


def dicom_date(value: str | None) -> str | None:
    """A DICOM DA ``YYYYMMDD`` as ``YYYY-MM-DD`` (other text is returned as it is).

    >>> dicom_date("19870214"), dicom_date(""), dicom_date("1987")
    ('1987-02-14', None, '1987')
    """
    if not value:
        return None
    text = str(value).strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


@dataclass(frozen=True, slots=True)
class ImageIdentity:
    """The patient and study fields of one image (None: the image does not hold the field)."""

    patient_name: str | None = None
    patient_id: str | None = None
    birth_date: str | None = None
    accession: str | None = None
    study_date: str | None = None
    study_description: str | None = None
    sop_instance_uid: str | None = None
    deidentified: bool = False


def _text(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    text = str(value).strip() if value is not None else ""
    return text.replace("^", " ").strip() or None


def image_identity(path: str | Path) -> ImageIdentity:
    """The identity fields of the DICOM file at ``path``; an empty identity for PNG/JPEG."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True)
    except (InvalidDicomError, IsADirectoryError, OSError):
        return ImageIdentity()
    removed = str(ds.get("PatientIdentityRemoved", "")).upper() == "YES"
    return ImageIdentity(
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        birth_date=dicom_date(_text(ds, "PatientBirthDate")),
        accession=_text(ds, "AccessionNumber"),
        study_date=dicom_date(_text(ds, "StudyDate")),
        study_description=_text(ds, "StudyDescription"),
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        deidentified=removed,
    )
