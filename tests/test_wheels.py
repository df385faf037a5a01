"""Installed, not cloned: both wheels in a fresh virtual environment, run from another folder.

Builds the two distributions as wheels (no build isolation: offline, with the setuptools and wheel
already installed), installs them without dependencies into a venv that sees the system's
site-packages (numpy, pydicom, napari... come from there), and then, from a temporary working
folder with no PYTHONPATH, checks that:

* ``needleplan`` is imported from the venv, not from the repository;
* the sample is generated from the package alone and ``needleplan info`` and ``check`` run on it;
* napari's sample contribution (npe2 API, no window) loads the sample with its plan, and the
  reader contribution opens the sample's plan file with its image;
* both wheels carry the LICENSE, and the plugin's metadata carries its README.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "needleplan-napari"

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    run = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"{args}: {run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """(venv python, clean environment, working folder, wheels) with both wheels installed."""
    work = tmp_path_factory.mktemp("wheels")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["NEEDLEPLAN_SAMPLES"] = str(work / "cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = work / "dist"
    for source in (ROOT, PLUGIN):
        _run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source],
            work,
            env,
        )
    wheels = sorted(dist.glob("*.whl"))
    assert [w.name.split("-")[0] for w in wheels] == ["needleplan", "needleplan_napari"]
    _run([sys.executable, "-m", "venv", "--system-site-packages", work / "venv"], work, env)
    python = work / "venv" / "bin" / "python"
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", *wheels], work, env)
    cwd = work / "elsewhere"
    cwd.mkdir()
    return python, env, cwd, wheels


def test_the_installed_package_is_the_wheel_not_the_clone(venv):
    python, env, cwd, _ = venv
    out = _run(
        [
            python,
            "-c",
            "import needleplan, needleplan_napari; print(needleplan.__file__); print(needleplan_napari.__file__)",
        ],
        cwd,
        env,
    ).stdout
    for line in out.split():
        assert str(python.parents[1]) in line and str(ROOT) not in line


def test_info_and_check_on_the_sample_from_another_folder(venv):
    python, env, cwd, _ = venv
    plan = _run(
        [python, "-c", "from needleplan.samples import sample_plan; print(sample_plan())"], cwd, env
    ).stdout.strip()
    assert plan.startswith(env["NEEDLEPLAN_SAMPLES"])
    needleplan = python.parent / "needleplan"
    image = Path(plan).with_name(Path(plan).name.replace(".plan.json", ".dcm"))
    info = json.loads(_run([needleplan, "info", image, "--json"], cwd, env).stdout)
    # the thin trapezius phantom: US region calibration, 0.1 mm pixels
    assert info["calibration"]["source"] == "US_REGION"
    assert info["calibration"]["spacing_mm"] == pytest.approx([0.1, 0.1])
    check = json.loads(_run([needleplan, "check", plan, "--image", image, "--json"], cwd, env).stdout)
    codes = {f["code"] for f in check["findings"]}
    assert {"PLEURA_OVERSHOOT", "THIN_PATIENT"} <= codes


def test_napari_sample_contribution_loads_the_sample(venv):
    python, env, cwd, _ = venv
    script = (
        "from npe2 import PluginManager\n"
        "pm = PluginManager.instance(); pm.discover()\n"
        "samples = dict(pm.iter_sample_data())['needleplan-napari']\n"
        "gen = next(s for s in samples if s.key == 'trapezius_thin')\n"
        "layers = gen.exec()\n"
        "print([(kind, data.__class__.__name__) for data, _, kind in layers])\n"
        "import json; print(json.dumps(sorted(layers[0][1]['scale'])))\n"
    )
    out = _run([python, "-c", script], cwd, env).stdout.splitlines()
    kinds = out[0]
    assert kinds.startswith("[('image'") and kinds.count("'shapes'") >= 3  # marks and the needle
    assert json.loads(out[1])[-2:] == pytest.approx([0.1, 0.1])  # shown in mm, not pixels


def test_napari_reader_opens_a_plan_file_with_its_image(venv):
    python, env, cwd, _ = venv
    script = (
        "from needleplan.samples import sample_plan\n"
        "from npe2 import PluginManager, read\n"
        "PluginManager.instance().discover()\n"
        "layers = read([str(sample_plan('trapezius_thin'))], stack=False, plugin_name='needleplan-napari')\n"
        "print([kind for _, _, kind in layers])\n"
        "print(list(layers[0][1]['scale']))\n"
    )
    out = _run([python, "-c", script], cwd, env).stdout.splitlines()
    # the plan's image first, then its marks (skin, pleura, target) and the needle
    assert out[0] == "['image', 'shapes', 'shapes', 'shapes', 'shapes']"
    assert [float(v) for v in out[1].strip("[]").split(",")] == pytest.approx([0.1, 0.1])  # mm


def test_both_wheels_carry_the_licence_and_the_plugin_its_readme(venv):
    *_, wheels = venv
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as z:
            names = z.namelist()
            assert any(n.endswith(".dist-info/LICENSE") for n in names), wheel.name
            metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        assert b"License: BSD-3-Clause" in metadata
        if wheel.name.startswith("needleplan_napari"):
            assert b"pip install needleplan-napari" in metadata  # the README is the description
            assert any(n.endswith("napari.yaml") for n in names)
