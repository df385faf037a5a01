"""Codes used in needleplan's DICOM SR, and the pixel <-> SCOORD conversion.

Standard codes where DICOM has one (SNOMED CT via ``codes.SCT``, DICOM ``codes.DCM``); a private
scheme ``99NEEDLEPLAN`` (docs/ultrasound-calibration.md §7.1: private designators start with ``99``)
for what has no standard code.

SCOORD coordinates are ``(column, row)`` with ``(0, 0)`` at the top-left *corner* of the top-left
pixel, so the centre of pixel ``[r, c]`` is ``(c + 0.5, r + 0.5)`` (docs/ultrasound-calibration.md §7.1).

>>> px_to_scoord([[10.0, 20.0]]).tolist()
[[20.5, 10.5]]
>>> scoord_to_px([[20.5, 10.5]]).tolist()
[[10.0, 20.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from highdicom.sr import CodedConcept
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

__all__ = [
    "SCHEME",
    "scheme_identification",
    "KIND_CODES",
    "kind_from_code",
    "private",
    "px_to_scoord",
    "scoord_to_px",
    "MAX_SAFE_INSERTION",
    "NEEDLE_GAUGE",
    "PLAN_FIELDS",
    "PROCEDURE",
    "TITLE",
    "QUALITATIVE_EVALUATIONS",
    "NEEDLE_FINDING",
    "NEEDLE_TRACKING_PREFIX",
    "STRUCTURE_TRACKING_PREFIX",
]

SCHEME = "99NEEDLEPLAN"
SCHEME_NAME = "needleplan private codes"
SCHEME_ORGANIZATION = "needleplan project"


def scheme_identification() -> Dataset:
    """The Coding Scheme Identification Sequence item that declares :data:`SCHEME`.

    A private designator used in a DICOM object must be declared in the object (PS3.3 C.12.1.1.2,
    Coding Scheme Identification Sequence) so that a reader, and ``dciodvfy``, knows it is a
    private scheme on purpose rather than a typo of a standard one.

    >>> item = scheme_identification()
    >>> item.CodingSchemeDesignator, item.CodingSchemeName
    ('99NEEDLEPLAN', 'needleplan private codes')
    """
    item = Dataset()
    item.CodingSchemeDesignator = SCHEME
    item.CodingSchemeName = SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = SCHEME_ORGANIZATION
    return item


def private(value: str, meaning: str) -> CodedConcept:
    """A code of needleplan's private scheme."""
    return CodedConcept(value=value, scheme_designator=SCHEME, meaning=meaning)


TITLE = codes.DCM.ImagingMeasurementReport
PROCEDURE = private("USINJPLAN", "Ultrasound-guided injection plan")
MAX_SAFE_INSERTION = private("MAXSAFEINS", "Deepest safe insertion along the path")
NEEDLE_GAUGE = private("GAUGE", "Needle gauge")
PLAN_FIELDS = private("PLANFIELDS", "needleplan plan fields (JSON)")
NEEDLE_FINDING = codes.SCT.Needle
QUALITATIVE_EVALUATIONS = CodedConcept(value="C0034375", scheme_designator="UMLS", meaning="Qualitative Evaluations")
NEEDLE_TRACKING_PREFIX = "needleplan needle"
STRUCTURE_TRACKING_PREFIX = "needleplan structure"

#: plan structure kind -> finding type code
KIND_CODES: dict[str, Any] = {
    "target": codes.DCM.Target,
    "pleura": codes.SCT.Pleura,
    "rib": codes.SCT.Rib,
    "bone": codes.SCT.Bone,
    "vessel": codes.SCT.BloodVessel,
    "artery": codes.SCT.Artery,
    "vein": codes.SCT.Vein,
    "nerve": codes.SCT.Nerve,
    "skin": codes.SCT.Skin,
    "fascia": private("FASCIA", "Fascia"),
    "viscera": private("VISCERA", "Viscera"),
    "neuraxis": private("NEURAXIS", "Neuraxis (ligamentum flavum, epidural space, dura)"),
    "other": private("OTHER", "Other marked structure"),
}


def kind_from_code(code: Any) -> str | None:
    """The plan kind of a finding type code (None if it is not one of :data:`KIND_CODES`)."""
    if code is None:
        return None
    for kind, known in KIND_CODES.items():
        if code.value == known.value and code.scheme_designator == known.scheme_designator:
            return kind
    return None


def px_to_scoord(index_px: Any) -> np.ndarray:
    """Image indices ``(row, col)`` (pixel centres) to SCOORD ``(column, row)``."""
    pts = np.asarray(index_px, dtype=float).reshape(-1, 2)
    return np.column_stack([pts[:, 1] + 0.5, pts[:, 0] + 0.5])


def scoord_to_px(scoord: Any) -> np.ndarray:
    """SCOORD ``(column, row)`` to image indices ``(row, col)``."""
    pts = np.asarray(scoord, dtype=float).reshape(-1, 2)
    return np.column_stack([pts[:, 1] - 0.5, pts[:, 0] - 0.5])
