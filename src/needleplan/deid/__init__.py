"""De-identification of ultrasound DICOM for teaching cases (PS3.15 Annex E).

:class:`Deidentifier` applies the Basic Application Level Confidentiality Profile to the header
(:mod:`needleplan.deid.header`) and the Clean Pixel Data option to the frames
(:mod:`needleplan.deid.pixels`): everything outside the calibrated ultrasound regions is blanked,
the region sequence itself is kept, so the de-identified image measures exactly as the original.
"""

from needleplan.deid.run import Deidentifier, DeidResult, deidentify_path, read_secret

__all__ = ["DeidResult", "Deidentifier", "deidentify_path", "read_secret"]
