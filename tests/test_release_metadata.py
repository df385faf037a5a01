"""CITATION.cff and CHANGELOG.md agree with the version the packages declare.

The full CFF schema is checked with ``cffconvert --validate`` (not a test dependency); here only
what drifts when a version is bumped: the required keys and the version itself.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _version(pyproject: Path) -> str:
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]


def test_core_and_plugin_declare_one_version():
    assert _version(REPO / "pyproject.toml") == _version(REPO / "plugins" / "needleplan-napari" / "pyproject.toml")


def test_citation_names_the_declared_version_and_the_keys_cff_requires():
    text = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    keys = set(re.findall(r"^([a-z-]+):", text, flags=re.MULTILINE))
    assert {"cff-version", "message", "title", "authors"} <= keys
    assert re.search(r"^cff-version: 1\.2\.0$", text, flags=re.MULTILINE)
    assert re.search(r"^version: (\S+)$", text, flags=re.MULTILINE).group(1) == _version(REPO / "pyproject.toml")
    assert re.search(r"^license: BSD-3-Clause$", text, flags=re.MULTILINE)


def test_changelog_has_a_section_for_the_declared_version_and_unreleased():
    headings = re.findall(r"^## (.+)$", (REPO / "CHANGELOG.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert any(h.split(" - ")[0] == _version(REPO / "pyproject.toml") for h in headings), headings
