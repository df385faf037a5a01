"""The one error hierarchy of needleplan.

Every error the package raises on bad input is a :class:`NeedleplanError`, so the command line can
print one line and exit non-zero.  Safety results are *values* (findings), never exceptions.

Subclasses also derive from the closest built-in (``ValueError``, ``OSError``) so callers that
already catch those keep working, following pint's pattern.
"""

from __future__ import annotations

__all__ = [
    "NeedleplanError",
    "DicomReadError",
    "UnsupportedCodecError",
    "ImageReadError",
    "CalibrationError",
    "PlanFormatError",
    "ImageBindingError",
    "LibraryError",
    "RevisionConflictError",
    "ReadOnlyPlanError",
    "PacsError",
    "DeidentificationError",
    "UnknownPresetError",
    "NotUltrasoundError",
]


class NeedleplanError(Exception):
    """Base class of every needleplan error.  The message is one line a user can act on."""


class ImageReadError(ValueError, NeedleplanError):
    """An image file could not be read (not an image, truncated, no pixel data)."""


class DicomReadError(ImageReadError):
    """A DICOM file could not be read or holds no usable pixel data."""


class UnsupportedCodecError(DicomReadError):
    """The transfer syntax is valid but no installed decoder handles it.

    The message names the transfer syntax and the package that would add a decoder.
    """


class CalibrationError(ValueError, NeedleplanError):
    """A length was asked for where there is no valid length calibration."""


class PlanFormatError(ValueError, NeedleplanError):
    """A plan file is malformed; the message names the field and what was expected."""


class ImageBindingError(ValueError, NeedleplanError):
    """A plan was opened with an image (or frame) other than the one it was made on."""


class LibraryError(NeedleplanError):
    """The plan library could not complete an operation (read-only disk, corrupt index...)."""


class RevisionConflictError(LibraryError):
    """Someone else saved a newer revision of this plan first; nothing was overwritten."""


class ReadOnlyPlanError(LibraryError):
    """An approved plan cannot be changed in place; save a new draft revision instead."""


class PacsError(NeedleplanError):
    """A DICOMweb (PACS) request failed; the message says which and why."""


class DeidentificationError(ValueError, NeedleplanError):
    """An image could not be de-identified safely (e.g. burned-in text with no region to keep)."""


class UnknownPresetError(ValueError, NeedleplanError):
    """A site, habitus, probe or compression name the phantom does not know."""


class NotUltrasoundError(ValueError, NeedleplanError):
    """The detectors were asked to run on a DICOM image whose modality is not ultrasound (US)."""
