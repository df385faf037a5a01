"""The physical phantom (``synth --model physical``): PyMUST PSFs, speckle statistics, the same
anatomy and ground truth as the smooth model, acoustics a physician recognises, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pymust")

from needleplan.errors import UnknownPresetError  # noqa: E402
from needleplan.synth import generate_case  # noqa: E402
from needleplan.synth.physical import PsfBank, complex_scatterers  # noqa: E402
from needleplan.synth.probe import CURVILINEAR, LINEAR, Probe  # noqa: E402
from needleplan.synth.psf import point_spread_function  # noqa: E402

# A small linear probe: 15 mm deep, 12 mm wide on 0.1 mm pixels (a 191 x 186 image).
SMALL = Probe(kind="linear", frequency_mhz=10.0, spacing_mm=0.1, depth_mm=15.0, footprint_mm=12.0)


def test_psf_is_centred_real_at_its_peak_and_of_unit_energy() -> None:
    k = point_spread_function(LINEAR, 15.0, 0.1, 0.1)
    # 10 MHz: wavelength 0.154 mm; 8 wavelengths = 1.23 mm -> 13 px each side axially,
    # 16 wavelengths = 2.46 mm -> 25 px each side laterally.
    assert k.shape == (27, 51)
    m, n = 13, 25
    assert np.unravel_index(int(np.argmax(np.abs(k))), k.shape) == (m, n)
    assert abs(k[m, n].imag) < 1e-6 * abs(k[m, n]) and k[m, n].real > 0
    assert float(np.sum(np.abs(k) ** 2)) == pytest.approx(1.0, rel=1e-4)
    # A focused 10 MHz line: the lateral half-maximum width is well under 1 mm, the axial under 0.5 mm.
    e = np.abs(k)
    assert 0.1 <= 0.1 * int(np.sum(e[m] >= e[m, n] / 2)) <= 1.0
    assert 0.1 <= 0.1 * int(np.sum(e[:, n] >= e[m, n] / 2)) <= 0.5


def test_psf_is_cached_and_the_cache_reloads_the_same_kernel(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEEDLEPLAN_CACHE_DIR", str(tmp_path))
    point_spread_function.cache_clear()
    first = np.array(point_spread_function(CURVILINEAR, 40.0, 0.25, 0.25))
    assert len(list(tmp_path.glob("psf-*.npy"))) == 1
    point_spread_function.cache_clear()
    again = point_spread_function(CURVILINEAR, 40.0, 0.25, 0.25)  # read from disk
    np.testing.assert_array_equal(first, again)
    assert not again.flags.writeable


def test_psf_deeper_under_the_convex_probe_is_wider() -> None:
    def lateral_fwhm(k: np.ndarray) -> int:
        e = np.abs(k[k.shape[0] // 2])
        return int(np.sum(e >= e.max() / 2))

    # Same 0.25 mm lateral sampling: a fixed f-number keeps the width ~ wavelength x f-number, while
    # the C5-2v at 3.5 MHz (wavelength 0.44 mm) is wider than the L11-5v-like probe at 10 MHz.
    convex = point_spread_function(CURVILINEAR, 50.0, 0.25, 0.25)
    linear = point_spread_function(LINEAR, 30.0, 0.25, 0.25)
    assert lateral_fwhm(convex) > lateral_fwhm(linear)


def test_speckle_envelope_snr_is_that_of_fully_developed_speckle() -> None:
    # Homogeneous tissue: unit-power complex scatterers imaged through the PSF bank.  The envelope
    # is Rayleigh distributed: mean / std = sqrt(pi / (4 - pi)) = 1.913 (before log compression).
    shape = (160, 300)
    bank = PsfBank.build(SMALL, shape, np.arange(shape[0]) * 0.1, lambda d: 0.1)
    rng = np.random.default_rng(3)
    env = np.abs(bank.image(complex_scatterers(shape, rng)))[20:-20, 30:-30]
    snr = float(env.mean() / env.std())
    assert snr == pytest.approx(math.sqrt(math.pi / (4 - math.pi)), abs=0.08)
    assert float(np.mean(env.astype(np.float64) ** 2)) == pytest.approx(1.0, abs=0.15)  # unit echo power


def test_an_anechoic_box_stays_dark_through_the_psf() -> None:
    # A 4 x 4 mm box 40 dB below the tissue around it: the side lobes must not fill it (> 25 dB).
    shape = (160, 160)
    bank = PsfBank.build(SMALL, shape, np.arange(shape[0]) * 0.1, lambda d: 0.1)
    amp = np.ones(shape, np.float32)
    amp[60:100, 60:100] = 0.01
    env = np.abs(bank.image(amp * complex_scatterers(shape, np.random.default_rng(5))))
    inside = float(env[70:90, 70:90].mean())
    outside = float(env[70:90, 120:150].mean())
    assert 20 * math.log10(outside / inside) > 25.0


@pytest.fixture(scope="module")
def rhomboid():
    probe = LINEAR.with_depth(30.0)
    smooth = generate_case("rhomboid_intercostal", "thin", seed=11, probe=probe)
    physical = generate_case("rhomboid_intercostal", "thin", seed=11, probe=probe, model="physical")
    return smooth, physical


def test_physical_model_has_the_same_anatomy_truth_and_plan(rhomboid) -> None:
    smooth, physical = rhomboid
    assert physical.model == "physical" and smooth.model == "smooth"
    assert physical.structures == smooth.structures
    assert physical.reference_structures == smooth.reference_structures
    assert physical.needle == smooth.needle
    assert physical.frames.shape == smooth.frames.shape
    assert not np.array_equal(physical.frames, smooth.frames)
    assert physical.plan_dict(truth=True)["synth"]["model"] == "physical"
    assert "model" not in smooth.plan_dict(truth=True)["synth"]  # default files unchanged


def test_physical_model_is_reproducible() -> None:
    probe = SMALL
    a = generate_case("upper_trapezius", "thin", seed=4, probe=probe, model="physical")
    b = generate_case("upper_trapezius", "thin", seed=4, probe=probe, model="physical")
    c = generate_case("upper_trapezius", "thin", seed=5, probe=probe, model="physical")
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def _px(case, row_mm: float, col_mm: float) -> tuple[int, int]:
    return (
        int(round(row_mm / case.spacing_mm[0] + case.origin_px[0])),
        int(round(col_mm / case.spacing_mm[1] + case.origin_px[1])),
    )


def test_rib_shadow_pleural_line_and_a_line(rhomboid) -> None:
    _, case = rhomboid
    frame = case.frames[0].astype(np.float64)
    ribs = [s for s in case.structures if s["kind"] == "rib"]
    pleura = next(s for s in case.structures if s["kind"] == "pleura")
    pl = np.asarray(pleura["points_mm"])
    rib = np.asarray(ribs[0]["points_mm"])
    # Under the rib (from 2 mm below its lowest point to the frame's bottom): an acoustic shadow.
    r_shadow, c_rib = _px(case, rib[:, 0].max() + 2.0, float(np.median(rib[:, 1])))
    shadow = frame[r_shadow : case.region_box_px[2], c_rib - 5 : c_rib + 6]
    # Between the ribs: the pleural line is the brightest row band of its column strip.
    gap_col_mm = float(np.mean([np.median(np.asarray(r["points_mm"])[:, 1]) for r in ribs[:2]]))
    depth_mm = float(np.interp(gap_col_mm, pl[:, 1], pl[:, 0]))
    r_pl, c_gap = _px(case, depth_mm, gap_col_mm)
    strip = frame[:, c_gap - 10 : c_gap + 11].mean(axis=1)
    line = strip[r_pl - 3 : r_pl + 4].max()
    above = strip[r_pl - 40 : r_pl - 10].mean()  # intercostal muscle 1-4 mm above
    assert shadow.mean() < 10.0 and above > 30.0
    assert line > 2.0 * above
    # The first A-line at twice the skin-to-pleura depth is brighter than the lung between.
    r_a, _ = _px(case, 2.0 * depth_mm, gap_col_mm)
    if r_a + 4 < case.region_box_px[2]:
        r_mid, _ = _px(case, 1.5 * depth_mm, gap_col_mm)
        assert strip[r_a - 3 : r_a + 4].max() > 1.5 * strip[r_mid - 5 : r_mid + 6].mean()


def test_cine_keeps_the_chest_wall_still_and_moves_the_lung() -> None:
    case = generate_case("upper_trapezius", "thin", frames=3, seed=2, probe=SMALL.with_depth(25.0), model="physical")
    pleura = np.asarray(next(s for s in case.structures if s["kind"] == "pleura")["points_mm"])
    r_pl, _ = _px(case, float(pleura[:, 0].min()), 0.0)
    top = slice(case.region_box_px[0] + 20, r_pl - 30)
    wall0, wall2 = case.frames[0][top].astype(int), case.frames[2][top].astype(int)
    lung0, lung2 = case.frames[0][r_pl + 40 :].astype(int), case.frames[2][r_pl + 40 :].astype(int)
    assert np.mean(np.abs(wall0 - wall2)) < 3.0  # only the electronic noise changes
    assert np.mean(np.abs(lung0 - lung2)) > 3 * np.mean(np.abs(wall0 - wall2))


def test_convex_probe_is_scan_converted_with_black_outside_the_fan() -> None:
    probe = Probe("curvilinear", 3.5, 0.5, 60.0, 50.0, radius_mm=50.0, fov_deg=60.0)
    case = generate_case("quadratus_lumborum", "thin", seed=1, probe=probe, model="physical")
    frame = case.frames[0]
    r0, c0, r1, c1 = case.region_box_px
    assert frame[r1, c0] == 0 and frame[r1, c1] == 0  # the box's lower corners lie outside the fan
    centre = frame[(r0 + r1) // 2, (c0 + c1) // 2 - 10 : (c0 + c1) // 2 + 10]
    assert centre.mean() > 10.0


def test_unknown_model_is_refused() -> None:
    with pytest.raises(UnknownPresetError, match="physical"):
        generate_case("piriformis", "thin", model="photoreal")


def test_cli_writes_a_physical_case(tmp_path) -> None:
    out = tmp_path / "case.dcm"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "needleplan",
            "synth",
            "--site",
            "upper_trapezius",
            "--habitus",
            "thin",
            "--model",
            "physical",
            "--seed",
            "3",
            "-o",
            str(out),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["model"] == "physical"
    truth = json.loads((tmp_path / "case.truth.json").read_text())
    assert truth["synth"]["model"] == "physical"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "needleplan",
            "synth",
            "--site",
            "upper_trapezius",
            "--model",
            "photoreal",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "photoreal" in bad.stderr


def test_lung_speckle_slides_under_a_curvilinear_probe_too() -> None:
    """Under a convex probe the lung's scatterers move along the arc with lung sliding; before they
    stood still, and the detector read this cine as "lung sliding absent" (a pneumothorax sign)."""
    from needleplan.detect import detect_cine
    from needleplan.detect.scoring import case_calibration
    from needleplan.synth import Motion

    case = generate_case(
        "upper_trapezius", "average", frames=8, seed=100, probe="curvilinear", model="physical", motion=Motion()
    )
    notes = detect_cine(case.frames, case_calibration(case)).notes
    assert any(n.startswith("lung sliding present") for n in notes), notes
