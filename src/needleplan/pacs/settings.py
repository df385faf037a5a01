"""Where the PACS address and credentials come from, and the HTTP session built from them.

Credentials are read from environment variables or a settings file, never from the command line,
and they are never logged, printed or put in an error message (``repr`` hides them).

Environment (wins over the file):

``NEEDLEPLAN_PACS_URL``
    DICOMweb root, e.g. ``https://pacs.example.org/dicom-web``.
``NEEDLEPLAN_PACS_TOKEN``
    Bearer token (``Authorization: Bearer ...``).
``NEEDLEPLAN_PACS_USER`` / ``NEEDLEPLAN_PACS_PASSWORD``
    HTTP basic authentication.
``NEEDLEPLAN_PACS_CA_BUNDLE``
    A CA bundle file to verify the server's TLS certificate against.
``NEEDLEPLAN_PACS_CONFIG``
    Another settings file than the default.

Settings file: ``$XDG_CONFIG_HOME/needleplan/pacs.toml`` (default ``~/.config/needleplan/pacs.toml``)
or ``pacs.json`` beside it, with the keys ``url``, ``token``, ``user``, ``password``, ``ca_bundle``,
``verify_tls`` (default true), ``timeout_s``, ``cache_dir``, ``cache_limit_mb``, and for the department
archive ``reviewers`` (the reviewer list, checked before the archive checks it again) and
``organization`` (written as Verifying Organization on approvals).  A file that holds a
secret must not be readable by other users (``chmod 600``), as for ssh keys.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from needleplan.errors import PacsError

__all__ = ["PacsSettings", "load_settings", "settings_path", "make_session", "BearerAuth", "ENV"]

ENV = {
    "url": "NEEDLEPLAN_PACS_URL",
    "token": "NEEDLEPLAN_PACS_TOKEN",
    "user": "NEEDLEPLAN_PACS_USER",
    "password": "NEEDLEPLAN_PACS_PASSWORD",
    "ca_bundle": "NEEDLEPLAN_PACS_CA_BUNDLE",
    "config": "NEEDLEPLAN_PACS_CONFIG",
}
_KEYS = {
    "url",
    "token",
    "user",
    "password",
    "ca_bundle",
    "verify_tls",
    "timeout_s",
    "cache_dir",
    "cache_limit_mb",
    "reviewers",
    "organization",
}


@dataclass(frozen=True, slots=True)
class PacsSettings:
    """How to reach one DICOMweb server.

    ``token`` and ``password`` never appear in ``repr`` or in any message.
    """

    url: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None
    verify_tls: bool = True
    timeout_s: float = 20.0
    cache_dir: str | None = None
    cache_limit_mb: float | None = None
    reviewers: tuple[str, ...] | None = None
    organization: str | None = None

    @property
    def auth_kind(self) -> str:
        """``"bearer"``, ``"basic"`` or ``"none"``."""
        if self.token:
            return "bearer"
        if self.user is not None and self.password is not None:
            return "basic"
        return "none"

    def with_url(self, url: str | None) -> PacsSettings:
        """The same settings for another server URL (``None`` keeps the current one)."""
        return self if url is None else replace(self, url=url)

    def checked_url(self) -> str:
        """The URL, refused when missing, not http(s), or carrying credentials."""
        if not self.url:
            raise PacsError(f"no PACS URL: pass --url, or set {ENV['url']} or 'url' in {settings_path()}")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PacsError(
                f"PACS URL must start with http:// or https:// and name a host, got {_safe_url(self.url)!r}"
            )
        if parts.username or parts.password:
            raise PacsError(
                f"do not put credentials in the PACS URL; set {ENV['user']}/{ENV['password']} or {ENV['token']} instead"
            )
        return self.url.rstrip("/")


def _safe_url(url: str) -> str:
    """The URL with any user-info part removed (for messages)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return parts._replace(netloc=netloc).geturl()
    return url


def settings_path() -> Path:
    """The settings file that :func:`load_settings` reads (it need not exist)."""
    explicit = os.environ.get(ENV["config"])
    if explicit:
        return Path(explicit).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    toml_path = base / "needleplan" / "pacs.toml"
    json_path = base / "needleplan" / "pacs.json"
    return json_path if (not toml_path.exists() and json_path.exists()) else toml_path


def _read_file(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise PacsError(f"cannot read PACS settings {path}: {exc.strerror}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        # The parser's message may quote the line, which may hold a secret: say only where.
        where = getattr(exc, "lineno", None)
        raise PacsError(
            f"PACS settings {path} is not valid {path.suffix[1:].upper()}"
            + (f" (line {where})" if where else "")
            + "; fix the file"
        ) from None
    if not isinstance(data, dict):
        raise PacsError(f"PACS settings {path} must hold a table of keys")
    section = data.get("pacs", data)
    unknown = sorted(set(section) - _KEYS)
    if unknown:
        raise PacsError(f"PACS settings {path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    if (section.get("password") or section.get("token")) and os.name == "posix":
        mode = path.stat().st_mode
        if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
            raise PacsError(f"PACS settings {path} holds a secret but other users can read it; run: chmod 600 {path}")
    return dict(section)


def load_settings(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> PacsSettings:
    """Settings from the file, then the environment on top.

    Parameters
    ----------
    path : path, optional
        Settings file; default :func:`settings_path`.
    environ : mapping, optional
        Environment to read (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    values = _read_file(Path(path) if path is not None else settings_path())
    for key in ("url", "token", "user", "password", "ca_bundle"):
        if environ.get(ENV[key]):
            values[key] = environ[ENV[key]]
    try:
        timeout_s = float(values.get("timeout_s", 20.0))
        limit = values.get("cache_limit_mb")
        limit_mb = None if limit is None else float(limit)
    except (TypeError, ValueError):
        raise PacsError("PACS settings: timeout_s and cache_limit_mb must be numbers") from None
    verify = values.get("verify_tls", True)
    if not isinstance(verify, bool):
        raise PacsError("PACS settings: verify_tls must be true or false")
    return PacsSettings(
        url=values.get("url"),
        user=values.get("user"),
        password=values.get("password"),
        token=values.get("token"),
        ca_bundle=values.get("ca_bundle"),
        verify_tls=verify,
        timeout_s=timeout_s,
        cache_dir=values.get("cache_dir"),
        cache_limit_mb=limit_mb,
        reviewers=_reviewers(values.get("reviewers")),
        organization=values.get("organization"),
    )


def _reviewers(value: Any) -> tuple[str, ...] | None:
    """The ``reviewers`` setting: a list of user names (None when not set)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PacsError("PACS settings: reviewers must be a list of user names")
    return tuple(value)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` on every request; the token never shows in ``repr``."""

    def __init__(self, token: str):
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"


def make_session(settings: PacsSettings) -> requests.Session:
    """A ``requests`` session with the settings' authentication and TLS verification.

    TLS certificates are verified unless the settings *file* says ``verify_tls = false``.
    """
    session = requests.Session()
    session.trust_env = False  # no proxy or .netrc credentials picked up behind the user's back
    if settings.auth_kind == "bearer":
        session.auth = BearerAuth(settings.token or "")
    elif settings.auth_kind == "basic":
        session.auth = requests.auth.HTTPBasicAuth(settings.user or "", settings.password or "")
    if settings.ca_bundle:
        if not Path(settings.ca_bundle).expanduser().is_file():
            raise PacsError(f"CA bundle {settings.ca_bundle} does not exist; fix ca_bundle or {ENV['ca_bundle']}")
        session.verify = str(Path(settings.ca_bundle).expanduser())
    else:
        session.verify = bool(settings.verify_tls)
        if not settings.verify_tls:
            logging.getLogger("needleplan.pacs").warning(
                "TLS certificate verification is OFF (verify_tls = false in %s): use only on a test server",
                settings_path(),
            )
    return session
