"""De-identification on the real ultrasound files: headers, pixels, calibration, UID consistency."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import given
from hypothesis import strategies as st

from needleplan.calibration import UltrasoundRegion, calibration_from_dataset, regions_from_dataset
from needleplan.cli import main
from needleplan.deid import Deidentifier, deidentify_path
from needleplan.deid.header import table_action
from needleplan.deid.pixels import keep_mask
from needleplan.errors import DeidentificationError, DicomReadError, UnsupportedCodecError

DATA = Path(__file__).parent / "data" / "real_dicom"
CLEANABLE = [
    "GREYSCALE_IMAGE",
    "RGB_IMAGE",
    "OBXXXX1A_rle",
    "US-YBR_FULL_422-EVRLE",
    "JPGLosslessP14SV1_1s_1f_8b",
    "no-pixel-spacing",
]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _read(path: Path) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _identifiers(ds: pydicom.Dataset) -> set[str]:
    """Every identifying value of the original: names, IDs, institution, station, UIDs, dates."""
    out: set[str] = set()
    for el in ds.iterall():
        kw, value = el.keyword, el.value
        if not value:
            continue
        if el.VR == "UI" and not kw.endswith("ClassUID") and kw != "TransferSyntaxUID":
            out.update(str(v) for v in (value if isinstance(value, list) else [value]))
        elif el.VR == "PN":
            out.add(str(value).rstrip("^"))
        elif el.VR == "DA":
            out.add(str(value))
        elif el.VR == "DT":
            out.add(str(value)[:8])
        elif kw in (
            "PatientID",
            "OtherPatientIDs",
            "AccessionNumber",
            "InstitutionName",
            "StationName",
            "IssuerOfPatientID",
            "DeviceSerialNumber",
            "RequestingPhysician",
            "AdditionalPatientHistory",
            "CurrentPatientLocation",
            "StudyID",
        ):
            if len(str(value)) >= 3:
                out.add(str(value))
    # Strings under 4 characters ("OB", "AC") occur by chance in any file (VR codes, pixels).
    return {s for s in out if len(s) >= 4}


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory) -> dict[str, Path]:
    out_dir = tmp_path_factory.mktemp("deid")
    d = Deidentifier("test-secret")
    return {name: Path(d.deidentify_file(DATA / f"{name}.dcm", out_dir / f"{name}.dcm").output) for name in CLEANABLE}


@pytest.mark.parametrize("name", CLEANABLE)
def test_no_original_identifier_left_in_the_bytes(cleaned, name):
    original = _read(DATA / f"{name}.dcm")
    needles = _identifiers(original)
    assert needles, "the test must look for something"
    data = cleaned[name].read_bytes()
    left = sorted(s for s in needles if s.encode() in data)
    assert left == []


def test_greyscale_known_phi_is_gone(cleaned):
    # Values read by eye from GREYSCALE_IMAGE.dcm (a test patient with burned-in annotation).
    data = cleaned["GREYSCALE_IMAGE"].read_bytes()
    for phi in (
        b"ZZZ TEST PATIENTFIVE",
        b"2020202020202",
        b"19510829",
        b"CLEVELAND",
        b"104111149",
        b"KILLEEN",
        b"20170302",
        b"MCTOUUS01",
        b"MITRA",
        b"392075967",
        b"1.2.840.113696.376376.500.37977461.20170302142445",
    ):
        assert phi not in data


@pytest.mark.parametrize("name", CLEANABLE)
def test_deidentification_attributes(cleaned, name):
    ds = _read(cleaned[name])
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.BurnedInAnnotation == "NO"
    assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
    codes = [(i.CodeValue, i.CodingSchemeDesignator) for i in ds.DeidentificationMethodCodeSequence]
    assert codes == [("113100", "DCM"), ("113101", "DCM"), ("113107", "DCM")]
    assert ds.DeidentificationMethod
    assert not any(el.tag.is_private for el in ds.iterall())
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert "SourceApplicationEntityTitle" not in ds.file_meta


@pytest.mark.parametrize("name", CLEANABLE)
def test_every_profile_attribute_is_removed_emptied_or_replaced(cleaned, name):
    original, out = _read(DATA / f"{name}.dcm"), _read(cleaned[name])
    for el in original:
        action = table_action(el.tag)
        if action is None or el.tag not in out or not el.value:
            continue
        new = out[el.tag].value
        assert not new or str(new) != str(el.value), f"{el.keyword} ({action}) kept its value"
        if action == "X" and el.VR not in ("DA", "DT", "TM"):
            # dates and times stay, shifted: Retain Longitudinal Temporal Information (E.3.6)
            pytest.fail(f"{el.keyword} has action X but is still present")


@pytest.mark.parametrize("name", CLEANABLE)
def test_calibration_is_unchanged(cleaned, name):
    original, out = _read(DATA / f"{name}.dcm"), _read(cleaned[name])
    assert regions_from_dataset(out) == regions_from_dataset(original)
    assert calibration_from_dataset(out) == calibration_from_dataset(original)
    assert out.SequenceOfUltrasoundRegions == original.SequenceOfUltrasoundRegions


@pytest.mark.parametrize("name", CLEANABLE)
def test_pixels_inside_kept_outside_black(cleaned, name):
    original, out = _read(DATA / f"{name}.dcm"), _read(cleaned[name])
    before, after = original.pixel_array, out.pixel_array  # YBR is decoded to RGB by pydicom
    assert after.shape == before.shape
    keep = keep_mask(regions_from_dataset(original), int(original.Rows), int(original.Columns))
    assert keep.any() and not keep.all()
    np.testing.assert_array_equal(after[keep], before[keep])
    if out.PhotometricInterpretation == "PALETTE COLOR":
        lut = pydicom.pixels.apply_color_lut(after, out)
        assert lut[~keep].max() == 0  # the darkest palette entry of these files is black
        assert out.RedPaletteColorLookupTableData == original.RedPaletteColorLookupTableData
        assert out.GreenPaletteColorLookupTableData == original.GreenPaletteColorLookupTableData
    else:
        assert after[~keep].max() == 0
    # something was actually burned in outside the image area in these files
    assert before[~keep].max() > 0


def test_cine_keeps_frames_timing_and_calibration(tmp_path):
    from needleplan.synth import generate_case, write_case

    # a 3-frame JPEG Baseline cine from the phantom (US Multi-frame, FrameTime 50 ms)
    written = write_case(generate_case("rhomboid_rib", "average", frames=3), tmp_path / "cine.dcm", compression="jpeg")
    r = Deidentifier("s").deidentify_file(written.dicom_path, tmp_path / "out.dcm")
    original, out = _read(written.dicom_path), _read(Path(r.output))
    assert out.NumberOfFrames == 3 and out.pixel_array.shape == original.pixel_array.shape
    assert out.FrameTime == original.FrameTime and out.FrameIncrementPointer == original.FrameIncrementPointer
    assert out.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert regions_from_dataset(out) == regions_from_dataset(original)
    keep = keep_mask(regions_from_dataset(original), int(original.Rows), int(original.Columns))
    # inside: the decoded JPEG frames, stored without another lossy generation
    assert (out.pixel_array[:, keep] == original.pixel_array[:, keep]).all()
    assert out.pixel_array[:, ~keep].max() == 0
    assert out.LossyImageCompression == "01"  # the history of lossy compression is kept


def test_ybr_is_stored_as_rgb(cleaned):
    out = _read(cleaned["US-YBR_FULL_422-EVRLE"])
    assert out.PhotometricInterpretation == "RGB" and out.SamplesPerPixel == 3


def test_study_uids_consistent_across_files_and_runs(tmp_path):
    src = tmp_path / "study"
    src.mkdir()
    base = _read(DATA / "GREYSCALE_IMAGE.dcm")
    for i in (1, 2):
        ds = _read(DATA / "GREYSCALE_IMAGE.dcm")
        ds.SOPInstanceUID = f"{base.SOPInstanceUID}.{i}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(src / f"ZZZ_TEST_PATIENTFIVE_{i}.dcm")
    (src / "notes.txt").write_text("not dicom")
    results, skipped, failed = deidentify_path(src, tmp_path / "out", Deidentifier("s1"))
    assert failed == []
    assert skipped == [str(src / "notes.txt")]
    outs = [_read(Path(r.output)) for r in results]
    assert all("PATIENTFIVE" not in Path(r.output).name for r in results)
    a, b = outs
    assert a.StudyInstanceUID == b.StudyInstanceUID != base.StudyInstanceUID
    assert a.SeriesInstanceUID == b.SeriesInstanceUID != base.SeriesInstanceUID
    assert a.SOPInstanceUID != b.SOPInstanceUID
    assert a.PatientName == b.PatientName and a.PatientID == b.PatientID
    # the same secret maps the same way in a later run; another secret does not
    again = deidentify_path(src, tmp_path / "again", Deidentifier("s1"))[0]
    other = deidentify_path(src, tmp_path / "other", Deidentifier("s2"))[0]
    assert _read(Path(again[0].output)).StudyInstanceUID == a.StudyInstanceUID
    assert _read(Path(other[0].output)).StudyInstanceUID != a.StudyInstanceUID


def test_dates_shifted_by_one_offset(cleaned):
    from datetime import date

    def d(s):
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))

    original, out = _read(DATA / "GREYSCALE_IMAGE.dcm"), _read(cleaned["GREYSCALE_IMAGE"])
    shift = d(out.StudyDate) - d(original.StudyDate)
    assert 62 <= -shift.days <= 731  # dicognito shifts 62-730 days back (in hours, so +1 day)
    assert d(out.SeriesDate) - d(original.SeriesDate) == shift
    # the birth date identifies the person, not the visit: emptied (Z), not shifted
    assert not out.get("PatientBirthDate")


def test_uncleanable_image_is_refused(tmp_path):
    # US1_J2KR: no region, BurnedInAnnotation absent -> cannot be called clean.
    with pytest.raises(DeidentificationError, match="BurnedInAnnotation is absent"):
        Deidentifier("s").deidentify_file(DATA / "US1_J2KR.dcm", tmp_path / "x.dcm")
    assert not (tmp_path / "x.dcm").exists()
    # examples_ybr_color: its region box lies outside the (downscaled) image; no guessing.
    with pytest.raises(DeidentificationError):
        Deidentifier("s").deidentify_file(DATA / "examples_ybr_color.dcm", tmp_path / "y.dcm")


def test_uncleanable_image_with_flag_is_marked_not_clean(tmp_path):
    r = Deidentifier("s", allow_burned_in=True).deidentify_file(DATA / "US1_J2KR.dcm", tmp_path / "x.dcm")
    ds = _read(tmp_path / "x.dcm")
    assert not r.clean and "NOT CLEAN" in r.note
    assert ds.PatientIdentityRemoved == "NO" and ds.BurnedInAnnotation == "YES"
    assert "113101" not in r.methods
    assert b"CompressedSamples" not in (tmp_path / "x.dcm").read_bytes()
    assert ds.PhotometricInterpretation == "RGB"  # YBR_RCT decoded, stored uncompressed


def test_declared_clean_image_without_regions_keeps_its_pixels(tmp_path):
    ds = _read(DATA / "US1_J2KR.dcm")
    ds.BurnedInAnnotation = "NO"  # the modality says nothing is burned in
    ds.save_as(tmp_path / "in.dcm")
    r = Deidentifier("s").deidentify_file(tmp_path / "in.dcm", tmp_path / "out.dcm")
    out = _read(tmp_path / "out.dcm")
    assert r.clean and not r.pixels_cleaned and r.methods == ("113100", "113107")
    assert out.PatientIdentityRemoved == "YES" and out.BurnedInAnnotation == "NO"
    assert (out.pixel_array == ds.pixel_array).all()  # J2K lossless decoded, stored as is


def test_bad_input_raises_typed_errors(tmp_path):
    with pytest.raises(UnsupportedCodecError):
        Deidentifier("s").deidentify_file(DATA / "will-jxl.dcm", tmp_path / "j.dcm")
    with pytest.raises(DicomReadError):
        Deidentifier("s").deidentify_file(DATA / "MR_truncated.dcm", tmp_path / "m.dcm")
    (tmp_path / "t.dcm").write_text("hello")
    with pytest.raises(DicomReadError):
        Deidentifier("s").deidentify_file(tmp_path / "t.dcm", tmp_path / "t2.dcm")


def test_cli_deid_json(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("a long random line\n")
    src = tmp_path / "in.dcm"
    shutil.copy(DATA / "RGB_IMAGE.dcm", src)
    code = main(["deid", str(src), str(tmp_path / "out.dcm"), "--secret-file", str(secret), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["all_clean"] and report["reproducible_pseudonyms"]
    assert report["files"][0]["kept_boxes_px"] == [[60, 0, 764, 1008]]  # rows MinY0-MaxY1, cols MinX0-MaxX1
    assert b"ZZZDOWNTIME" not in (tmp_path / "out.dcm").read_bytes()


def test_cli_deid_folder_goes_on_past_a_bad_file(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(DATA / "GREYSCALE_IMAGE.dcm", src / "a.dcm")
    shutil.copy(DATA / "US1_J2KR.dcm", src / "b.dcm")
    code = main(["deid", str(src), str(tmp_path / "out"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 2 and not report["all_clean"]
    assert [f["file"] for f in report["failed"]] == [str(src / "b.dcm")]
    assert len(report["files"]) == 1 and report["files"][0]["clean"]
    assert len(list((tmp_path / "out").iterdir())) == 1


def test_cli_deid_refuses_and_flags(tmp_path, capsys):
    code = main(["deid", str(DATA / "US1_J2KR.dcm"), str(tmp_path / "o.dcm")])
    assert code == 2 and "BurnedInAnnotation" in capsys.readouterr().err
    code = main(["deid", str(DATA / "US1_J2KR.dcm"), str(tmp_path / "o.dcm"), "--allow-burned-in"])
    assert code == 1 and "NOT de-identified" in capsys.readouterr().out


@given(st.integers(0, 9), st.integers(0, 9), st.integers(0, 12), st.integers(0, 12))
def test_keep_mask_is_the_clamped_box(r0, c0, dr, dc):
    rows, cols = 8, 10
    r1, c1 = r0 + dr + 1, c0 + dc + 1
    region = UltrasoundRegion(
        index=0,
        box_px=(r0, c0, r1, c1),
        spatial_format=1,
        data_type=1,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.01,
        delta_col=0.01,
        reference_px=None,
    )
    regions = regions_from_dataset_like(region, rows, cols)
    mask = keep_mask(regions, rows, cols)
    if not regions[0].is_usable:
        assert not mask.any()
        return
    expected = (min(r1, rows - 1) - r0 + 1) * (min(c1, cols - 1) - c0 + 1)
    assert mask.sum() == expected


def regions_from_dataset_like(region: UltrasoundRegion, rows: int, cols: int) -> tuple[UltrasoundRegion, ...]:
    """Build a dataset with this region and read it back, so the image-fit rule is the real one."""
    ds = pydicom.Dataset()
    ds.Rows, ds.Columns = rows, cols
    item = pydicom.Dataset()
    r0, c0, r1, c1 = region.box_px
    item.RegionSpatialFormat, item.RegionDataType, item.RegionFlags = 1, 1, 0
    item.RegionLocationMinX0, item.RegionLocationMinY0 = c0, r0
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = c1, r1
    item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3
    item.PhysicalDeltaX = item.PhysicalDeltaY = 0.01
    ds.SequenceOfUltrasoundRegions = [item]
    return regions_from_dataset(ds)
