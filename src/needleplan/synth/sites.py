"""Site presets: the anatomy of each injection site for a habitus, in world millimetres.

Each builder returns a :class:`~needleplan.synth.scene.Scene`.  Numbers cite the rows of
``docs/clinical-rules.md``; **[inference]** marks a number no source states (the layer thicknesses
that fill the gap between two published depths, vessel sizes, rib spacing).

The needle enters from the image's right (positive ``col_mm``), so the vessels and nerves a
physician must avoid are placed on the far (left, "medial") side or deep to the target.
"""

from __future__ import annotations

import math

import numpy as np

from needleplan.errors import UnknownPresetError
from needleplan.synth.habitus import Habitus
from needleplan.synth.probe import CURVILINEAR, LINEAR
from needleplan.synth.scene import Blob, Boundary, Layer, Scene, blob
from needleplan.synth.truth import superficial_entry_offset_mm

__all__ = ["SITE_PRESETS", "build_scene", "PLAN_SITE"]

#: Taut band: focal hypoechoic ellipse of 0.16 cm^2 (1F Sikdar 2009: 0.16 +/- 0.11 cm^2):
#: pi * 1.7 mm * 3.0 mm = 16.0 mm^2.
TARGET_SEMI_AXES_MM = (1.7, 3.0)
#: Pleural line about 0.5 cm below the rib line (1A Lichtenstein / Bouhemad; 1I Rib, Pleura).
RIB_TO_PLEURA_MM = 5.0
#: Rib seen in a longitudinal view: 14 mm wide, 5.6 mm deep [inference], its top 5 mm above
#: the pleura (1A Lichtenstein).
RIB_SEMI_AXES_MM = (2.8, 7.0)
SKIN_MM = 1.5  # dermis [inference]


def _b(depth_mm: float, rng: np.random.Generator, slope: float = 0.0) -> Boundary:
    """A boundary with a small seeded wobble (+/- 0.3 mm), so seeds differ in more than speckle."""
    return Boundary(
        depth_mm=float(depth_mm),
        slope=float(slope),
        wobble_mm=float(rng.uniform(0.1, 0.3)),
        period_mm=float(rng.uniform(30.0, 60.0)),
        phase=float(rng.uniform(0.0, 2.0 * math.pi)),
    )


def _target(depth_mm: float, col_mm: float = 0.0, scale: float = 1.0) -> Blob:
    semi = (TARGET_SEMI_AXES_MM[0] * scale, TARGET_SEMI_AXES_MM[1] * scale)
    return blob("taut band (target)", "target", "target", (depth_mm, col_mm), semi)


def _rib(pleura_mm: float, col_mm: float, name: str, half_width_mm: float = RIB_SEMI_AXES_MM[1]) -> Blob:
    centre = (pleura_mm - RIB_TO_PLEURA_MM + RIB_SEMI_AXES_MM[0], col_mm)
    return blob(name, "rib", "bone", centre, (RIB_SEMI_AXES_MM[0], half_width_mm))


def _backstop(target_depth_mm: float, centre_depth_mm: float, half_width_mm: float) -> tuple[float, float]:
    """Centre column and half-width of a backstop bone (rib, transverse process) that lies both
    under the tip and across the needle's straight extension at the bone's centre depth (R4:
    "prefer ending over rib"; 1D Sirh: the transverse process as the backstop)."""
    ext = _under_extension(target_depth_mm, centre_depth_mm)
    return 0.5 * ext, max(half_width_mm, 0.5 * abs(ext) + 1.5)


def _lung_depth(pleura_mm: float) -> float:
    """Imaging depth that shows the first A-line (at twice the skin-to-pleura depth, 1I)."""
    return float(math.ceil(2.0 * pleura_mm + 6.0))


def _under_extension(target_depth_mm: float, depth_mm: float) -> float:
    """Column where the reference needle's straight extension (entering from the right at the
    superficial entry offset, kept inside a 50 mm linear image) reaches ``depth_mm``: where a
    physician puts the backstop (R4: "prefer ending over rib", 1D Sirh: the transverse process)."""
    x = min(superficial_entry_offset_mm(target_depth_mm), LINEAR.footprint_mm / 2.0 - 1.0)
    return -(depth_mm - target_depth_mm) * x / target_depth_mm


def _skin_fat(rng: np.random.Generator) -> list[Layer]:
    """Skin and subcutaneous fat; the caller appends the first muscle at ``SKIN_MM + fat``."""
    return [
        Layer("skin", "dermis", Boundary(0.0)),
        Layer("subcutaneous fat", "fat", _b(SKIN_MM, rng)),
    ]


def upper_trapezius(h: Habitus, rng: np.random.Generator) -> Scene:
    """Upper trapezius at GB21 over the first rib and the lung apex (linear probe)."""
    pleura = h.upper_trapezius_skin_to_pleura_mm  # 1A Chen 2018 (GB21 skin to apical pleura)
    fat = h.upper_trapezius_fat_mm
    # Trapezius ~11.6-11.9 mm (1A Salavati), but the pleura is only 14.6-17.4 mm deep at GB21
    # (1A Chen): keep 2.5 mm for the deep layer and give the trapezius the rest [inference].
    trap = min(11.7, pleura - SKIN_MM - fat - 2.5)
    trap_top = SKIN_MM + fat
    layers = _skin_fat(rng) + [
        Layer("upper trapezius", "muscle", _b(trap_top, rng), fibre_deg=6.0),
        Layer("levator scapulae / supraspinatus", "muscle", _b(trap_top + trap, rng), fibre_deg=-4.0),
    ]
    target = _target(trap_top + trap / 2.0, 0.0)
    # No rib in this view: at GB21 the probe sees the apical pleura itself (1A Chen), and a rib
    # line 5 mm above a 14.6 mm pleura would sit inside the trapezius.
    probe = LINEAR.with_depth(_lung_depth(pleura))
    return Scene(
        "upper_trapezius",
        "upper_trapezius",
        probe,
        tuple(layers),
        (target,),
        _b(pleura, rng),
        target,
        max_needle_mm=50.0,
    )


def _rhomboid(h: Habitus, rng: np.random.Generator, over_rib: bool) -> Scene:
    """Rhomboid major over a rib, or over an intercostal space (bat sign), linear probe."""
    sm, sb = h.rhomboid_skin_to_muscle_mm, h.rhomboid_skin_to_rib_mm  # 1A Seol 2014
    # Trapezius / rhomboid thickness by sex (1A Hung 2011: women 3.4 / 3.8 mm, men 4.9 / 6.3 mm).
    trap, rhomb = (3.4, 3.8) if h.sex == "F" else (4.9, 6.3)
    fat = sm - SKIN_MM - trap
    pleura = sb + RIB_TO_PLEURA_MM  # 1A Lichtenstein: pleural line 0.5 cm below the rib line
    layers = _skin_fat(rng) + [
        Layer("middle trapezius", "muscle", _b(SKIN_MM + fat, rng), fibre_deg=3.0),
        Layer("rhomboid major", "muscle", _b(sm, rng), fibre_deg=-5.0),
        # serratus posterior / erector fill down to the rib line [inference]
        Layer("serratus posterior / erector", "muscle", _b(sm + rhomb, rng), fibre_deg=8.0),
        Layer("intercostal muscles", "muscle", _b(sb, rng), fibre_deg=20.0, fascia=0.3),
    ]
    target = _target(sm + rhomb / 2.0, 0.0)
    # Dorsal scapular artery deep to rhomboid, nerve medial to it (1A Cho 2019); 2 mm artery and
    # 3.2 x 2.0 mm nerve [inference].  Placed on the far (left) side of the target.
    artery = blob("dorsal scapular artery", "artery", "artery", (sm + rhomb + 1.2, -10.0), (1.0, 1.0), pulsatile=True)
    nerve = blob("dorsal scapular nerve", "nerve", "nerve", (sm + rhomb + 1.2, -14.5), (1.0, 1.6))
    if over_rib:
        # the rib sits where the needle's extension meets the rib line (the backstop)
        # and under the tip, so the tip is over the rib too (R4)
        col, half = _backstop(target.centre_mm[0], sb + RIB_SEMI_AXES_MM[0], RIB_SEMI_AXES_MM[1])
        ribs: tuple[Blob, ...] = (_rib(pleura, col, "rib", half),)
        preset = "rhomboid_rib"
    else:
        # Ribs 14 mm wide with an 18 mm intercostal space between them [inference].
        ribs = (_rib(pleura, -16.0, "upper rib"), _rib(pleura, 16.0, "lower rib"))
        preset = "rhomboid_intercostal"
    probe = LINEAR.with_depth(_lung_depth(pleura))
    return Scene(
        preset,
        "rhomboid",
        probe,
        tuple(layers),
        (*ribs, artery, nerve, target),
        _b(pleura, rng),
        target,
        max_needle_mm=50.0,
    )


def rhomboid_rib(h: Habitus, rng: np.random.Generator) -> Scene:
    """Rhomboid major with a rib under the target (the rib is the backstop)."""
    return _rhomboid(h, rng, over_rib=True)


def rhomboid_intercostal(h: Habitus, rng: np.random.Generator) -> Scene:
    """Rhomboid major over an intercostal space: two rib shadows and the pleura (bat sign)."""
    return _rhomboid(h, rng, over_rib=False)


def thoracic_paraspinal(h: Habitus, rng: np.random.Generator) -> Scene:
    """Erector spinae over the transverse processes (parasagittal), pleura between them."""
    fat = h.rhomboid_skin_to_muscle_mm - SKIN_MM - 4.0
    # Transverse process tips at Seol's skin-to-rib depth + 2 mm [inference]; pleura 12 mm deeper
    # than the TP tip (1A T4 CT study: 12 (2.7) mm).
    tp = h.rhomboid_skin_to_rib_mm + 2.0
    pleura = tp + 12.0
    layers = _skin_fat(rng) + [
        Layer("trapezius", "muscle", _b(SKIN_MM + fat, rng), fibre_deg=2.0),
        Layer("erector spinae (longissimus)", "muscle", _b(SKIN_MM + fat + 4.0, rng), fibre_deg=10.0),
        Layer("intertransversarii / levatores costarum", "muscle", _b(tp, rng), fibre_deg=-15.0),
    ]
    target = _target((SKIN_MM + fat + 4.0 + tp) / 2.0, 0.0)
    # The needle's extension lands on a transverse process (the backstop, R4); the next one is
    # 28 mm away [inference: thoracic level spacing].
    # It is at least 13 mm wide [inference] and lies under the tip too.
    first, half = _backstop(target.centre_mm[0], tp + 3.0, 6.5)
    tps = tuple(
        blob(f"transverse process {name}", "bone", "bone", (tp + 3.0, col), (3.0, half), box=True)
        for name, col in (("above", first), ("below", first + 28.0))
    )
    probe = LINEAR.with_depth(pleura + 12.0)
    return Scene(
        "thoracic_paraspinal",
        "thoracic_paraspinal",
        probe,
        tuple(layers),
        (*tps, target),
        _b(pleura, rng),
        target,
        max_needle_mm=50.0,
    )


def gluteus_medius(h: Habitus, rng: np.random.Generator) -> Scene:
    """Gluteus medius over gluteus minimus and the ilium (curvilinear probe)."""
    # Ventrogluteal fat is thinner than dorsogluteal (1D Nisbet: >25 mm in 26% vs 72%): 0.6 x [inference].
    fat = 0.6 * h.gluteal_fat_mm
    med, minim = 20.0, 12.0  # muscle thicknesses [inference]
    top = SKIN_MM + fat
    layers = _skin_fat(rng) + [
        Layer("gluteus medius", "muscle", _b(top, rng, 0.03), fibre_deg=12.0),
        Layer("gluteus minimus", "muscle", _b(top + med, rng, 0.04), fibre_deg=-8.0),
    ]
    ilium_top = top + med + minim
    ilium = blob("ilium", "bone", "bone", (ilium_top + 20.0, 0.0), (20.0, 90.0))
    # Superior gluteal artery, deep branch between medius and minimus (1D): 3 mm [inference].
    artery = blob(
        "superior gluteal artery (deep branch)",
        "artery",
        "artery",
        (top + med + 0.5, -14.0),
        (1.5, 1.5),
        pulsatile=True,
    )
    target = _target(top + med / 2.0, 0.0)
    probe = CURVILINEAR.with_depth(math.ceil((ilium_top + 22.0) / 10.0) * 10.0)
    return Scene(
        "gluteus_medius",
        "gluteus_medius",
        probe,
        tuple(layers),
        (ilium, artery, target),
        None,
        target,
        max_needle_mm=89.0,
    )


def piriformis(h: Habitus, rng: np.random.Generator) -> Scene:
    """Piriformis under gluteus maximus, the sciatic nerve deep to it, an inferior gluteal
    artery branch under gluteus maximus (curvilinear probe)."""
    fat = h.gluteal_fat_mm  # 1D Nisbet (dorsogluteal)
    centre = h.piriformis_depth_mm  # 1D Park 2011 (skin to piriformis centre)
    half = 8.5  # muscle diameter at centre 1.7 cm (1D Park 2011)
    layers = _skin_fat(rng) + [
        Layer("gluteus maximus", "muscle", _b(SKIN_MM + fat, rng), fibre_deg=-10.0),
        Layer("piriformis", "muscle", _b(centre - half, rng, -0.05), fibre_deg=-14.0),
        Layer("gemelli / obturator internus", "muscle", _b(centre + half, rng, -0.05), fibre_deg=5.0),
    ]
    bone = blob("ischium / posterior acetabulum", "bone", "bone", (centre + half + 30.0, 20.0), (16.0, 45.0))
    # Sciatic nerve exits deep to piriformis (1D "usually exits deep/inferior"); 12 x 5 mm [inference].
    nerve = blob("sciatic nerve", "nerve", "nerve", (centre + half + 4.5, -14.0), (2.8, 6.0))
    # Ascending inferior gluteal artery branch under gluteus maximus (1D Chang 2017 via sonoskills;
    # R10): 3 mm [inference], medial to the target, away from the needle's path.
    artery = blob(
        "inferior gluteal artery branch", "artery", "artery", (centre - half - 1.6, -20.0), (1.5, 1.5), pulsatile=True
    )
    target = _target(centre, 0.0, scale=1.5)
    probe = CURVILINEAR.with_depth(math.ceil((centre + half + 30.0) / 10.0) * 10.0)
    return Scene(
        "piriformis",
        "piriformis",
        probe,
        tuple(layers),
        (bone, nerve, artery, target),
        None,
        target,
        max_needle_mm=89.0,
    )


def quadratus_lumborum(h: Habitus, rng: np.random.Generator) -> Scene:
    """Quadratus lumborum at L3 with the transverse process and the kidney (curvilinear probe)."""
    fat = h.lumbar_fat_mm
    lat, es, ql = 6.0, 10.0, 16.0  # latissimus, thoracolumbar aponeurosis/erector, QL [inference]
    top = SKIN_MM + fat
    layers = _skin_fat(rng) + [
        Layer("latissimus dorsi", "muscle", _b(top, rng), fibre_deg=4.0),
        Layer("erector spinae / thoracolumbar fascia", "muscle", _b(top + lat, rng), fibre_deg=-6.0),
        Layer("quadratus lumborum", "muscle", _b(top + lat + es, rng), fibre_deg=10.0),
        Layer("psoas major", "muscle", _b(top + lat + es + ql, rng), fibre_deg=-3.0),
    ]
    # The transverse process is the backstop (1D Sirh 2022); kidney is the deep hazard (1D Lopez-
    # Castellanos 2022, R18).  Sizes and places [inference].
    tp = blob("L3 transverse process", "bone", "bone", (top + lat + es + ql + 2.0, -28.0), (3.0, 14.0), box=True)
    kidney = blob("kidney", "viscera", "kidney", (top + lat + es + ql + 22.0, 25.0), (14.0, 26.0))
    target = _target(top + lat + es + ql / 2.0, -4.0, scale=1.5)
    probe = CURVILINEAR.with_depth(math.ceil((top + lat + es + ql + 40.0) / 10.0) * 10.0)
    return Scene(
        "quadratus_lumborum",
        "quadratus_lumborum",
        probe,
        tuple(layers),
        (tp, kidney, target),
        None,
        target,
        max_needle_mm=89.0,
    )


#: Lumbar paraspinal view (parasagittal over the laminae) [inference]: the lamina top lies 6 mm above
#: the posterior epidural space (ligamentum flavum about 3 mm thick, plus the lamina's slope), the
#: ligamentum flavum fills the interlaminar window just above the epidural space, and the dura
#: (posterior complex) lies 4 mm below the flavum (posterior epidural space a few mm deep, 1D).
LAMINA_ABOVE_EPIDURAL_MM = 6.0
FLAVUM_HALF_MM = 1.5
DURA_BELOW_EPIDURAL_MM = 4.0
#: Lamina 4 mm thick and at least 16 mm long in this view; interlaminar window 10 mm; the window
#: opens 8 mm beside the knot, so the knot keeps the 10 mm neuraxis margin (R20) [inference].
LAMINA_HALF_MM = (2.0, 8.0)
INTERLAMINAR_WINDOW_MM = 10.0
WINDOW_CLEAR_MM = 8.0


def lumbar_paraspinal(h: Habitus, rng: np.random.Generator) -> Scene:
    """Erector spinae and multifidus over the lumbar laminae (parasagittal, linear probe): the knot
    over a lamina (the backstop), the interlaminar window beside it with the ligamentum flavum and
    the dura beyond (the neuraxis, R20)."""
    epidural = h.lumbar_epidural_depth_mm  # 1D Lee & Kim 2004
    lamina = epidural - LAMINA_ABOVE_EPIDURAL_MM
    top = SKIN_MM + h.lumbar_fat_mm
    muscle = lamina - top
    erector = 0.4 * muscle  # erector spinae over multifidus, 2:3 over the laminae [inference]
    layers = _skin_fat(rng) + [
        # the thoracolumbar fascia is the bright line on the erector's top
        Layer("thoracolumbar fascia / erector spinae", "muscle", _b(top, rng), fibre_deg=5.0, fascia=1.6),
        Layer("multifidus", "muscle", _b(top + erector, rng), fibre_deg=-9.0),
    ]
    target = _target(top + erector + 0.5 * (muscle - erector), 0.0)
    # The lamina under the knot takes the reference needle's extension (the backstop, R20); it
    # reaches at least WINDOW_CLEAR_MM past the knot on the needle's side, where the interlaminar
    # window opens, then the next lamina.
    col, half = _backstop(target.centre_mm[0], lamina + LAMINA_HALF_MM[0], LAMINA_HALF_MM[1])
    centre = lamina + LAMINA_HALF_MM[0]
    left, right = col - half, max(col + half, WINDOW_CLEAR_MM)
    window_left, window_right = right, right + INTERLAMINAR_WINDOW_MM
    mid = 0.5 * (window_left + window_right)
    laminae = (
        blob(
            "lamina (caudal)",
            "bone",
            "bone",
            (centre, 0.5 * (left + right)),
            (LAMINA_HALF_MM[0], 0.5 * (right - left)),
            box=True,
        ),
        blob("lamina (cranial)", "bone", "bone", (centre, window_right + LAMINA_HALF_MM[1]), LAMINA_HALF_MM, box=True),
    )
    flavum = blob(
        "ligamentum flavum (interlaminar window)",
        "neuraxis",
        "ligament",
        (epidural - FLAVUM_HALF_MM, mid),
        (FLAVUM_HALF_MM, 0.5 * INTERLAMINAR_WINDOW_MM),
        box=True,
    )
    dura = blob(
        "dura (posterior complex)",
        "neuraxis",
        "ligament",
        (epidural + DURA_BELOW_EPIDURAL_MM, mid),
        (0.6, 0.5 * INTERLAMINAR_WINDOW_MM + 2.0),
        box=True,
    )
    probe = LINEAR.with_depth(math.ceil(epidural + DURA_BELOW_EPIDURAL_MM + 10.0))
    return Scene(
        "lumbar_paraspinal",
        "lumbar_paraspinal",
        probe,
        tuple(layers),
        (*laminae, flavum, dura, target),
        None,
        target,
        max_needle_mm=89.0,
    )


SITE_PRESETS = {
    "upper_trapezius": upper_trapezius,
    "rhomboid_rib": rhomboid_rib,
    "rhomboid_intercostal": rhomboid_intercostal,
    "thoracic_paraspinal": thoracic_paraspinal,
    "gluteus_medius": gluteus_medius,
    "piriformis": piriformis,
    "quadratus_lumborum": quadratus_lumborum,
    "lumbar_paraspinal": lumbar_paraspinal,  # last: the seeds of the presets before it stay the same
}

#: Plan file site id (docs/contracts.md §4) of each preset.
PLAN_SITE = {
    "rhomboid_rib": "rhomboid",
    "rhomboid_intercostal": "rhomboid",
}


def build_scene(preset: str, habitus: Habitus, rng: np.random.Generator) -> Scene:
    """The scene of site preset ``preset`` for ``habitus``; ``UnknownPresetError`` otherwise."""
    try:
        builder = SITE_PRESETS[preset]
    except KeyError:
        raise UnknownPresetError(f"unknown site preset {preset!r}; choose one of: {', '.join(SITE_PRESETS)}") from None
    return builder(habitus, rng)
