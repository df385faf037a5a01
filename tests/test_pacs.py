"""A real Orthanc (DICOMweb plugin) on 127.0.0.1: upload, search, retrieve, open, plan, store SR, read back.

One server for the module, with basic authentication (user ``planner``).  Skips only when the
``Orthanc`` binary is not installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pydicom
import pytest

from needleplan import pacs
from needleplan.cli import main
from needleplan.errors import PacsError
from needleplan.pacs.testserver import LocalOrthanc, find_orthanc

pytestmark = pytest.mark.skipif(
    find_orthanc() is None, reason="Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)"
)

DATA = Path(__file__).parent / "data" / "real_dicom"
SAMPLES = Path(__file__).parent.parent / "sample_dicom"
USER, PASSWORD = "planner", "correct-horse-7"
FAST = pacs.RetryPolicy(attempts=2, base_delay_s=0.05)
# The real files Orthanc accepts (the others are broken on purpose: truncated, no meta, ...).
UPLOADABLE = [
    "RGB_IMAGE.dcm",
    "GREYSCALE_IMAGE.dcm",
    "OBXXXX1A_rle.dcm",
    "no-pixel-spacing.dcm",
    "examples_ybr_color.dcm",
    "US1_J2KR.dcm",
    "US-YBR_FULL_422-EVRLE.dcm",
    "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "CT_small.dcm",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("orthanc")
    srv = LocalOrthanc(work / "server", users={USER: PASSWORD}).start()
    try:
        for name in UPLOADABLE:
            srv.upload(DATA / name)
        for path in sorted(SAMPLES.rglob("*.dcm")) if SAMPLES.is_dir() else []:
            srv.upload(path)
        # A synthetic case with its reference plan (the phantom), for the plan -> SR -> PACS path.
        from needleplan.synth import generate_case, write_case

        (work / "case").mkdir()
        written = write_case(generate_case("rhomboid_rib", "thin", seed=3), work / "case" / "rhomboid.dcm")
        srv.upload(written.dicom_path)
        srv.case = written
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def client(server):
    with pacs.connect(pacs.PacsSettings(url=server.dicomweb_url, user=USER, password=PASSWORD), retry=FAST) as c:
        yield c


def _header(name: str) -> pydicom.Dataset:
    return pydicom.dcmread(DATA / name, stop_before_pixels=True)


def test_search_lists_every_uploaded_us_study_and_not_the_ct(client):
    studies = pacs.search_studies(client)
    uids = {s.study_instance_uid for s in studies}
    us_files = [n for n in UPLOADABLE if n != "CT_small.dcm"]
    for name in us_files:
        assert _header(name).StudyInstanceUID in uids, name
    assert _header("CT_small.dcm").StudyInstanceUID not in uids  # modality US by default
    assert all("US" in s.modalities for s in studies)
    dates = [s.study_date for s in studies if s.study_date]
    assert dates == sorted(dates, reverse=True)  # newest first
    everything = pacs.search_studies(client, modality=None)
    assert _header("CT_small.dcm").StudyInstanceUID in {s.study_instance_uid for s in everything}


def test_search_by_patient_and_date_range(client):
    # examples_ybr_color.dcm: PatientID 204, StudyDate 20160503
    hits = pacs.search_studies(client, patient_id="204")
    assert [s.study_instance_uid for s in hits] == [_header("examples_ybr_color.dcm").StudyInstanceUID]
    assert hits[0].study_date == "2016-05-03" and hits[0].n_instances == 1
    # GREYSCALE_IMAGE 2017-03-02 and no-pixel-spacing 2018-05-03 fall in 2017..2018; RGB_IMAGE (2020) does not
    in_range = {s.study_instance_uid for s in pacs.search_studies(client, date="2017-01-01..2018-12-31")}
    assert _header("GREYSCALE_IMAGE.dcm").StudyInstanceUID in in_range
    assert _header("no-pixel-spacing.dcm").StudyInstanceUID in in_range
    assert _header("RGB_IMAGE.dcm").StudyInstanceUID not in in_range
    assert _header("examples_ybr_color.dcm").StudyInstanceUID not in in_range
    assert pacs.search_studies(client, patient_id="no-such-patient") == []
    assert len(pacs.search_studies(client, limit=2)) == 2


def test_retrieve_gives_the_stored_bytes_and_needleplan_io_opens_them(client, tmp_path):
    from needleplan.io import open_image

    cache = pacs.InstanceCache(tmp_path / "cache")
    for name in ("RGB_IMAGE.dcm", "examples_ybr_color.dcm", "US1_J2KR.dcm"):
        h = _header(name)
        result = pacs.retrieve(client, cache, h.StudyInstanceUID)
        assert len(result.paths) == 1 and result.fetched == (h.SOPInstanceUID,)
        local = Path(result.paths[0])
        # byte for byte what was uploaded: no transcoding, so plan bindings (frame SHA-256) hold
        assert local.read_bytes() == (DATA / name).read_bytes()
        image = open_image(local)
        assert image.info.sop_instance_uid == h.SOPInstanceUID
        assert image.frame(0).shape[:2] == (h.Rows, h.Columns)
    rgb = open_image(cache.verified_path(_header("RGB_IMAGE.dcm").SOPInstanceUID))
    # RGB_IMAGE: |PhysicalDelta| 0.02378716878592968 cm x 10 = 0.2378716878592968 mm/px on both axes
    assert rgb.info.calibration.spacing_mm == pytest.approx((0.2378716878592968, 0.2378716878592968))
    again = pacs.retrieve(client, cache, _header("RGB_IMAGE.dcm").StudyInstanceUID)
    assert again.fetched == () and again.reused == (_header("RGB_IMAGE.dcm").SOPInstanceUID,)


def test_retrieve_one_series_and_one_instance(client, tmp_path):
    h = _header("GREYSCALE_IMAGE.dcm")
    cache = pacs.InstanceCache(tmp_path)
    by_series = pacs.retrieve(client, cache, h.StudyInstanceUID, h.SeriesInstanceUID)
    by_instance = pacs.retrieve(client, cache, h.StudyInstanceUID, h.SeriesInstanceUID, h.SOPInstanceUID)
    assert by_series.paths == by_instance.paths and by_instance.reused == (h.SOPInstanceUID,)
    with pytest.raises(PacsError, match="no instances"):
        pacs.retrieve(client, cache, h.StudyInstanceUID, "1.2.3.4.5.6.7")
    with pytest.raises(PacsError, match="not a DICOM UID"):
        pacs.retrieve(client, cache, "1.2/../../studies?x=1")


def test_plan_sr_stored_into_the_source_study_and_read_back(server, client, tmp_path):
    from needleplan.io import open_image
    from needleplan.plan import load_plan, verify_binding
    from needleplan.sr import import_sr

    case = server.case
    dicom_path, plan_path = Path(case.dicom_path), Path(case.plan_path)
    source = pydicom.dcmread(dicom_path, stop_before_pixels=True)
    # open the study from the PACS, as a physician would, and check the plan binds to that copy
    got = pacs.retrieve(client, pacs.InstanceCache(tmp_path / "cache"), source.StudyInstanceUID)
    retrieved = Path(got.paths[0])
    plan = load_plan(plan_path)
    verify_binding(plan, open_image(retrieved))
    plan_bytes = plan_path.read_bytes()
    n_before = _count(client, source)

    pdf = tmp_path / "report.pdf"
    _write_pdf(pdf)
    result = pacs.store_plan(
        client, plan, pydicom.dcmread(retrieved, stop_before_pixels=True), report_pdf=pdf.read_bytes()
    )
    assert result.study_instance_uid == source.StudyInstanceUID and len(result.stored) == 2
    assert plan_path.read_bytes() == plan_bytes  # the local plan is untouched

    # the study on the server now holds image + SR + PDF
    studies = pacs.search_studies(client, patient_id=str(source.PatientID), modality=None)
    study = next(s for s in studies if s.study_instance_uid == source.StudyInstanceUID)
    assert study.n_instances == n_before + 2 and {"US", "SR", "DOC"} <= set(study.modalities)

    back = pacs.retrieve(client, pacs.InstanceCache(tmp_path / "back"), source.StudyInstanceUID)
    by_uid = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: Path(p) for p in back.paths}
    sr_path, pdf_path = by_uid[result.stored[0]], by_uid[result.stored[1]]
    sr = pydicom.dcmread(sr_path)
    assert sr.Modality == "SR" and sr.StudyInstanceUID == source.StudyInstanceUID
    restored = import_sr(sr_path, image_path=retrieved)
    assert restored.needle is not None and plan.needle is not None
    # SCOORDs are float32 pixels: a point comes back within 1e-4 px x ~0.1 mm/px, far below 0.001 mm
    for a, b in ((restored.needle.entry_mm, plan.needle.entry_mm), (restored.needle.target_mm, plan.needle.target_mm)):
        assert a == pytest.approx(b, abs=1e-3)
    assert len(restored.structures) == len(plan.structures)
    doc = pydicom.dcmread(pdf_path)
    assert doc.SOPClassUID == pacs.store.ENCAPSULATED_PDF_STORAGE and doc.StudyInstanceUID == source.StudyInstanceUID
    assert bytes(doc.EncapsulatedDocument)[: int(doc.EncapsulatedDocumentLength)] == pdf.read_bytes()

    # storing the same SR again (same SOP Instance UID) keeps one copy: why a STOW retry is safe
    again = pacs.store_instances(client, [sr], study_uid=source.StudyInstanceUID)
    assert again.stored == (result.stored[0],)
    assert _count(client, source) == n_before + 2


def _count(client, source) -> int:
    studies = pacs.search_studies(client, patient_id=str(source.PatientID), modality=None)
    return next(s.n_instances for s in studies if s.study_instance_uid == source.StudyInstanceUID)


def _write_pdf(path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 2))
    fig.text(0.1, 0.5, "needleplan report")
    fig.savefig(path, format="pdf")
    plt.close(fig)


def test_store_refuses_an_object_of_another_study_without_sending_it(client):
    ds = pydicom.dcmread(DATA / "GREYSCALE_IMAGE.dcm")
    with pytest.raises(PacsError, match="not the source study"):
        pacs.store_instances(client, [ds], study_uid="1.2.3.4")


def test_wrong_password_is_refused_in_one_line_without_the_password(server, caplog):
    caplog.set_level(logging.DEBUG)
    bad = pacs.connect(pacs.PacsSettings(url=server.dicomweb_url, user=USER, password="hunter2-wrong"), retry=FAST)
    with pytest.raises(PacsError) as err:
        pacs.search_studies(bad)
    message = str(err.value)
    assert "refused the credentials (HTTP 401)" in message and "\n" not in message
    assert "hunter2-wrong" not in message and "hunter2-wrong" not in caplog.text
    assert "retry" not in caplog.text  # a refusal is not retried
    anonymous = pacs.connect(pacs.PacsSettings(url=server.dicomweb_url), retry=FAST)
    with pytest.raises(PacsError, match="HTTP 401"):
        pacs.search_studies(anonymous)


def test_bearer_token_is_sent_never_shown(server, caplog):
    caplog.set_level(logging.DEBUG)
    token = "tok-SECRET-1234567890"
    client = pacs.connect(pacs.PacsSettings(url=server.dicomweb_url, token=token), retry=FAST)
    prepared = client.session.prepare_request(__import__("requests").Request("GET", f"{server.dicomweb_url}/studies"))
    assert prepared.headers["Authorization"] == f"Bearer {token}"
    # Orthanc's own users are basic-auth only, so it refuses the token: that refusal must not quote it
    with pytest.raises(PacsError, match="HTTP 401") as err:
        pacs.search_studies(client)
    assert token not in str(err.value) and token not in caplog.text
    assert token not in repr(client.settings) and token not in repr(client)


def test_successful_session_logs_no_secret(client, caplog):
    caplog.set_level(logging.DEBUG)
    pacs.search_studies(client, patient_id="204")
    assert caplog.text  # dicomweb-client did log the requests ...
    assert PASSWORD not in caplog.text  # ... but never the credentials


def test_cli_search_get_put_with_credentials_from_the_environment(server, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEEDLEPLAN_PACS_USER", USER)
    monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", PASSWORD)
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    url = server.dicomweb_url
    h = _header("OBXXXX1A_rle.dcm")
    assert main(["pacs", "search", "--url", url, "--patient", str(h.PatientID), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["study_instance_uid"] for s in out["studies"]] == [h.StudyInstanceUID]

    assert main(["pacs", "get", "--url", url, h.StudyInstanceUID, "-o", str(tmp_path / "dl"), "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["fetched"] == 1 and got["reused"] == 0
    assert (
        hashlib.sha256(Path(got["paths"][0]).read_bytes()).hexdigest()
        == hashlib.sha256((DATA / "OBXXXX1A_rle.dcm").read_bytes()).hexdigest()
    )
    assert main(["pacs", "get", "--url", url, h.StudyInstanceUID, "-o", str(tmp_path / "dl"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reused"] == 1

    plan_path = Path(server.case.plan_path)
    before = plan_path.read_bytes()
    assert main(["pacs", "put", "--url", url, str(plan_path), "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    sent = pydicom.dcmread(server.case.dicom_path, stop_before_pixels=True)
    assert stored["study_instance_uid"] == sent.StudyInstanceUID
    assert plan_path.read_bytes() == before

    monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", "not-the-password")
    assert main(["pacs", "search", "--url", url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTTP 401" in err and "not-the-password" not in err


def test_cli_refuses_credentials_in_the_url(server, capsys):
    url = server.dicomweb_url.replace("http://", f"http://{USER}:{PASSWORD}@")
    assert main(["pacs", "search", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "do not put credentials in the PACS URL" in err and PASSWORD not in err
