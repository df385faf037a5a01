"""What the PACS dock runs in its worker threads (Qt-free): search, retrieve, store.

Each job is a plain function of the PACS settings and its arguments, so it runs off the main
thread; credentials stay inside ``needleplan.pacs`` and only their kind is ever named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from needleplan.pacs import PacsSettings
    from needleplan.pacs.query import StudySummary
    from needleplan.pacs.retrieve import RetrieveResult
    from needleplan.pacs.store import StoreResult
    from needleplan.plan import Plan

__all__ = ["auth_text", "search", "retrieve_study", "store"]


def auth_text(settings: PacsSettings) -> str:
    """How the panel names the credentials: kind and user only, never a password or token."""
    if settings.auth_kind == "basic":
        return f"basic authentication as {settings.user}"
    return {"bearer": "a bearer token", "none": "no credentials"}[settings.auth_kind]


def search(settings: PacsSettings, url: str | None, patient_id: str | None, date: str | None) -> list[StudySummary]:
    """The studies matching a patient id and/or a date (DICOMweb QIDO-RS)."""
    from needleplan import pacs

    with pacs.connect(settings, url=url) as client:
        return pacs.search_studies(client, patient_id=patient_id, date=date)


def retrieve_study(
    settings: PacsSettings, url: str | None, study_uid: str, progress: Callable[[int, int], object]
) -> tuple[RetrieveResult, list[str]]:
    """Retrieve a study into the cache; the result and which of its files are images (headers only).

    ``progress(done, total)`` is called from the worker thread after each instance.
    """
    from needleplan import pacs
    from needleplan.errors import NeedleplanError
    from needleplan.io import read_info

    with pacs.connect(settings, url=url) as client:
        result = pacs.retrieve(
            client,
            pacs.default_cache(settings),
            study_uid,
            progress=lambda done, total, _uid, _status: progress(done, total),
        )
    images = []
    for path in result.paths:
        try:
            read_info(path)  # an SR or a PDF of the study is not an image
        except NeedleplanError:
            continue
        images.append(path)
    return result, images


def store(
    settings: PacsSettings, url: str | None, plan: Plan, image_path: str, frame: np.ndarray | None, with_report: bool
) -> StoreResult:
    """Store the plan's SR (and its PDF report) into its image's study; nothing local is written."""
    import tempfile
    from pathlib import Path

    import pydicom

    from needleplan import pacs
    from needleplan_napari._plan_io import write_report_file

    source = pydicom.dcmread(image_path, stop_before_pixels=True)
    pdf = None
    if with_report:
        with tempfile.TemporaryDirectory(prefix="needleplan-pacs-") as tmp:
            write_report_file(plan, frame, Path(tmp) / "report.pdf")
            pdf = (Path(tmp) / "report.pdf").read_bytes()
    with pacs.connect(settings, url=url) as client:
        return pacs.store_plan(client, plan, source, report_pdf=pdf)
