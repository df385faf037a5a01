"""Work from the hospital archive: DICOMweb search, retrieve and store (over ``dicomweb-client``).

The API an "Open from PACS" dialog needs::

    from needleplan import pacs
    client = pacs.connect()                       # URL and credentials from env / settings file
    studies = pacs.search_studies(client, patient_id="123", date="2024-01-01..2024-12-31")
    result = pacs.retrieve(client, pacs.default_cache(), studies[0].study_instance_uid)
    result.paths                                  # local DICOM files, open with needleplan.io.open_image

and to store a plan's SR (built by ``needleplan.sr``) into its image's study::

    pacs.store_plan(client, plan, source_dataset, report_pdf=None)

Every failure is a one-line :class:`~needleplan.errors.PacsError`.  See ``settings`` for where
credentials come from, ``client`` for what is retried and why.
"""

from __future__ import annotations

import os
from pathlib import Path

from needleplan.pacs.cache import InstanceCache
from needleplan.pacs.client import PacsClient, RetryPolicy, connect
from needleplan.pacs.query import InstanceRef, StudySummary, list_instances, parse_date_range, search_studies
from needleplan.pacs.retrieve import RetrieveResult, retrieve
from needleplan.pacs.settings import PacsSettings, load_settings, settings_path
from needleplan.pacs.store import StoreResult, encapsulated_pdf, store_instances, store_plan

__all__ = [
    "PacsSettings",
    "load_settings",
    "settings_path",
    "PacsClient",
    "RetryPolicy",
    "connect",
    "StudySummary",
    "InstanceRef",
    "search_studies",
    "list_instances",
    "parse_date_range",
    "InstanceCache",
    "default_cache",
    "RetrieveResult",
    "retrieve",
    "StoreResult",
    "store_instances",
    "store_plan",
    "encapsulated_pdf",
    "DEFAULT_CACHE_LIMIT_MB",
]

DEFAULT_CACHE_LIMIT_MB = 2048.0


def default_cache(settings: PacsSettings | None = None) -> InstanceCache:
    """The user's PACS cache: ``cache_dir`` from the settings, else ``$XDG_CACHE_HOME/needleplan/pacs``.

    Its size limit is ``cache_limit_mb`` from the settings, else :data:`DEFAULT_CACHE_LIMIT_MB`.
    """
    settings = settings or load_settings()
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    root = settings.cache_dir or cache_home / "needleplan" / "pacs"
    limit_mb = settings.cache_limit_mb if settings.cache_limit_mb is not None else DEFAULT_CACHE_LIMIT_MB
    return InstanceCache(root, max_bytes=int(limit_mb * 1e6))
