"""Faults against a real Orthanc on 127.0.0.1: killed mid-retrieve and resumed, down, silent, refusing stores.

This module has its own server because one test kills it.  Skips only without the Orthanc binary.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from needleplan import pacs
from needleplan.cli import main
from needleplan.errors import PacsError
from needleplan.pacs.retrieve import _check_complete
from needleplan.pacs.testserver import LocalOrthanc, find_orthanc, free_port
from tests.dicom_factory import fixed_length_uid

DATA = Path(__file__).parent / "data" / "real_dicom"
FAST = pacs.RetryPolicy(attempts=2, base_delay_s=0.05)
N_CINE = 8

needs_orthanc = pytest.mark.skipif(
    find_orthanc() is None, reason="Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)"
)


def _series_of_copies(folder: Path, n: int) -> tuple[str, str, list[str]]:
    """``n`` instances of RGB_IMAGE.dcm (2.3 MB each) in one new series: real pixels, new UIDs."""
    folder.mkdir(parents=True, exist_ok=True)
    study, series = fixed_length_uid("faults-study"), fixed_length_uid("faults-series")
    sops = []
    for i in range(n):
        ds = pydicom.dcmread(DATA / "RGB_IMAGE.dcm")
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = fixed_length_uid(f"faults-{i}")
        ds.InstanceNumber = i + 1
        ds.PatientID = "FAULTS-1"
        ds.save_as(folder / f"{i:02d}.dcm")
        sops.append(str(ds.SOPInstanceUID))
    return study, series, sops


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if find_orthanc() is None:
        pytest.skip("Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)")
    work = tmp_path_factory.mktemp("orthanc-faults")
    srv = LocalOrthanc(work / "server").start()
    try:
        srv.series = _series_of_copies(work / "series", N_CINE)
        for path in sorted((work / "series").glob("*.dcm")):
            srv.upload(path)
        for name in ("GREYSCALE_IMAGE.dcm", "OBXXXX1A_rle.dcm", "US1_J2KR.dcm"):
            srv.upload(DATA / name)
        yield srv
    finally:
        srv.stop()


def _client(url: str, **kw) -> pacs.PacsClient:
    return pacs.connect(pacs.PacsSettings(url=url, **kw), retry=FAST)


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


@needs_orthanc
def test_killed_mid_retrieve_then_resumed_without_refetching(server, tmp_path):
    study, series, sops = server.series
    cache = pacs.InstanceCache(tmp_path / "cache")
    client = _client(server.dicomweb_url)

    def kill_after_three(done, total, sop, status):
        assert total == N_CINE
        if done == 3:
            server.kill()  # SIGKILL: the server vanishes between two instances

    with pytest.raises(PacsError, match="cannot reach") as err:
        pacs.retrieve(client, cache, study, series, progress=kill_after_three)
    assert "\n" not in str(err.value) and "3 of 8 instances are safely in" in str(err.value)
    done = [cache.verified_path(s) for s in sops]
    assert [p is not None for p in done] == [True] * 3 + [False] * (N_CINE - 3)
    assert not list(cache.root.rglob("*.part"))  # no half-written file left behind
    before = {s: _stamp(str(done[i])) for i, s in enumerate(sops[:3])}

    server.start()  # same storage folder, same port: the archive is back
    resumed = pacs.retrieve(client, pacs.InstanceCache(tmp_path / "cache"), study, series)
    assert resumed.reused == tuple(sops[:3])  # already complete: not downloaded again
    assert resumed.fetched == tuple(sops[3:])
    assert len(resumed.paths) == N_CINE
    for i, sop in enumerate(sops[:3]):
        assert _stamp(resumed.paths[i]) == before[sop]  # the very same files, untouched
    for i, path in enumerate(resumed.paths):
        assert pydicom.dcmread(path, stop_before_pixels=True).InstanceNumber == i + 1


@needs_orthanc
def test_damaged_cache_files_are_fetched_again_and_stale_parts_removed(server, tmp_path):
    study, series, sops = server.series
    client = _client(server.dicomweb_url)
    first = pacs.retrieve(client, pacs.InstanceCache(tmp_path), study, series)
    # a file cut short (as by a crash of some other tool) and a temp file of a process that died
    damaged = Path(first.paths[1])
    original = damaged.read_bytes()
    damaged.write_bytes(original[:1000])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = damaged.with_name(f".{sops[4]}.{int(dead.stdout)}.part")
    stale.write_bytes(b"partial")
    again = pacs.retrieve(client, pacs.InstanceCache(tmp_path), study, series)
    assert again.fetched == (sops[1],)
    assert len(again.reused) == N_CINE - 1
    assert Path(again.paths[1]).read_bytes() == original  # the same instance, whole again
    assert not stale.exists()


def test_truncated_transfers_are_refused():
    native = (DATA / "US-YBR_FULL_422-EVRLE.dcm").read_bytes()
    sop = str(pydicom.dcmread(DATA / "US-YBR_FULL_422-EVRLE.dcm", stop_before_pixels=True).SOPInstanceUID)
    _check_complete(native, sop)  # the whole file passes
    with pytest.raises(PacsError, match="incomplete"):
        _check_complete(native[:-1000], sop)  # 555 x 800 YBR_FULL_422 = 888,000 bytes expected
    jpeg = (DATA / "examples_ybr_color.dcm").read_bytes()
    jpeg_sop = str(pydicom.dcmread(DATA / "examples_ybr_color.dcm", stop_before_pixels=True).SOPInstanceUID)
    _check_complete(jpeg, jpeg_sop)
    with pytest.raises(PacsError, match="incomplete"):
        _check_complete(jpeg[:-1000], jpeg_sop)  # cut inside the encapsulated fragments
    with pytest.raises(PacsError, match="another instance"):
        _check_complete(native, "1.2.3")


@needs_orthanc
def test_cache_size_limit_evicts_least_recently_used(server, tmp_path):
    client = _client(server.dicomweb_url)
    names = ("GREYSCALE_IMAGE.dcm", "OBXXXX1A_rle.dcm", "US1_J2KR.dcm")
    sizes = {n: (DATA / n).stat().st_size for n in names}  # 790,070 + 48,904 + 153,760 bytes
    # room for GREYSCALE + OBXXXX1A (838,974 B) but not all three (992,734 B)
    cache = pacs.InstanceCache(tmp_path, max_bytes=900_000)
    h = {n: pydicom.dcmread(DATA / n, stop_before_pixels=True) for n in names}
    pacs.retrieve(client, cache, h["GREYSCALE_IMAGE.dcm"].StudyInstanceUID)
    pacs.retrieve(client, cache, h["OBXXXX1A_rle.dcm"].StudyInstanceUID)
    assert cache.total_bytes == sizes["GREYSCALE_IMAGE.dcm"] + sizes["OBXXXX1A_rle.dcm"]
    pacs.retrieve(client, cache, h["US1_J2KR.dcm"].StudyInstanceUID)
    # GREYSCALE was used longest ago: evicted; 48,904 + 153,760 = 202,664 bytes remain
    assert cache.verified_path(str(h["GREYSCALE_IMAGE.dcm"].SOPInstanceUID)) is None
    assert cache.total_bytes == sizes["OBXXXX1A_rle.dcm"] + sizes["US1_J2KR.dcm"]
    small = pacs.InstanceCache(tmp_path / "small", max_bytes=100_000)
    with pytest.raises(PacsError, match="cache limit"):
        pacs.retrieve(client, small, h["GREYSCALE_IMAGE.dcm"].StudyInstanceUID)


def test_server_down_is_retried_then_one_clear_line(caplog):
    caplog.set_level(logging.INFO, logger="needleplan.pacs")
    client = _client(f"http://127.0.0.1:{free_port()}/dicom-web")  # nobody listens there
    with pytest.raises(PacsError) as err:
        pacs.search_studies(client)
    assert "cannot reach 127.0.0.1" in str(err.value) and "after 2 attempts" in str(err.value)
    assert "retry 1 of 1" in caplog.text  # a search is an idempotent GET: retried with backoff


def test_silent_server_times_out():
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        client = pacs.connect(
            pacs.PacsSettings(url=f"http://127.0.0.1:{port}/dicom-web", timeout_s=0.3),
            retry=pacs.RetryPolicy(attempts=1),
        )
        with pytest.raises(PacsError, match=r"did not answer within 0.3 s"):
            pacs.search_studies(client)


@needs_orthanc
def test_https_to_a_plain_server_fails_tls_and_is_not_retried(server, caplog):
    caplog.set_level(logging.INFO, logger="needleplan.pacs")
    client = _client(server.dicomweb_url.replace("http://", "https://"))
    assert client.session.verify is True  # TLS verification is on by default
    with pytest.raises(PacsError, match="TLS"):
        pacs.search_studies(client)
    # Only needleplan's own retry log counts: the `retrying` package inside dicomweb-client logs a
    # WARNING for the single attempt it makes even with its retries switched off.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("needleplan")]
    assert not any("retry" in m for m in ours), ours


@needs_orthanc
def test_store_refused_or_server_down_leaves_the_plan_untouched(server, tmp_path, monkeypatch, capsys, caplog):
    from needleplan.synth import generate_case, write_case

    caplog.set_level(logging.INFO, logger="needleplan.pacs")
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    written = write_case(generate_case("upper_trapezius", "average", seed=1), tmp_path / "case.dcm")
    plan_path = Path(written.plan_path)
    before = (plan_path.read_bytes(), plan_path.stat().st_mtime_ns)
    # 404: a wrong DICOMweb root; a client error is not retried
    assert main(["pacs", "put", "--url", f"{server.base_url}/no-such-root", str(plan_path)]) == 2
    err = capsys.readouterr().err
    assert "HTTP 404" in err and err.count("\n") == 1
    assert "retry" not in caplog.text
    # server down: retried (same SOP Instance UID, so a repeat cannot duplicate), then refused
    assert main(["pacs", "put", "--url", f"http://127.0.0.1:{free_port()}/dicom-web", str(plan_path)]) == 2
    assert "cannot reach" in capsys.readouterr().err
    assert (plan_path.read_bytes(), plan_path.stat().st_mtime_ns) == before
    # nothing new was written beside the plan
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [plan_path.name, Path(written.dicom_path).name, Path(written.truth_path).name]
    )


@needs_orthanc
def test_two_retrievals_sharing_a_cache_keep_both_in_the_index(server, tmp_path):
    import threading

    names = ("GREYSCALE_IMAGE.dcm", "OBXXXX1A_rle.dcm", "US1_J2KR.dcm")
    studies = [str(pydicom.dcmread(DATA / n, stop_before_pixels=True).StudyInstanceUID) for n in names]
    study, series, sops = server.series
    errors = []

    def work(uids):
        try:
            client = _client(server.dicomweb_url)
            for uid in uids:  # each thread has its own cache object on the same folder
                pacs.retrieve(client, pacs.InstanceCache(tmp_path), uid)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(studies,)), threading.Thread(target=work, args=([study],))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    fresh = pacs.InstanceCache(tmp_path)
    expected = [str(pydicom.dcmread(DATA / n, stop_before_pixels=True).SOPInstanceUID) for n in names] + sops
    assert all(fresh.verified_path(uid) is not None for uid in expected)
    assert len(json.loads((tmp_path / "needleplan-cache.json").read_text())["entries"]) == len(expected)


@needs_orthanc
def test_a_store_the_server_acknowledges_but_drops_is_reported(tmp_path):
    # Orthanc's Lua filter drops every Encapsulated PDF (modality DOC), yet STOW-RS answers "stored"
    lua = "function ReceivedInstanceFilter(dicom, origin, info)\n  return dicom.Modality ~= 'DOC'\nend\n"
    with LocalOrthanc(tmp_path / "server", lua=lua) as srv:
        srv.upload(DATA / "US1_J2KR.dcm")
        client = _client(srv.dicomweb_url)
        source = pydicom.dcmread(DATA / "US1_J2KR.dcm", stop_before_pixels=True)
        pdf = pacs.encapsulated_pdf(b"%PDF-1.4\n%%EOF\n", source)
        with pytest.raises(PacsError, match="does not list it"):
            pacs.store_instances(client, [pdf], study_uid=str(source.StudyInstanceUID))
        sr_like = pydicom.dcmread(DATA / "US1_J2KR.dcm")  # an instance the filter lets through
        sr_like.SOPInstanceUID = sr_like.file_meta.MediaStorageSOPInstanceUID = fixed_length_uid("faults-sr")
        stored = pacs.store_instances(client, [sr_like], study_uid=str(source.StudyInstanceUID))
        assert stored.stored == (str(sr_like.SOPInstanceUID),)
