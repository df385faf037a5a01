"""WADO-RS: bring a study, a series or one instance into the local cache, resumably.

Instances are fetched one by one in their stored transfer syntax (no transcoding, so the frame
hashes that bind a plan to its image stay the same as on the server).  An instance already in the
cache and verified (size and SHA-256 as recorded) is not fetched again, so running the same
retrieval after a failure continues where it stopped.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.pixels.utils import get_expected_length

from needleplan.errors import PacsError
from needleplan.pacs.cache import InstanceCache, check_uid
from needleplan.pacs.client import PacsClient
from needleplan.pacs.query import InstanceRef, list_instances

__all__ = ["RetrieveResult", "retrieve", "Progress"]

Progress = Callable[[int, int, str, str], None]
"""``progress(done, total, sop_instance_uid, status)`` with status ``"fetched"`` or ``"cached"``."""

_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'


@dataclass(frozen=True, slots=True)
class RetrieveResult:
    """What a retrieval left in the cache.

    ``paths`` are in series and instance order; ``fetched`` and ``reused`` are SOP Instance UIDs
    downloaded now and found (verified) in the cache.
    """

    paths: tuple[str, ...]
    fetched: tuple[str, ...]
    reused: tuple[str, ...]
    bytes_fetched: int

    def to_dict(self) -> dict:
        """Plain JSON-ready dict."""
        return {
            "paths": list(self.paths),
            "fetched": len(self.fetched),
            "reused": len(self.reused),
            "bytes_fetched": self.bytes_fetched,
        }


def _instance_url(client: PacsClient, ref: InstanceRef) -> str:
    return (
        f"{client.url}/studies/{ref.study_instance_uid}/series/{ref.series_instance_uid}"
        f"/instances/{ref.sop_instance_uid}"
    )


def _get_raw_instance(client: PacsClient, ref: InstanceRef) -> bytes:
    """The instance's bytes exactly as the server sends them (its stored transfer syntax).

    dicomweb-client's public ``retrieve_instance`` returns a parsed dataset; re-encoding it would
    change bytes and fails for transfer syntaxes pydicom does not know, so this uses the client's
    own GET and multipart decoder (``_http_get``, ``_decode_multipart_message``) and falls back to
    ``retrieve_instance`` when a future dicomweb-client no longer has them.
    """
    dw = client.dicomweb
    if not (hasattr(dw, "_http_get") and hasattr(dw, "_decode_multipart_message")):  # pragma: no cover
        ds = dw.retrieve_instance(
            ref.study_instance_uid,
            ref.series_instance_uid,
            ref.sop_instance_uid,
            media_types=(("application/dicom", "*"),),
        )
        buffer = io.BytesIO()
        pydicom.dcmwrite(buffer, ds)
        return buffer.getvalue()
    # identity: a server gzipping 75 MB of pixels costs 15x the transfer itself on a LAN (bench_pacs.py)
    headers = {"Accept": _ACCEPT, "Accept-Encoding": "identity"}
    response = dw._http_get(_instance_url(client, ref), headers=headers, stream=True)
    if response.headers.get("Content-Type", "").startswith("application/dicom"):
        return response.content  # a server that skips the multipart wrapping
    parts = [bytes(p) for p in dw._decode_multipart_message(response, stream=True)]
    if len(parts) != 1:
        raise PacsError(f"PACS sent {len(parts)} parts for instance {ref.sop_instance_uid}, expected 1")
    return parts[0]


def _check_complete(raw: bytes, sop_uid: str) -> None:
    """Refuse bytes that are not the instance asked for, or that were cut short."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(io.BytesIO(raw))
        except Exception as exc:  # pydicom raises many types on damaged input
            raise PacsError(
                f"instance {sop_uid} arrived damaged ({type(exc).__name__}); run the retrieval again"
            ) from None
    if any("End of file" in str(w.message) for w in caught):
        raise PacsError(f"instance {sop_uid} arrived incomplete (cut inside its pixel data); run the retrieval again")
    if str(ds.get("SOPInstanceUID", "")) != sop_uid:
        raise PacsError(f"PACS sent another instance than {sop_uid}; the server's index may be damaged")
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if "PixelData" not in ds or syntax is None or not syntax.is_transfer_syntax or syntax.is_encapsulated:
        return
    expected = get_expected_length(ds, "bytes")
    if len(ds.PixelData) < expected:
        raise PacsError(
            f"instance {sop_uid} arrived incomplete ({len(ds.PixelData)} of {expected} pixel bytes); "
            "run the retrieval again"
        )


def _fetch_one(client: PacsClient, cache: InstanceCache, ref: InstanceRef, protect: set[str]) -> Path:
    raw = client.call(f"retrieve instance {ref.sop_instance_uid}", lambda: _get_raw_instance(client, ref))
    _check_complete(raw, ref.sop_instance_uid)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(raw)

    try:
        return cache.add(ref.study_instance_uid, ref.series_instance_uid, ref.sop_instance_uid, write, protect=protect)
    except OSError as exc:
        raise PacsError(
            f"cannot write {ref.sop_instance_uid} into the cache {cache.root}: {exc.strerror or exc}"
        ) from None


def retrieve(
    client: PacsClient,
    cache: InstanceCache,
    study_uid: str,
    series_uid: str | None = None,
    sop_uid: str | None = None,
    *,
    progress: Progress | None = None,
) -> RetrieveResult:
    """Retrieve a study, a series, or one instance into ``cache``; return the local paths.

    Parameters
    ----------
    client : PacsClient
    cache : InstanceCache
    study_uid : str
    series_uid : str, optional
        Only this series (required when ``sop_uid`` is given).
    sop_uid : str, optional
        Only this instance.
    progress : callable, optional
        Called after each instance, see :data:`Progress`.

    Raises
    ------
    PacsError
        On any failure; instances completed before it stay in the cache and are not fetched
        again by the next call.
    """
    if sop_uid and not series_uid:
        raise PacsError("retrieving one instance needs its series UID too")
    for uid in (study_uid, series_uid, sop_uid):
        if uid is not None:
            check_uid(uid)  # before it goes into a URL
    refs = list_instances(client, study_uid, series_uid, sop_uid)
    protect = {r.sop_instance_uid for r in refs}
    paths: list[str] = []
    fetched: list[str] = []
    reused: list[str] = []
    bytes_fetched = 0
    for done, ref in enumerate(refs, start=1):
        path = cache.verified_path(ref.sop_instance_uid)
        if path is not None:
            reused.append(ref.sop_instance_uid)
            status = "cached"
        else:
            try:
                path = _fetch_one(client, cache, ref, protect)
            except PacsError as exc:
                if done == 1:
                    raise
                raise PacsError(
                    f"{exc} ({done - 1} of {len(refs)} instances are safely in {cache.root}; "
                    "run the same retrieval again to continue from there)"
                ) from None
            fetched.append(ref.sop_instance_uid)
            bytes_fetched += path.stat().st_size
            status = "fetched"
        paths.append(str(path))
        if progress is not None:
            progress(done, len(refs), ref.sop_instance_uid, status)
    cache.touch(reused)
    return RetrieveResult(tuple(paths), tuple(fetched), tuple(reused), bytes_fetched)
