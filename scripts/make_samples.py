#!/usr/bin/env python3
"""Regenerate the bundled samples (``sample_dicom/``) and the gallery (``docs/gallery/``).

Every file is rebuilt bit for bit from fixed presets and seeds: run it again and ``git status``
shows nothing changed (with the same numpy, scipy, Pillow and pydicom versions; the JPEG cine
depends on Pillow's encoder).

    python scripts/make_samples.py                 # both folders
    python scripts/make_samples.py --samples-only  # sample_dicom/ only
    python scripts/make_samples.py --check         # regenerate into a temp folder and compare
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import sys
import tempfile
from pathlib import Path

from needleplan.samples import SAMPLES, write_sample
from needleplan.synth import SITE_PRESETS, Variation, generate_case

ROOT = Path(__file__).resolve().parents[1]

GALLERY_HABITUS, GALLERY_SEED = "average", 1
#: One more row: a preset with the probe pressed in, arched fasciae and B-lines (synth.variation).
VARIED_PRESET, GALLERY_VARIATION = "rhomboid_intercostal", Variation(pressure=0.3, fascia_bow_mm=4.0, b_lines=3)
GALLERY_CAPTIONS = {
    "upper_trapezius": "Upper trapezius at GB21 (linear 10 MHz): fat, trapezius, the apical pleural line with an A-line below.",
    "rhomboid_rib": "Rhomboid major over a rib: the rib's bright cortex and its black acoustic shadow under the target.",
    "rhomboid_intercostal": "Rhomboid over an intercostal space: two rib shadows and the pleural line 5 mm deeper (bat sign), A-line, dorsal scapular artery and nerve.",
    "thoracic_paraspinal": "Thoracic paraspinal (parasagittal): erector spinae over two transverse processes, the pleura 12 mm deeper between them.",
    "gluteus_medius": "Gluteus medius (curvilinear 3.5 MHz): medius and minimus over the ilium, the superior gluteal artery's deep branch between them.",
    "piriformis": "Piriformis 63 mm deep under gluteus maximus, the sciatic nerve (honeycomb) deep to it, an inferior gluteal artery branch.",
    "quadratus_lumborum": "Quadratus lumborum at L3: the transverse process's shadow (the backstop) and the kidney deep and lateral.",
    "lumbar_paraspinal": "Lumbar paraspinal (parasagittal): thoracolumbar fascia, erector spinae and multifidus over two laminae with their shadows; between them the interlaminar window, the ligamentum flavum and the dura (the neuraxis).",
}


def make_samples(folder: Path) -> list[Path]:
    """Write every sample (DICOM, truth, reference plan) and a README listing them into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lines = [
        "# Bundled synthetic samples",
        "",
        "Made by `python scripts/make_samples.py` (bit for bit reproducible). Each case is a phantom",
        "(`needleplan.synth`), not a patient: `<name>.dcm` is the image, `<name>.truth.json` a plan",
        "file whose structures are the ground truth in world millimetres, `<name>.plan.json` a",
        "reference plan drawn the way a physician would.",
        "",
        "| file | preset | habitus | frames | encoding | what it shows |",
        "|---|---|---|---|---|---|",
    ]
    for s in SAMPLES:  # the same table the installed package generates its samples from
        write_sample(s, folder)
        written += [folder / f"{s.stem}{suffix}" for suffix in (".dcm", ".truth.json", ".plan.json")]
        enc = "JPEG Baseline" if s.compression == "jpeg" else "uncompressed"
        lines.append(f"| `{s.stem}.dcm` | {s.preset} | {s.habitus} | {s.frames} | {enc} | {s.what} |")
    readme = folder / "README.md"
    readme.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*written, readme]


def make_gallery(folder: Path) -> list[Path]:
    """Two PNGs per site preset (average habitus), cropped to the calibrated region: the smooth
    model (``<preset>.png``) and the physical one of the same case (``<preset>.physical.png``)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for preset in SITE_PRESETS:
        for model, suffix in (("smooth", ""), ("physical", ".physical")):
            case = generate_case(preset, GALLERY_HABITUS, seed=GALLERY_SEED, model=model)
            r0, c0, r1, c1 = case.region_box_px
            path = folder / f"{preset}{suffix}.png"
            Image.fromarray(case.frames[0][r0 : r1 + 1, c0 : c1 + 1]).save(path, optimize=False)
            out.append(path)
    for model, suffix in (("smooth", ""), ("physical", ".physical")):
        case = generate_case(
            VARIED_PRESET, GALLERY_HABITUS, seed=GALLERY_SEED, model=model, variation=GALLERY_VARIATION
        )
        r0, c0, r1, c1 = case.region_box_px
        path = folder / f"{VARIED_PRESET}.varied{suffix}.png"
        Image.fromarray(case.frames[0][r0 : r1 + 1, c0 : c1 + 1]).save(path, optimize=False)
        out.append(path)
    lines = [
        "# Phantom gallery",
        "",
        f"One frame of each site preset ({GALLERY_HABITUS} habitus, seed {GALLERY_SEED}), cropped to the calibrated",
        "region; made by `python scripts/make_samples.py`. Synthetic images (`needleplan.synth`), not patients.",
        "Left the default smooth model, right the physical model (`--model physical`) of the same case.",
        "",
    ]
    for preset in SITE_PRESETS:
        lines += [
            f"![{preset}]({preset}.png) ![{preset}, physical]({preset}.physical.png)",
            "",
            f"*{preset}*: {GALLERY_CAPTIONS[preset]}",
            "",
        ]
    v = GALLERY_VARIATION
    lines += [
        f"![{VARIED_PRESET}, varied]({VARIED_PRESET}.varied.png) "
        f"![{VARIED_PRESET}, varied, physical]({VARIED_PRESET}.varied.physical.png)",
        "",
        f"*{VARIED_PRESET}, varied* (`--pressure {v.pressure} --fascia-bow {v.fascia_bow_mm} --b-lines {v.b_lines}`): "
        "the same case with the probe pressed in (the fat 30 % thinner, everything below it closer), "
        "fasciae that arch, and B-lines from the pleural line that erase the A-lines they cross.",
        "",
    ]
    readme = folder / "README.md"
    readme.write_text("\n".join(lines), encoding="utf-8")
    return [*out, readme]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples-only", action="store_true", help="skip the gallery")
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            new = make_samples(Path(tmp))
            bad = [p.name for p in new if not filecmp.cmp(p, ROOT / "sample_dicom" / p.name, shallow=False)]
        print("sample_dicom/ is up to date" if not bad else f"differ: {', '.join(bad)}")
        return 1 if bad else 0
    files = make_samples(ROOT / "sample_dicom")
    if not args.samples_only:
        files += make_gallery(ROOT / "docs" / "gallery")
    total = 0
    for p in files:
        total += p.stat().st_size
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size:>9,d} B  sha256 {_sha(p)}")
    print(f"{len(files)} files, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
