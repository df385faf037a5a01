"""PACS settings and credentials (no server needed): where they come from, that they never show."""

from __future__ import annotations

import json
import os

import pytest
import requests

from needleplan import pacs
from needleplan.errors import PacsError
from needleplan.pacs.settings import BearerAuth, load_settings, make_session

SECRET = "pa55-Very-Secret"


def _write(path, text, mode=0o600):
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_file_then_environment_on_top(tmp_path):
    cfg = _write(
        tmp_path / "pacs.toml",
        f'url = "https://pacs.example.org/dicom-web"\nuser = "dr"\npassword = "{SECRET}"\ntimeout_s = 5\n'
        "cache_limit_mb = 300\n",
    )
    s = load_settings(cfg, environ={})
    assert (s.url, s.user, s.password, s.timeout_s, s.cache_limit_mb) == (
        "https://pacs.example.org/dicom-web",
        "dr",
        SECRET,
        5.0,
        300.0,
    )
    assert s.auth_kind == "basic" and s.verify_tls is True
    env = {"NEEDLEPLAN_PACS_TOKEN": "tok", "NEEDLEPLAN_PACS_URL": "https://other/dicom-web"}
    s2 = load_settings(cfg, environ=env)
    assert s2.auth_kind == "bearer" and s2.url == "https://other/dicom-web"  # a token wins over basic


def test_json_settings_and_a_pacs_section(tmp_path):
    cfg = _write(tmp_path / "pacs.json", json.dumps({"pacs": {"url": "http://127.0.0.1:1/dicom-web"}}), 0o644)
    assert load_settings(cfg, environ={}).url == "http://127.0.0.1:1/dicom-web"  # no secret: any mode is fine


def test_secrets_never_in_repr(tmp_path):
    s = pacs.PacsSettings(url="https://p/dicom-web", user="dr", password=SECRET, token="tok-" + SECRET)
    assert SECRET not in repr(s)
    assert SECRET not in repr(BearerAuth("tok-" + SECRET))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_readable_file_with_a_secret_is_refused(tmp_path):
    cfg = _write(tmp_path / "pacs.toml", f'password = "{SECRET}"\nuser = "dr"\n', 0o644)
    with pytest.raises(PacsError, match="chmod 600") as err:
        load_settings(cfg, environ={})
    assert SECRET not in str(err.value)


def test_bad_files_name_the_problem_not_the_secret(tmp_path):
    broken = _write(tmp_path / "pacs.toml", f'password = "{SECRET}\n')  # unterminated string
    with pytest.raises(PacsError, match="not valid TOML") as err:
        load_settings(broken, environ={})
    assert SECRET not in str(err.value)
    unknown = _write(tmp_path / "u.toml", 'pasword = "x"\n')
    with pytest.raises(PacsError, match="unknown key"):
        load_settings(unknown, environ={})
    with pytest.raises(PacsError, match="verify_tls"):
        load_settings(_write(tmp_path / "v.toml", 'verify_tls = "no"\n'), environ={})


def test_missing_file_is_empty_settings(tmp_path):
    s = load_settings(tmp_path / "nope.toml", environ={})
    assert s.url is None and s.auth_kind == "none"
    with pytest.raises(PacsError, match="no PACS URL"):
        s.checked_url()


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://pacs/dicom-web", "http:// or https://"),
        (f"https://dr:{SECRET}@pacs/dicom-web", "do not put credentials in the PACS URL"),
    ],
)
def test_bad_urls(url, message):
    with pytest.raises(PacsError, match=message) as err:
        pacs.PacsSettings(url=url).checked_url()
    assert SECRET not in str(err.value)


def test_session_verifies_tls_by_default_and_sends_the_right_auth(tmp_path):
    assert make_session(pacs.PacsSettings(url="https://p")).verify is True
    assert make_session(pacs.PacsSettings(url="https://p", verify_tls=False)).verify is False
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not checked here")
    assert make_session(pacs.PacsSettings(url="https://p", ca_bundle=str(bundle))).verify == str(bundle)
    with pytest.raises(PacsError, match="CA bundle"):
        make_session(pacs.PacsSettings(url="https://p", ca_bundle=str(tmp_path / "missing.pem")))
    basic = make_session(pacs.PacsSettings(url="https://p", user="dr", password=SECRET))
    prepared = basic.prepare_request(requests.Request("GET", "https://p/studies"))
    assert prepared.headers["Authorization"].startswith("Basic ")
    assert basic.trust_env is False  # no ~/.netrc or proxy credentials slipped in


def test_date_ranges():
    assert pacs.parse_date_range("20240101-20240131") == "20240101-20240131"
    assert pacs.parse_date_range("-20240131") == "-20240131"
    assert pacs.parse_date_range("2024-01-01..") == "20240101-"
    assert pacs.parse_date_range("2016") == "20160101-20161231"  # a whole year
    for bad in ("2024-13-01", "1016", "201601", "yesterday", "20240201-20240101", "-", ".."):
        with pytest.raises(PacsError):
            pacs.parse_date_range(bad)


def test_backoff_doubles_and_is_capped():
    policy = pacs.RetryPolicy(attempts=6, base_delay_s=0.5, max_delay_s=3.0)
    assert [policy.delay_s(k) for k in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_default_cache_uses_settings(tmp_path):
    cache = pacs.default_cache(pacs.PacsSettings(cache_dir=str(tmp_path / "c"), cache_limit_mb=1.5))
    assert cache.root == tmp_path / "c" and cache.max_bytes == 1_500_000
    with pytest.raises(PacsError, match="not a DICOM UID"):
        cache.path_for("../../etc", "1.2", "1.3")
