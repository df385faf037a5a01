"""Habitus presets: thin, average, obese.

Every number cites the row of ``docs/clinical-rules.md`` it comes from; where no source states a
number it is marked **[inference]**, as that file does.

Patient fields (BMI, weight, sex) follow the WHO classes of table 1B: thin = underweight
(BMI < 18.5), average = normal (18.5-24.9), obese = BMI >= 30.
"""

from __future__ import annotations

from dataclasses import dataclass

from needleplan.errors import UnknownPresetError

__all__ = ["Habitus", "HABITUS", "habitus_preset"]


@dataclass(frozen=True, slots=True)
class Habitus:
    """Depths (mm) and patient fields of one body-habitus preset.

    ``rhomboid_skin_to_muscle_mm`` / ``rhomboid_skin_to_rib_mm``: Seol 2014 (1A) means for the
    BMI group; ``upper_trapezius_skin_to_pleura_mm``: Chen 2018 (1A) GB21 means;
    ``gluteal_fat_mm``: Nisbet 2006 (1D) dorsogluteal fat; ``piriformis_depth_mm``: Park 2011 (1D);
    ``lumbar_epidural_depth_mm``: Lee & Kim 2004 (1D) skin to the posterior epidural space at L3-4.
    """

    name: str
    bmi: float
    weight_kg: float
    sex: str
    thoracic_fat_mm: float
    rhomboid_skin_to_muscle_mm: float
    rhomboid_skin_to_rib_mm: float
    upper_trapezius_skin_to_pleura_mm: float
    upper_trapezius_fat_mm: float
    gluteal_fat_mm: float
    piriformis_depth_mm: float
    lumbar_fat_mm: float
    lumbar_epidural_depth_mm: float

    def patient(self) -> dict:
        """The plan file's ``patient`` object for this habitus."""
        return {
            "bmi": self.bmi,
            "weight_kg": self.weight_kg,
            "sex": self.sex,
            "lung_disease": False,
            "anticoagulated": False,
        }


HABITUS: dict[str, Habitus] = {
    # Thin: BMI 17.5 (1B WHO "underweight <18.5"; thin habitus named as a pneumothorax risk factor
    # in the 1B case reports).  Female (1A Chen: GB21 pleura 14.6 mm in women).
    # Rhomboid SM 12 mm / SB 21 mm (1A Seol, BMI <23).  Kim's SPD regression (1A) gives
    # 0.380*17.5 - 4.301 = 2.35 cm, consistent with SB 21 mm + 5 mm rib-to-pleura (1A Lichtenstein).
    # Gluteal fat 15 mm [inference: below Nisbet's 25 mm, which 72% exceed (1D)].
    # Piriformis centre depth 55 mm = Park's 6.3 - 0.8 cm (1D, mean - 1 SD).
    "thin": Habitus(
        name="thin",
        bmi=17.5,
        weight_kg=48.0,
        sex="F",
        thoracic_fat_mm=4.0,
        rhomboid_skin_to_muscle_mm=12.0,
        rhomboid_skin_to_rib_mm=21.0,
        upper_trapezius_skin_to_pleura_mm=14.6,
        upper_trapezius_fat_mm=2.5,
        gluteal_fat_mm=15.0,
        piriformis_depth_mm=55.0,
        lumbar_fat_mm=10.0,
        lumbar_epidural_depth_mm=37.0,  # 1D Lee & Kim: 37-44 mm at normal weight; the low end
    ),
    # Average: BMI 22.5 (1B WHO normal 18.5-24.9), male (1A Chen: GB21 pleura 17.4 mm in men).
    # Rhomboid SM 14 mm / SB 24 mm (1A Seol, BMI 23-25).  Gluteal fat 30 mm (1D Nisbet: >25 mm
    # in 72%, >35 mm in 43%, so the median lies between).  Piriformis 63 mm (1D Park centre mean).
    "average": Habitus(
        name="average",
        bmi=22.5,
        weight_kg=70.0,
        sex="M",
        thoracic_fat_mm=6.0,
        rhomboid_skin_to_muscle_mm=14.0,
        rhomboid_skin_to_rib_mm=24.0,
        upper_trapezius_skin_to_pleura_mm=17.4,
        upper_trapezius_fat_mm=4.0,
        gluteal_fat_mm=30.0,
        piriformis_depth_mm=63.0,
        lumbar_fat_mm=18.0,
        lumbar_epidural_depth_mm=45.0,  # 1D Lee & Kim: 43-49 mm overweight, 37-44 normal: between
    ),
    # Obese: BMI 32 (1B WHO obese >=30), female (1D Nisbet: gluteal fat deeper in women).
    # Rhomboid SM 18 mm / SB 27 mm (1A Seol, BMI >=25, the heaviest group published).
    # Upper trapezius pleura 22 mm [inference: 1A Chen "depth rises with weight, height and BMI";
    # no obese mean published].  Gluteal fat 40 mm (1D Nisbet: >35 mm in 43%).  Piriformis 71 mm
    # = Park's 6.3 + 0.8 cm (1D, mean + 1 SD; "depth increases with BMI").
    "obese": Habitus(
        name="obese",
        bmi=32.0,
        weight_kg=88.0,
        sex="F",
        thoracic_fat_mm=10.0,
        rhomboid_skin_to_muscle_mm=18.0,
        rhomboid_skin_to_rib_mm=27.0,
        upper_trapezius_skin_to_pleura_mm=22.0,
        upper_trapezius_fat_mm=8.0,
        gluteal_fat_mm=40.0,
        piriformis_depth_mm=71.0,
        lumbar_fat_mm=28.0,
        lumbar_epidural_depth_mm=56.0,  # 1D Lee & Kim: 52-59 mm obese
    ),
}


def habitus_preset(name: str) -> Habitus:
    """The habitus preset called ``name``.

    Raises
    ------
    UnknownPresetError
        ``name`` is not one of :data:`HABITUS`.
    """
    try:
        return HABITUS[name]
    except KeyError:
        raise UnknownPresetError(f"unknown habitus {name!r}; choose one of: {', '.join(HABITUS)}") from None
