"""The PACS dock widget against a real Orthanc on 127.0.0.1: search, retrieve, open in mm, store, read back.

Skips only when the ``Orthanc`` binary is not installed (as tests/test_pacs.py does).
"""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from needleplan import pacs
from needleplan.pacs.testserver import LocalOrthanc, find_orthanc, free_port
from needleplan_napari._names import PLUGIN

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(
        find_orthanc() is None, reason="Orthanc is not installed (Debian packages orthanc, orthanc-dicomweb)"
    ),
]

SAMPLES = Path(__file__).resolve().parents[4] / "sample_dicom"
IMAGE = SAMPLES / "upper_trapezius_thin_frame.dcm"
PLAN = SAMPLES / "upper_trapezius_thin_frame.plan.json"
USER, PASSWORD = "planner", "correct-horse-7"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LocalOrthanc(tmp_path_factory.mktemp("orthanc"), users={USER: PASSWORD}).start()
    try:
        srv.upload(IMAGE)
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def pacs_env(server, tmp_path, monkeypatch):
    """URL and credentials only from the environment (as a clinic sets them), cache in tmp_path."""
    monkeypatch.setenv("NEEDLEPLAN_PACS_URL", server.dicomweb_url)
    monkeypatch.setenv("NEEDLEPLAN_PACS_USER", USER)
    monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", PASSWORD)
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return server


def test_search_retrieve_open_in_mm_store_and_read_back(make_napari_viewer_proxy, qtbot, pacs_env, tmp_path):
    from needleplan.sr import import_sr

    viewer = make_napari_viewer_proxy()
    widget = viewer.window.add_plugin_dock_widget(PLUGIN, "PACS")[1]
    assert widget.url.text() == pacs_env.dicomweb_url
    assert USER in widget.auth_label.text() and PASSWORD not in widget.auth_label.text()

    widget.patient_id.setText("PHANTOM-THIN-1")
    widget.search()
    qtbot.waitUntil(lambda: widget.table.rowCount() == 1, timeout=30000)
    header = pydicom.dcmread(IMAGE, stop_before_pixels=True)
    assert [s.study_instance_uid for s in widget.studies] == [header.StudyInstanceUID]
    assert widget.table.item(0, 0).text() == "2025-01-06" and widget.table.item(0, 1).text() == "PHANTOM-THIN-1"

    widget.retrieve()
    qtbot.waitUntil(lambda: len(widget.opened) == 1, timeout=60000)
    assert widget.progress.value() == widget.progress.maximum() == 1
    image = widget.opened[0]
    cached = Path(image.metadata["needleplan"]["image"].info.path)
    assert cached.is_relative_to(tmp_path / "cache") and cached.read_bytes() == IMAGE.read_bytes()
    # opened in mm: PhysicalDeltaX/Y 0.01 cm = 0.1 mm/px, origin (20, 274) px -> translate (-2.0, -27.4) mm
    assert tuple(str(u) for u in image.units) in (("mm", "mm"), ("millimeter", "millimeter"))
    assert tuple(image.scale) == pytest.approx((0.1, 0.1))
    assert tuple(image.translate) == pytest.approx((-2.0, -27.4))

    # the sample's plan binds to the retrieved copy (same bytes); store it, nothing local written
    plan_widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    plan = plan_widget.open_plan(PLAN)
    assert plan is not None, plan_widget.status.text()
    plan_bytes = PLAN.read_bytes()
    widget.with_report.setChecked(True)
    widget.store_plan()
    qtbot.waitUntil(lambda: widget.status.text().startswith(("Stored", "<b>Not stored")), timeout=60000)
    assert widget.status.text() == f"Stored 2 object(s) into study {header.StudyInstanceUID}", widget.status.text()
    assert PLAN.read_bytes() == plan_bytes

    # read the SR back from the server, independently of the widget
    with pacs.connect(pacs.PacsSettings(url=pacs_env.dicomweb_url, user=USER, password=PASSWORD)) as client:
        back = pacs.retrieve(client, pacs.InstanceCache(tmp_path / "back"), header.StudyInstanceUID)
    modality = {p: pydicom.dcmread(p, stop_before_pixels=True).Modality for p in back.paths}
    assert sorted(modality.values()) == ["DOC", "SR", "US"]
    srs = [p for p, m in modality.items() if m == "SR"]
    pdf = pydicom.dcmread(next(p for p, m in modality.items() if m == "DOC"))
    assert bytes(pdf.EncapsulatedDocument).startswith(b"%PDF")
    restored = import_sr(srs[0], image_path=IMAGE)
    built = plan_widget.session.build_plan()
    # SCOORDs are float32 pixels: within 1e-4 px x 0.1 mm/px, far below 0.001 mm
    for a, b in (
        (restored.needle.entry_mm, built.needle.entry_mm),
        (restored.needle.target_mm, built.needle.target_mm),
    ):
        assert a == pytest.approx(b, abs=1e-3)
    assert restored.needle.entry_mm == pytest.approx(plan.needle.entry_mm, abs=1e-3)
    assert sorted(s.kind for s in restored.structures) == sorted(s.kind for s in built.structures)

    # retrieving again: the image from the cache; the SR and the PDF are not opened as images
    widget.search()
    qtbot.waitUntil(
        lambda: widget.table.item(0, 5) is not None and widget.table.item(0, 5).text() == "3", timeout=30000
    )
    widget.retrieve()
    qtbot.waitUntil(lambda: "from the cache" in widget.status.text(), timeout=60000)
    assert "Opened 1 image(s) (2 fetched, 1 from the cache); 2 non-image object(s) not opened" == widget.status.text()


def test_server_down_gives_a_clear_message_and_the_local_plan_untouched(
    make_napari_viewer_proxy, qtbot, pacs_env, monkeypatch
):
    monkeypatch.setenv("NEEDLEPLAN_PACS_URL", f"http://127.0.0.1:{free_port()}/dicom-web")  # nothing listens
    viewer = make_napari_viewer_proxy()
    viewer.open(str(IMAGE), plugin=PLUGIN)
    plan_widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    assert plan_widget.open_plan(PLAN) is not None, plan_widget.status.text()
    widget = viewer.window.add_plugin_dock_widget(PLUGIN, "PACS")[1]
    widget.settings = pacs.PacsSettings(url=widget.url.text(), user=USER, password=PASSWORD, timeout_s=2.0)
    plan_bytes = PLAN.read_bytes()
    widget.store_plan()
    qtbot.waitUntil(lambda: widget.status.text().startswith(("Stored", "<b>Not stored")), timeout=60000)
    text = widget.status.text()
    assert text.startswith("<b>Not stored (the local plan is unchanged):</b> PACS store") and "cannot reach" in text
    assert PASSWORD not in text
    assert PLAN.read_bytes() == plan_bytes
    widget.search()
    qtbot.waitUntil(lambda: widget.status.text().startswith("<b>Search failed"), timeout=60000)
    assert "cannot reach 127.0.0.1" in widget.status.text()
