"""The PACS dock's review queue against a real Orthanc department archive (issue 13).

A resident's submitted plan is listed in the queue and opened with its image, retrieved from the
archive, on the frame it was made on.  Skips when Orthanc is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from needleplan import pacs
from needleplan.pacs.testserver import LocalOrthanc, find_orthanc
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
USERS = {"resident1": "r-secret-1", "attending1": "a-secret-1"}


@pytest.fixture(scope="module")
def archive_server(tmp_path_factory):
    from needleplan.archive import review_lua

    srv = LocalOrthanc(tmp_path_factory.mktemp("archive"), users=USERS, lua=review_lua(["attending1"])).start()
    try:
        srv.upload(IMAGE)
        yield srv
    finally:
        srv.stop()


def test_queue_lists_the_submitted_plan_and_opens_it_on_its_image(
    make_napari_viewer_proxy, qtbot, archive_server, tmp_path, monkeypatch
):
    from needleplan.archive import ArchiveLibrary
    from needleplan.plan import load_plan

    resident = ArchiveLibrary(
        pacs.connect(pacs.PacsSettings(url=archive_server.dicomweb_url, user="resident1", password=USERS["resident1"]))
    )
    plan_id = resident.add(load_plan(PLAN))["id"]
    resident.submit(plan_id)
    draft_id = resident.add(load_plan(PLAN))["id"]  # a draft: not in the submitted-only queue

    monkeypatch.setenv("NEEDLEPLAN_PACS_URL", archive_server.dicomweb_url)
    monkeypatch.setenv("NEEDLEPLAN_PACS_USER", "attending1")
    monkeypatch.setenv("NEEDLEPLAN_PACS_PASSWORD", USERS["attending1"])
    monkeypatch.setenv("NEEDLEPLAN_PACS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    viewer = make_napari_viewer_proxy()
    widget = viewer.window.add_plugin_dock_widget(PLUGIN, "PACS")[1]
    widget.queue.list_queue()
    qtbot.waitUntil(lambda: widget.queue.table.rowCount() == 1, timeout=30000)
    assert [r["id"] for r in widget.queue.rows] == [plan_id] and draft_id != plan_id
    assert [widget.queue.table.item(0, c).text() for c in (0, 1, 2, 5)] == [
        "submitted",
        "upper_trapezius",
        "resident1",
        "2",
    ]

    widget.queue.open_plan()
    qtbot.waitUntil(lambda: widget.status.text().startswith(("Opened plan", "<b>")), timeout=60000)
    assert widget.status.text() == f"Opened plan {plan_id} (submitted, step 2, author resident1)"
    plan_widget = viewer.window.add_plugin_dock_widget(PLUGIN, "Needle Plan")[1]
    image = plan_widget.session.image_layer()
    assert Path(image.metadata["needleplan"]["image"].info.path).is_relative_to(tmp_path / "cache")
    assert tuple(image.scale) == pytest.approx((0.1, 0.1))  # in mm: 0.01 cm regions -> 0.1 mm/px
    built = plan_widget.session.build_plan()
    assert built.needle.entry_mm == pytest.approx(load_plan(PLAN).needle.entry_mm, abs=1e-3)
