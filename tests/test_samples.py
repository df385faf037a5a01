"""Samples for an installed package: generated on first use, bit for bit the repository's."""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

from needleplan.cli import main
from needleplan.errors import NeedleplanError
from needleplan.plan import load_plan
from needleplan.samples import SAMPLES, SAMPLES_ENV, sample_plan, sample_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(SAMPLES_ENV, str(folder))
    return folder


@pytest.mark.parametrize("key", ["trapezius_thin", "piriformis", "rhomboid_rib"])
def test_a_generated_sample_is_the_repository_sample_bit_for_bit(cache, key):
    spec = sample_spec(key)
    plan = sample_plan(key)
    assert plan == cache / f"{spec.stem}.plan.json"
    for suffix in (".dcm", ".plan.json", ".truth.json"):
        assert filecmp.cmp(
            cache / f"{spec.stem}{suffix}", ROOT / "sample_dicom" / f"{spec.stem}{suffix}", shallow=False
        ), suffix
    assert not [p for p in cache.iterdir() if p.name.startswith(".sample-")]  # no temp left


def test_a_sample_is_generated_once_and_then_reused(cache):
    plan = sample_plan("trapezius_thin")
    before = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert sample_plan("trapezius_thin") == plan
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == before


def test_the_sample_table_matches_the_readme_of_sample_dicom():
    readme = (ROOT / "sample_dicom" / "README.md").read_text(encoding="utf-8")
    for spec in SAMPLES:
        assert f"| `{spec.stem}.dcm` | {spec.preset} | {spec.habitus} | {spec.frames} |" in readme


def test_unknown_key_and_unwritable_cache_say_what_to_do(tmp_path, monkeypatch):
    with pytest.raises(NeedleplanError, match="the samples are trapezius_thin, "):
        sample_plan("knee")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv(SAMPLES_ENV, str(blocker / "sub"))
    with pytest.raises(NeedleplanError, match=f"set {SAMPLES_ENV} to a writable folder"):
        sample_plan("trapezius_thin")


def test_check_runs_on_the_sample_from_anywhere(cache, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    plan = sample_plan("trapezius_thin")
    assert main(["check", str(plan), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"PLEURA_OVERSHOOT"' in out  # the thin trapezius sample warns about the pleura
    assert load_plan(plan).site == "upper_trapezius"


def test_no_message_names_a_path_that_exists_only_in_a_clone():
    sources = [*(ROOT / "src").rglob("*.py"), *(ROOT / "plugins").glob("*/src/**/*.py")]
    bad = re.compile(r"pip install -e|make samples|run `make|scripts/make_samples")
    hits = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in sources
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if bad.search(line)
    ]
    assert hits == []
    assert any("needleplan_napari" in str(p) for p in sources)  # both distributions were read


def test_view_without_argument_opens_the_generated_sample(cache):
    from needleplan.cli.view import default_sample

    plan = default_sample()
    assert plan.parent == cache and plan.name == "upper_trapezius_thin_frame.plan.json"
