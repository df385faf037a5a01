"""The few Orthanc REST calls the archive library needs beside DICOMweb.

Why not DICOMweb alone: a plan revision must be stored by a server that knows *who* stores it,
and Orthanc's DICOMweb plugin stores on the plugin's behalf (its ``ReceivedInstanceFilter`` sees no
user name), so revisions go through ``POST /instances``, where Orthanc passes the authenticated
user to the department's rules (``needleplan-review.lua``).  And the review queue lists thousands
of instances from Orthanc's index (``/tools/find``, main DICOM tags only) in a fraction of a
second, where QIDO-RS reads every file (about 10 s for 1,000 SRs here).

Every request goes through :meth:`needleplan.pacs.PacsClient.call`, so failures are one-line
:class:`~needleplan.errors.PacsError` messages without the credentials.
"""

from __future__ import annotations

import io
from typing import Any

import pydicom
import requests

from needleplan.errors import PacsError
from needleplan.pacs.client import PacsClient

__all__ = ["ALREADY_STORED", "FILTERED_OUT", "STORED", "OrthancRest"]

STORED, ALREADY_STORED, FILTERED_OUT = "Success", "AlreadyStored", "FilteredOut"


def _rest_root(dicomweb_url: str) -> str:
    """Orthanc's REST root from its DICOMweb root.

    >>> _rest_root("http://127.0.0.1:8042/dicom-web")
    'http://127.0.0.1:8042'
    """
    url = dicomweb_url.rstrip("/")
    if not url.endswith("/dicom-web"):
        raise PacsError(
            f"the archive URL {url} is not an Orthanc DICOMweb root (it must end in /dicom-web); "
            "the department archive is an Orthanc with the needleplan configuration"
        )
    return url[: -len("/dicom-web")]


class OrthancRest:
    """Orthanc's REST API next to the DICOMweb root of ``client``."""

    def __init__(self, client: PacsClient):
        self.client = client
        self.root = _rest_root(client.url)

    def _get(self, what: str, path: str, **kwargs: Any) -> requests.Response:
        def run() -> requests.Response:
            response = self.client.session.get(self.root + path, timeout=self.client.settings.timeout_s, **kwargs)
            response.raise_for_status()
            return response

        return self.client.call(what, run)

    def _post(self, what: str, path: str, *, retry: bool, **kwargs: Any) -> requests.Response:
        def run() -> requests.Response:
            response = self.client.session.post(self.root + path, timeout=self.client.settings.timeout_s, **kwargs)
            response.raise_for_status()
            return response

        return self.client.call(what, run, retry=retry)

    def find_instances(self, query: dict[str, str]) -> list[dict]:
        """Instances matching ``query`` (main DICOM tags), with their main tags."""
        return self._post(
            "list plan revisions", "/tools/find", retry=True, json={"Level": "Instance", "Query": query, "Expand": True}
        ).json()

    def image_comments(self, orthanc_id: str) -> str:
        """The Image Comments (0020,4000) of one instance, read from its file by Orthanc."""
        response = self._get(f"read the queue summary of {orthanc_id}", f"/instances/{orthanc_id}/content/0020-4000")
        return response.content.decode("utf-8", errors="replace").rstrip("\0 ")

    def lookup(self, sop_instance_uid: str) -> str | None:
        """Orthanc's id of the instance with this SOP Instance UID, or None."""
        hits = self._post(f"look up {sop_instance_uid}", "/tools/lookup", retry=True, data=sop_instance_uid).json()
        return next((h["ID"] for h in hits if h.get("Type") == "Instance"), None)

    def instance(self, orthanc_id: str, *, header_only: bool = False) -> pydicom.Dataset:
        """One instance as a pydicom dataset (``header_only``: the attributes, no pixel data)."""
        data = self._get(f"read instance {orthanc_id}", f"/instances/{orthanc_id}/file").content
        try:
            return pydicom.dcmread(io.BytesIO(data), stop_before_pixels=header_only)
        except (pydicom.errors.InvalidDicomError, ValueError, EOFError, OSError, KeyError) as exc:
            raise PacsError(f"the archive sent instance {orthanc_id} damaged ({type(exc).__name__})") from None

    def store(self, ds: pydicom.Dataset) -> str:
        """Store one instance; return Orthanc's status (``Success``, ``AlreadyStored``, ``FilteredOut``).

        Retried on transient faults because the instance's SOP Instance UID is fixed: a repeat
        cannot store a second copy.  ``AlreadyStored`` after a retry may be our own first attempt
        that arrived before the connection dropped; the caller tells by reading it back.
        """
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        body = buffer.getvalue()

        def run() -> str:
            response = self.client.session.post(
                self.root + "/instances",
                data=body,
                timeout=self.client.settings.timeout_s,
                headers={"Content-Type": "application/dicom"},
            )
            if response.status_code == 403 or (
                response.status_code in (200, 400, 500) and "FilteredOut" in response.text
            ):
                return FILTERED_OUT
            response.raise_for_status()
            return str(response.json().get("Status", STORED))

        return self.client.call(f"store {ds.SOPInstanceUID}", run)
