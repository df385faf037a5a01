"""The phantom's files: valid US DICOM (single frame and cine, uncompressed and JPEG Baseline),
calibration read back by needleplan.io and `needleplan info`, plan files that load and bind,
bit-for-bit reproducibility, and the bundled samples."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest

from needleplan.cli import main
from needleplan.io import open_image, read_info
from needleplan.plan import load_plan, verify_binding
from needleplan.synth import generate_case, write_case

SAMPLES = Path(__file__).resolve().parents[1] / "sample_dicom"
US_IMAGE, US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.3.1"


@pytest.fixture(scope="module")
def frame_case():
    return generate_case("upper_trapezius", "thin", seed=1)


@pytest.fixture(scope="module")
def cine_case():
    return generate_case("rhomboid_intercostal", "thin", frames=4, seed=2)


def test_single_frame_uncompressed(frame_case, tmp_path: Path) -> None:
    w = write_case(frame_case, tmp_path / "ut.dcm")
    ds = pydicom.dcmread(w.dicom_path)
    assert ds.SOPClassUID == US_IMAGE and ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert ds.Modality == "US" and ds.PhotometricInterpretation == "MONOCHROME2" and ds.BitsStored == 8
    assert str(ds.PatientName) == "PHANTOM^UPPER_TRAPEZIUS" and ds.LossyImageCompression == "00"
    assert "NumberOfFrames" not in ds and "FrameTime" not in ds
    assert np.array_equal(ds.pixel_array, frame_case.frames[0])
    region = ds.SequenceOfUltrasoundRegions[0]
    assert (region.RegionSpatialFormat, region.RegionDataType) == (1, 1)
    assert (region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection) == (3, 3)
    # 0.1 mm/px = 0.01 cm/px on both axes
    assert region.PhysicalDeltaX == pytest.approx(0.01) and region.PhysicalDeltaY == pytest.approx(0.01)
    # reference pixel = origin - box min: the skin line at the centre of the 50 mm face
    assert (
        region.RegionLocationMinY0 + region.ReferencePixelY0,
        region.RegionLocationMinX0 + region.ReferencePixelX0,
    ) == (20, 274)
    assert w.frame_sha256[0] == hashlib.sha256(frame_case.frames[0].tobytes()).hexdigest()


def test_cine_jpeg(cine_case, tmp_path: Path) -> None:
    w = write_case(cine_case, tmp_path / "cine.dcm", compression="jpeg")
    ds = pydicom.dcmread(w.dicom_path)
    assert ds.SOPClassUID == US_MULTIFRAME and ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert ds.NumberOfFrames == 4 and float(ds.FrameTime) == 50.0 and ds.CineRate == 20
    assert ds.FrameIncrementPointer == pydicom.tag.Tag(0x0018, 0x1063)
    assert ds.LossyImageCompression == "01" and ds.LossyImageCompressionMethod == "ISO_10918_1"
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    arr = ds.pixel_array
    assert arr.shape == cine_case.frames.shape
    # lossy, but close: quality 90
    assert np.abs(arr.astype(int) - cine_case.frames.astype(int)).mean() < 3.0
    # the hash is of the stored (encapsulated) bytes, frame by frame, all different
    assert len(set(w.frame_sha256)) == 4


@pytest.mark.parametrize("compression", ["none", "jpeg"])
def test_io_reads_the_calibration_and_hashes_agree(cine_case, tmp_path: Path, compression: str) -> None:
    w = write_case(cine_case, tmp_path / f"c_{compression}.dcm", compression=compression)
    image = open_image(w.dicom_path)
    cal = image.info.calibration
    assert cal.source == "US_REGION" and cal.region_index == 0
    assert cal.spacing_mm == pytest.approx(cine_case.spacing_mm)
    assert cal.origin_px == pytest.approx(cine_case.origin_px)
    assert image.info.frame_time_ms == pytest.approx(50.0)
    assert [image.frame_sha256(i) for i in range(4)] == list(w.frame_sha256)
    truth = json.loads(w.truth_path.read_text())
    assert truth["image"]["pixel_sha256"] == image.frame_sha256(0)


def test_plans_load_and_bind(cine_case, tmp_path: Path) -> None:
    w = write_case(cine_case, tmp_path / "case.dcm", compression="jpeg")
    assert w.truth_path.name == "case.truth.json" and w.plan_path.name == "case.plan.json"
    image = open_image(w.dicom_path)
    for path in (w.truth_path, w.plan_path):
        plan = load_plan(path)
        verify_binding(plan, image)
        assert plan.site == "rhomboid" and plan.calibration.source == "US_REGION"
        assert plan.calibration.spacing_mm == pytest.approx((0.1, 0.1))
        assert plan.image.path == "case.dcm" and plan.image.frame_index == 0
        assert plan.injectate[0].drug == "lidocaine" and plan.injectate[0].volume_ml == 2.0
        assert plan.patient.bmi == 17.5 and plan.needle is not None
    truth = load_plan(w.truth_path)
    assert {s.kind for s in truth.structures} >= {"skin", "pleura", "rib", "artery", "nerve", "target", "fascia"}


def test_info_reports_the_spacing_written(frame_case, tmp_path: Path, capsys) -> None:
    w = write_case(frame_case, tmp_path / "ut.dcm")
    assert main(["info", str(w.dicom_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calibration"]["spacing_mm"] == pytest.approx([0.1, 0.1])
    assert out["calibration"]["origin_px"] == pytest.approx([20.0, 274.0])


def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path: Path) -> None:
    paths = []
    for i, seed in enumerate((5, 5, 6)):
        case = generate_case("piriformis", "thin", frames=2, seed=seed)
        paths.append(write_case(case, tmp_path / f"p{i}.dcm", compression="jpeg"))
    a, b, c = (p.dicom_path.read_bytes() for p in paths)
    assert a == b and a != c
    # the plans differ only in the file name they bind
    ta, tb = (p.truth_path.read_text().replace(p.dicom_path.name, "X") for p in paths[:2])
    assert ta == tb


def test_synth_command_writes_three_files(tmp_path: Path, capsys) -> None:
    out = tmp_path / "case.dcm"
    rc = main(
        [
            "synth",
            "--site",
            "upper_trapezius",
            "--habitus",
            "thin",
            "--frames",
            "3",
            "--seed",
            "1",
            "-o",
            str(out),
            "--compression",
            "jpeg",
            "--json",
        ]
    )
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["frames"] == 3 and summary["spacing_mm"] == [0.1, 0.1]
    for name in ("case.dcm", "case.truth.json", "case.plan.json"):
        assert (tmp_path / name).is_file()
    assert read_info(out).frames == 3


def test_synth_command_bad_input(tmp_path: Path, capsys) -> None:
    assert main(["synth", "--site", "upper_trapezius", "--frames", "0", "-o", str(tmp_path / "x.dcm")]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["synth", "--site", "upper_trapezius", "-o", str(tmp_path / "no" / "x.dcm")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bundled_samples_are_small_complete_and_current(tmp_path: Path) -> None:
    dicoms = sorted(SAMPLES.glob("*.dcm"))
    names = {p.stem for p in dicoms}
    assert {"upper_trapezius_thin_frame", "rhomboid_intercostal_thin_cine", "piriformis_average_frame"} <= names
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 20e6
    for p in dicoms:
        truth, plan = p.with_suffix(".truth.json"), p.with_suffix(".plan.json")
        image = open_image(p)
        for path in (truth, plan):
            verify_binding(load_plan(path), image)
        # `needleplan info` reports the spacing and origin the generator wrote
        written = json.loads(truth.read_text())["calibration"]
        info = read_info(p).calibration
        assert info.source == "US_REGION" and info.spacing_mm == pytest.approx(written["spacing_mm"])
        assert info.origin_px == pytest.approx(written["origin_px"])
    # regenerate the thin upper trapezius frame from the package's sample table: bit for bit the same
    from needleplan.samples import SAMPLES as TABLE
    from needleplan.samples import write_sample

    plan = write_sample(TABLE[0], tmp_path)
    stem = TABLE[0].stem
    for new in (tmp_path / f"{stem}.dcm", tmp_path / f"{stem}.truth.json", plan):
        assert new.read_bytes() == (SAMPLES / new.name).read_bytes(), new.name
