"""STOW-RS: store a plan's SR (and optionally its PDF report) into the source study.

Nothing local is written: a failed store leaves the plan file exactly as it was.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from needleplan import __version__
from needleplan.errors import PacsError
from needleplan.pacs.client import PacsClient
from needleplan.plan import Plan

__all__ = ["StoreResult", "store_instances", "store_plan", "encapsulated_pdf", "ENCAPSULATED_PDF_STORAGE"]

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"

# Patient and study attributes copied from the source image so the new object joins its study.
_STUDY_KEYWORDS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
)


@dataclass(frozen=True, slots=True)
class StoreResult:
    """The SOP Instance UIDs the server accepted, in the study they were stored into."""

    study_instance_uid: str
    stored: tuple[str, ...]

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {"study_instance_uid": self.study_instance_uid, "stored": list(self.stored)}


def _failures(response: pydicom.Dataset) -> list[str]:
    out = []
    for item in response.get("FailedSOPSequence", []):
        reason = item.get("FailureReason")
        out.append(
            f"{item.get('ReferencedSOPInstanceUID', '?')} (reason 0x{int(reason):04X})"
            if reason is not None
            else str(item.get("ReferencedSOPInstanceUID", "?"))
        )
    return out


def store_instances(
    client: PacsClient, datasets: Sequence[pydicom.Dataset], *, study_uid: str, verify: bool = True
) -> StoreResult:
    """STOW-RS ``datasets`` to ``/studies/{study_uid}``; each must belong to that study.

    With ``verify`` (the default), the server is then asked (QIDO-RS) to list each instance, so a
    store that was acknowledged but dropped is reported, not trusted.

    Retried on transient faults only because every dataset carries its SOP Instance UID from
    before the first attempt, so a repeat stores the same objects again (see
    :mod:`needleplan.pacs.client`).

    Raises
    ------
    PacsError
        When a dataset is for another study, has no SOP Instance UID, or the server refuses any.
    """
    if not datasets:
        raise PacsError("nothing to store")
    uids = []
    for ds in datasets:
        if str(ds.get("StudyInstanceUID", "")) != study_uid:
            raise PacsError(
                f"refusing to store {ds.get('SOPInstanceUID', '?')}: it belongs to study "
                f"{ds.get('StudyInstanceUID', 'none')}, not the source study {study_uid}"
            )
        if not ds.get("SOPInstanceUID"):
            raise PacsError("refusing to store an object without a SOP Instance UID")
        uids.append(str(ds.SOPInstanceUID))
    response = client.call(
        f"store {len(datasets)} object(s) into study {study_uid}",
        lambda: client.dicomweb.store_instances(list(datasets), study_instance_uid=study_uid),
    )
    failed = _failures(response)
    if failed:
        raise PacsError(f"PACS refused to store {', '.join(failed)}; nothing local was changed")
    accepted = {str(item.get("ReferencedSOPInstanceUID", "")) for item in response.get("ReferencedSOPSequence", [])}
    if accepted and not set(uids) <= accepted:
        missing = sorted(set(uids) - accepted)
        raise PacsError(f"PACS did not confirm storing {', '.join(missing)}; check the study on the server")
    if verify:
        _verify_listed(client, study_uid, uids)
    return StoreResult(study_uid, tuple(uids))


def _verify_listed(client: PacsClient, study_uid: str, uids: Sequence[str]) -> None:
    """Ask the server (QIDO-RS) whether each stored instance is really in the study.

    A STOW-RS "success" is not proof: Orthanc 1.10, for one, lists an instance its own filter
    dropped among the stored ones.
    """
    for uid in uids:
        found = client.call(
            f"check that {uid} was stored",
            functools.partial(
                client.dicomweb.search_for_instances,
                study_instance_uid=study_uid,
                search_filters={"SOPInstanceUID": uid},
                fields=["SOPInstanceUID"],
            ),
        )
        if not any(str((item.get("00080018", {}).get("Value") or [""])[0]) == uid for item in found):
            raise PacsError(
                f"PACS answered that it stored {uid} but does not list it in study {study_uid}; "
                "the server dropped it (ask its administrator); nothing local was changed"
            )


def encapsulated_pdf(
    pdf: bytes, source: pydicom.Dataset, *, title: str = "needleplan report", series_number: int = 9901
) -> pydicom.Dataset:
    """An Encapsulated PDF instance in the source image's study (new series, new UIDs).

    Parameters
    ----------
    pdf : bytes
        The report file's bytes (must start with ``%PDF``).
    source : pydicom.Dataset
        The image the plan was made on; patient and study attributes are copied from it.
    """
    if not pdf.startswith(b"%PDF"):
        raise PacsError("the report is not a PDF file (it does not start with %PDF)")
    if not source.get("StudyInstanceUID"):
        raise PacsError("the source image has no Study Instance UID; cannot link the report to its study")
    now = _dt.datetime.now()
    ds = pydicom.Dataset()
    ds.SpecificCharacterSet = source.get("SpecificCharacterSet", "ISO_IR 100")
    for keyword in _STUDY_KEYWORDS:
        if keyword in source:
            setattr(ds, keyword, getattr(source, keyword))
    for keyword in (
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyDate",
        "StudyTime",
        "StudyID",
        "AccessionNumber",
        "ReferringPhysicianName",
    ):
        if keyword not in ds:
            setattr(ds, keyword, "")  # type 2: present, may be empty
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DOC"
    ds.SeriesNumber = series_number
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.Manufacturer = "needleplan"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    # A FileDataset with a preamble, so that STOW-RS sends a complete DICOM file (Part 10).
    return FileDataset("", ds, file_meta=meta, preamble=b"\0" * 128)


def store_plan(
    client: PacsClient, plan: Plan, source: pydicom.Dataset, *, report_pdf: bytes | None = None
) -> StoreResult:
    """Store ``plan`` as a Comprehensive SR (and ``report_pdf`` as Encapsulated PDF) in ``source``'s study.

    ``source`` is the image dataset the plan was made on (pixel data not needed); the SR is built
    by :func:`needleplan.sr.plan_to_sr`, which refuses an image other than the plan's.  Nothing
    local is written, whatever happens.
    """
    from needleplan.sr import plan_to_sr

    study_uid = str(source.get("StudyInstanceUID", ""))
    if not study_uid:
        raise PacsError("the plan's image has no Study Instance UID; it cannot be linked to a PACS study")
    datasets: list[pydicom.Dataset] = [plan_to_sr(plan, source)]
    if report_pdf is not None:
        datasets.append(encapsulated_pdf(report_pdf, source))
    return store_instances(client, datasets, study_uid=study_uid)
