"""The one place that talks HTTP: a thin wrapper over :class:`dicomweb_client.DICOMwebClient`.

Every failure becomes a one-line :class:`~needleplan.errors.PacsError` that says what failed and
what to do, without the credentials.  Retries with exponential backoff happen only where repeating
the request cannot do harm:

* QIDO-RS searches and WADO-RS retrievals (HTTP GET) are idempotent: retried on a refused or reset
  connection, a timeout, and HTTP 408, 429, 502, 503, 504.
* STOW-RS (HTTP POST) is retried on the same faults **only because** an instance is identified by
  its SOP Instance UID, fixed before the first attempt: sending the same instance again stores the
  same object (a PACS keeps one copy per SOP Instance UID), so a repeat cannot create a duplicate.
  Any other 4xx or a 500 is never retried: the server understood and refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

import requests
from dicomweb_client import DICOMwebClient

from needleplan.errors import PacsError
from needleplan.pacs.settings import ENV, PacsSettings, make_session

__all__ = ["RetryPolicy", "PacsClient", "connect"]

log = logging.getLogger("needleplan.pacs")
T = TypeVar("T")

RETRY_STATUS = frozenset({408, 429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: waits ``base_delay_s * 2**k`` (capped) between ``attempts`` tries.

    >>> [RetryPolicy(attempts=4, base_delay_s=0.5).delay_s(k) for k in range(3)]
    [0.5, 1.0, 2.0]
    """

    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay_s(self, retry_index: int) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based)."""
        return min(self.max_delay_s, self.base_delay_s * (2.0**retry_index))


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return None if response is None else response.status_code


def _retriable(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate will not become valid by asking again
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)):
        return True
    return _status(exc) in RETRY_STATUS


class PacsClient:
    """A DICOMweb server, reached with :class:`PacsSettings`.

    Use :func:`connect` to build one.  ``dicomweb`` is the underlying
    :class:`dicomweb_client.DICOMwebClient` (its own retry logic is switched off: this class
    decides what is safe to repeat).
    """

    def __init__(self, settings: PacsSettings, *, retry: RetryPolicy | None = None):
        self.settings = settings
        self.url = settings.checked_url()
        self.retry = retry or RetryPolicy()
        self.session = make_session(settings)
        self.dicomweb = DICOMwebClient(self.url, session=self.session, timeout=settings.timeout_s)
        self.dicomweb.set_http_retry_params(retry=False)

    def __repr__(self) -> str:
        return f"PacsClient(url={self.url!r}, auth={self.settings.auth_kind!r})"

    def close(self) -> None:
        """Close the HTTP connections."""
        self.session.close()

    def __enter__(self) -> PacsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, what: str, func: Callable[[], T], *, retry: bool = True) -> T:
        """Run one request, retrying transient faults when ``retry``; map failures to PacsError.

        Parameters
        ----------
        what : str
            What the request does, for messages ("search studies", "retrieve instance 1.2.3").
        func : callable
            Makes the request.
        retry : bool
            Whether repeating the request is safe (see the module docstring).
        """
        attempts = max(1, self.retry.attempts) if retry else 1
        for attempt in range(attempts):
            try:
                return func()
            except PacsError:
                raise
            except (requests.RequestException, ValueError, KeyError) as exc:
                if attempt + 1 < attempts and _retriable(exc):
                    delay = self.retry.delay_s(attempt)
                    log.info(
                        "%s failed (%s); retry %d of %d in %.1f s",
                        what,
                        type(exc).__name__,
                        attempt + 1,
                        attempts - 1,
                        delay,
                    )
                    time.sleep(delay)
                    continue
                raise self.error(what, exc, attempts=attempt + 1) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def error(self, what: str, exc: BaseException, *, attempts: int = 1) -> PacsError:
        """A one-line PacsError for a failed request (never quoting credentials)."""
        host = urlsplit(self.url).netloc
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        status = _status(exc)
        if isinstance(exc, requests.exceptions.SSLError):
            why = (
                f"TLS with {host} failed (certificate not trusted, or the server does not speak https); "
                f"check the URL, or set ca_bundle / {ENV['ca_bundle']} to your hospital's CA file"
            )
        elif isinstance(exc, requests.Timeout):
            why = f"{host} did not answer within {self.settings.timeout_s:g} s{tries}; try again or raise timeout_s"
        elif isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            why = (
                f"cannot reach {host} (server down or connection lost{tries}); "
                "check that the PACS is running and the URL"
            )
        elif status in (401, 403):
            why = (
                f"{host} refused the credentials (HTTP {status}); check {ENV['user']}/{ENV['password']} or "
                f"{ENV['token']} (or the settings file)"
            )
        elif status == 404:
            why = f"{host} has no such object (HTTP 404); check the UIDs and the DICOMweb URL"
        elif status is not None:
            reason = getattr(getattr(exc, "response", None), "reason", "") or ""
            why = f"{host} answered HTTP {status} {reason}{tries}".rstrip()
        else:
            why = f"{host} sent an answer that could not be read ({type(exc).__name__})"
        return PacsError(f"PACS {what} failed: {why}")


def connect(
    settings: PacsSettings | None = None, *, url: str | None = None, retry: RetryPolicy | None = None
) -> PacsClient:
    """A :class:`PacsClient` from settings (default: :func:`~needleplan.pacs.settings.load_settings`).

    ``url`` overrides the settings' URL.
    """
    if settings is None:
        from needleplan.pacs.settings import load_settings

        settings = load_settings()
    return PacsClient(settings.with_url(url), retry=retry)
