"""UNCALIBRATED lists the millimetre checks the rules could not run, each by its finding code.

The list is read by people (the message) and by programs (``values["skipped"]``): every entry must
be a member of FindingCode (docs/finding-codes.md), never free text.
"""

from __future__ import annotations

from needleplan.plan import plan_from_dict
from needleplan.safety import check_plan
from needleplan.safety.codes import FindingCode
from tests.scenarios.plans import UNCAL, box, plan

TARGET = box("target", 13, -2, 16, 2)


def test_uncalibrated_skips_are_finding_codes_including_thin_patient():
    # Rhomboid is a pneumothorax-class site: THIN_PATIENT compares the measured skin-to-pleura depth with
    # its threshold, which needs millimetres, so without a calibration it is listed as skipped.
    p = plan("rhomboid", structures=[TARGET], entry=(0.0, -20.0), tip=(15.0, 0.0), cal=UNCAL)
    skipped = check_plan(plan_from_dict(p)).by_code("UNCALIBRATED")[0].values["skipped"]
    assert "THIN_PATIENT" in skipped
    assert set(skipped) <= {code.value for code in FindingCode}


def test_calibration_free_site_does_not_list_thin_patient():
    # Gluteus medius is not a pneumothorax site: the thin-patient rule does not apply, so it is not skipped.
    p = plan("gluteus_medius", structures=[TARGET], entry=(0.0, -20.0), tip=(15.0, 0.0), cal=UNCAL)
    skipped = check_plan(plan_from_dict(p)).by_code("UNCALIBRATED")[0].values["skipped"]
    assert "THIN_PATIENT" not in skipped
