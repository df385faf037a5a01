"""Header de-identification: the PS3.15 Basic Application Level Confidentiality Profile.

Two well-kept libraries do the work, so that no one here types Table E.1-1 by hand:

* **dicognito** (MIT) replaces person names, IDs, UIDs, institution and address with *consistent
  pseudonyms* derived from a secret seed, and shifts every date and date-time by one offset per
  run (62-730 days back), so the intervals inside a study survive (the Retain Longitudinal
  Temporal Information with Modified Dates option, PS3.15 E.3.6).  The same input UID gives the
  same output UID in every file of a run, so a study stays a study.
* **dicom-anonymizer** (Kitware, BSD-3) ships Table E.1-1 itself as lists of tags per action
  (``dicomfields_2026c``).  After dicognito, every attribute the table names is removed (X),
  emptied (Z) or, where dicognito already put a pseudonym or a shifted date in its place, left
  with that dummy value (D, allowed wherever the table allows D or Z).  Private tags are removed.

The Sequence of Ultrasound Regions and the cine timing are not in the table and are kept as
they are; :func:`deidentify_header` checks that the region sequence came through unchanged.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pydicom
from dicognito.anonymizer import Anonymizer
from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from needleplan.errors import DeidentificationError

__all__ = ["HeaderProfile", "TABLE_VERSION", "table_action"]

#: The edition of PS3.15 Table E.1-1 used (as shipped by dicom-anonymizer).
TABLE_VERSION = "dicomfields_2026c"

_TABLE = dicom_anonymization_database_selector(TABLE_VERSION)
# Category -> action letter; "U*" sequences hold UIDs of other instances: remove (X).
_CATEGORY_ACTION = {
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X",
}
_EXACT: dict[int, str] = {}
_MASKED: list[tuple[int, int, int, int, str]] = []
for _category, _action in _CATEGORY_ACTION.items():
    for _entry in _TABLE[_category]:
        if len(_entry) == 2:
            _EXACT[(_entry[0] << 16) | _entry[1]] = _action
        else:
            _MASKED.append((*_entry, _action))

#: Elements kept whatever a table says: the calibration and the means to read the pixels.
_PROTECTED = frozenset(
    pydicom.datadict.tag_for_keyword(k)
    for k in (
        "SequenceOfUltrasoundRegions",
        "SOPClassUID",
        "TransferSyntaxUID",
        "MediaStorageSOPClassUID",
    )
)
_DATE_TIME_VRS = frozenset({"DA", "DT", "TM"})
#: Dates that identify the person rather than the visit: emptied or removed, never shifted.
_NEVER_SHIFTED = frozenset(pydicom.datadict.tag_for_keyword(k) for k in ("PatientBirthDate", "PatientBirthTime"))


def table_action(tag: int) -> str | None:
    """The action of PS3.15 Table E.1-1 for a (public) tag, or None if the table keeps it.

    Examples
    --------
    >>> table_action(0x00100010), table_action(0x00080080), table_action(0x00281050)
    ('Z', 'X/Z/D', None)
    >>> table_action(0x60023000)   # Overlay Data, a repeating group
    'X'
    """
    action = _EXACT.get(int(tag))
    if action is not None:
        return action
    group, element = int(tag) >> 16, int(tag) & 0xFFFF
    for g, e, g_mask, e_mask, act in _MASKED:
        if group & g_mask == g & g_mask and element & e_mask == e & e_mask:
            return act
    return None


class _Snapshot:
    """Every element's value before dicognito ran, to tell its pseudonyms from untouched values."""

    def __init__(self, ds: Dataset) -> None:
        self.before: dict[tuple[int, int], Any] = {}
        for dataset in (getattr(ds, "file_meta", None), ds):
            if dataset is not None:
                dataset.walk(self._remember)

    def _remember(self, dataset: Dataset, data_element: pydicom.DataElement) -> None:
        if data_element.VR != "SQ":
            self.before[(id(dataset), int(data_element.tag))] = _frozen(data_element.value)

    def replaced(self, dataset: Dataset, tag: BaseTag) -> bool:
        """True when dicognito put a new non-empty value (a pseudonym, a shifted date) there."""
        key = (id(dataset), int(tag))
        if key not in self.before or tag not in dataset:
            return False
        now = dataset[tag].value
        return bool(now) and _frozen(now) != self.before[key]


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return tuple(str(v) for v in value)
    return str(value) if value is not None else None


class HeaderProfile:
    """The header part of de-identification, one instance per run (one seed, one date shift).

    Parameters
    ----------
    secret : str
        Secret that seeds pseudonyms, the date shift and the UID mapping.  The same secret gives
        the same pseudonyms and UIDs in a later run (useful to add files of the same study);
        keep it out of the output folder.
    """

    def __init__(self, secret: str) -> None:
        self._seed = hashlib.sha256(("needleplan-deid-v1:" + secret).encode("utf-8")).hexdigest()

    def apply(self, ds: Dataset) -> None:
        """De-identify the header of ``ds`` in place (pixels untouched)."""
        regions_before = _regions_bytes(ds)
        snapshot = _Snapshot(ds)
        # Same seed -> same pseudonyms, UID mapping and date shift for every file of the run.
        Anonymizer(seed=self._seed).anonymize(ds)
        _apply_table(ds, snapshot)
        if hasattr(ds, "file_meta"):
            _apply_table(ds.file_meta, snapshot)
        # dicognito adds its own markers; the caller sets the de-identification attributes.
        for keyword in ("PatientIdentityRemoved", "DeidentificationMethod"):
            if keyword in ds:
                del ds[keyword]
        if _regions_bytes(ds) != regions_before:  # pragma: no cover - a guard, not a path
            raise DeidentificationError(
                "de-identification changed the Sequence of Ultrasound Regions; "
                "nothing was written; report this file as a needleplan bug"
            )


def _apply_table(ds: Dataset, snapshot: _Snapshot) -> None:
    for elem in list(ds):
        tag = elem.tag
        if int(tag) in _PROTECTED:
            continue
        if tag.is_private:
            del ds[tag]
            continue
        action = table_action(tag)
        if action is not None and not _keep_dummy(ds, elem, action, snapshot):
            if action.startswith("X") or elem.VR == "SQ":
                del ds[tag]
                continue
            elem.value = None  # Z: empty
        if tag in ds and elem.VR == "SQ":
            for item in elem.value:
                _apply_table(item, snapshot)


def _keep_dummy(ds: Dataset, elem: pydicom.DataElement, action: str, snapshot: _Snapshot) -> bool:
    """Whether the pseudonym / shifted value dicognito wrote may stay under this action."""
    if action == "U":
        return elem.VR == "UI"  # remapped consistently by dicognito
    if not snapshot.replaced(ds, elem.tag):
        return False
    if elem.VR in _DATE_TIME_VRS:
        # Retain Longitudinal Temporal Information, Modified Dates option (PS3.15 E.3.6)
        return int(elem.tag) not in _NEVER_SHIFTED
    return "D" in action or action == "Z"  # a dummy value is allowed; X and X/Z remove


def _regions_bytes(ds: Dataset) -> bytes:
    seq = ds.get("SequenceOfUltrasoundRegions")
    if not seq:
        return b""
    return repr([sorted((str(e.tag), str(e.value)) for e in item) for item in seq]).encode()
