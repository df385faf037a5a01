"""Deep-site suggestions (needleplan.detect.deep): the kidney near quadratus lumborum, the sciatic
nerve under piriformis, and nothing of the kind on other sites.  Development seeds only (0-2)."""

from __future__ import annotations

import numpy as np
import pytest

from needleplan.detect import detect_frame, to_structures
from needleplan.detect.scoring import case_calibration
from needleplan.synth import generate_case


def _deep(case):
    """(calibration, deep pixel detections, deep plan structures in mm)."""
    cal = case_calibration(case)
    res = detect_frame(case.frames[0], cal, site=case.site)
    structures = [s for s in to_structures(res, cal) if s.kind in ("nerve", "viscera")]
    return [d for d in res.detections if d.kind in ("nerve", "viscera")], structures


@pytest.mark.parametrize("habitus", ["thin", "obese"])
def test_kidney_is_suggested_where_the_phantom_drew_it(habitus) -> None:
    case = generate_case("quadratus_lumborum", habitus, seed=1)
    truth = next(s for s in case.structures if s["kind"] == "viscera")
    t = np.asarray(truth["points_mm"])
    deep, (s,) = _deep(case)
    assert [d.kind for d in deep] == ["viscera"]
    assert s.suggested and s.label == "kidney (lower pole)"
    p = np.asarray(s.points_mm)
    # the truth's centre (thin: 65.5 mm deep, 25 mm lateral; 52 mm wide): within 2 mm, width within 15 %
    assert np.hypot(*(p.mean(0) - t.mean(0))) < 2.0
    assert np.ptp(p[:, 1]) == pytest.approx(np.ptp(t[:, 1]), rel=0.15)
    assert "capsule" in deep[0].evidence


def test_sciatic_nerve_is_suggested_under_piriformis() -> None:
    case = generate_case("piriformis", "thin", seed=2)
    truth = np.asarray(next(s for s in case.structures if s["kind"] == "nerve")["points_mm"])
    deep, (s,) = _deep(case)
    assert [d.kind for d in deep] == ["nerve"]
    assert s.label == "sciatic nerve" and s.suggested
    assert np.hypot(*(np.asarray(s.points_mm).mean(0) - truth.mean(0))) < 2.0  # centre 68 mm deep


@pytest.mark.parametrize("site", ["gluteus_medius", "rhomboid_intercostal"])
def test_no_nerve_or_kidney_is_invented_on_other_sites(site) -> None:
    case = generate_case(site, "average", seed=0)
    assert _deep(case)[0] == []


# The physical phantom (PyMUST PSFs): development seeds only.  The PSF blurs the nerve's fascicles
# away and the nerve lies 1.7 mm under the piriformis fascia; before the matched oval the detector
# found it on none of the development frames (0/9).
def _physical(site: str, habitus: str, seed: int):
    pytest.importorskip("pymust")
    return generate_case(site, habitus, seed=seed, model="physical")


@pytest.mark.parametrize(("habitus", "seed"), [("average", 0), ("obese", 1), ("thin", 2)])
def test_sciatic_nerve_is_found_on_the_physical_phantom(habitus, seed) -> None:
    case = _physical("piriformis", habitus, seed)
    truth = np.asarray(next(s for s in case.structures if s["kind"] == "nerve")["points_mm"])
    deep, structures = _deep(case)
    assert [d.kind for d in deep] == ["nerve"]
    (s,) = structures
    # the truth's centre (63-71 + 8.5 + 4.5 mm deep, 14 mm medial): within 2 mm (the evaluation
    # allows 3 mm); measured 0.2-1.8 mm on the development seeds
    assert np.hypot(*(np.asarray(s.points_mm).mean(0) - truth.mean(0))) < 2.0
    assert "hyperechoic oval" in deep[0].evidence


def test_no_nerve_is_invented_on_physical_gluteus_medius_or_quadratus_lumborum() -> None:
    assert _deep(_physical("gluteus_medius", "obese", 0))[0] == []
    # quadratus lumborum: the kidney, and no nerve
    assert [d.kind for d in _deep(_physical("quadratus_lumborum", "average", 1))[0]] == ["viscera"]
