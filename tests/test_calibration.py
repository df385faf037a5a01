"""Calibration rules: regions, PixelSpacing, manual, region lookup, the plan's calibration object."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from needleplan.calibration import (
    Calibration,
    UltrasoundRegion,
    calibration_from_dataset,
    manual_calibration,
    region_lookup,
    regions_from_dataset,
)
from needleplan.errors import CalibrationError, PlanFormatError
from tests.dicom_factory import QUIRKS, region, us_dataset


def test_anisotropic_region_gives_row_spacing_from_y_and_col_spacing_from_x() -> None:
    cal = calibration_from_dataset(QUIRKS["anisotropic"]())
    # dY = 0.02857 cm -> 0.2857 mm per row; dX = 0.02286 cm -> 0.2286 mm per column
    assert cal.source == "US_REGION" and cal.region_index == 0
    assert cal.spacing_mm == pytest.approx((0.2857, 0.2286))
    # origin = box min (10, 20) + reference pixel (0, 130) = (10, 150)
    assert cal.origin_px == (10.0, 150.0)
    # a 40-row, 30-column step: hypot(40 * 0.2857, 30 * 0.2286) = hypot(11.428, 6.858) = 13.328 mm
    a, b = cal.px_to_mm([[50, 100], [90, 130]])
    assert float(np.hypot(*(b - a))) == pytest.approx(13.3279, abs=1e-3)


def test_negative_physical_delta_uses_its_magnitude() -> None:
    cal = calibration_from_dataset(QUIRKS["negative_delta"]())
    # dX = -0.05248 cm -> |dX| * 10 = 0.5248 mm/px; never a negative spacing
    assert cal.spacing_mm == pytest.approx((0.5248, 0.5248))


def test_negative_reference_pixel_puts_the_origin_above_the_box() -> None:
    cal = calibration_from_dataset(QUIRKS["negative_reference_pixel"]())
    # box min row 40 + ref Y0 -4 = row 36 (the skin line 4 px above the box); col 20 + 130 = 150
    assert cal.origin_px == (36.0, 150.0)
    # row 76 is 40 rows below the skin line: 40 * 0.25 mm = 10 mm deep
    assert cal.px_to_mm([76, 150]).tolist() == pytest.approx([10.0, 0.0])


def test_whole_screen_none_region_is_never_one_cm_per_pixel() -> None:
    ds = QUIRKS["whole_screen_none"]()
    regions = regions_from_dataset(ds)
    assert not regions[0].is_length_region and regions[0].spacing_mm is None
    cal = calibration_from_dataset(ds)
    # the tissue region (index 1) calibrates: 0.02 cm -> 0.2 mm/px, not 10 mm/px from delta 1.0
    assert cal.region_index == 1 and cal.spacing_mm == pytest.approx((0.2, 0.2))
    # a point in the 'none' region but outside the tissue box is in no calibrated region
    assert region_lookup(regions, [[5, 5]]).status == "none"
    assert region_lookup(regions, [[100, 100]]).region_index == 1


def test_whole_screen_none_region_alone_gives_no_calibration() -> None:
    ds = us_dataset(
        100, 100, regions=[region(0, 0, 99, 99, spatial_format=0, data_type=0, units=(0, 0), delta_cm=(1.0, 1.0))]
    )
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and cal.spacing_mm is None
    assert "no ultrasound region gives lengths in cm" in cal.reason
    with pytest.raises(CalibrationError, match="no length calibration"):
        cal.px_to_mm([[1, 1]])


def test_dual_view_picks_the_first_view_and_lookup_refuses_a_line_across_views() -> None:
    ds = QUIRKS["dual_view"]()
    regions = regions_from_dataset(ds)
    cal = calibration_from_dataset(ds)
    # both views are 211 x 300 px: equal area, so the lower index (0) is chosen
    assert cal.region_index == 0
    # view 0 origin: (20 + 21, 10 + 154) = (41, 164); view 1: (20 + 21, 330 + 154) = (41, 484)
    assert cal.origin_px == (41.0, 164.0)
    assert regions[1].origin_px == (41.0, 484.0)
    assert any("region 1" in n for n in cal.notes)
    across = region_lookup(regions, [[100, 100], [100, 400]])
    assert across.status == "spans" and across.point_regions == (0, 1)
    assert region_lookup(regions, [[100, 400], [150, 500]]).region_index == 1
    # the gray bar (format 5, type 13) inside view 0 is ignored
    assert region_lookup(regions, [[50, 15]]).region_index == 0


def test_colour_box_inside_tissue_box_with_the_same_scale_is_inside() -> None:
    tissue = UltrasoundRegion(
        index=0,
        box_px=(0, 0, 99, 99),
        spatial_format=1,
        data_type=1,
        flags=1,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=(0.0, 50.0),
    )
    colour = UltrasoundRegion(
        index=1,
        box_px=(20, 20, 60, 60),
        spatial_format=1,
        data_type=2,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=(-20.0, 30.0),
    )
    # same spacing and same origin (0, 50): one calibration, named by the larger tissue region (0),
    # the one calibration_from_dataset picks, whichever order the regions come in
    for regions in ([tissue, colour], [colour, tissue]):
        lookup = region_lookup(regions, [[30, 30], [40, 40], [90, 90]])
        assert lookup.status == "inside" and lookup.region_index == 0 and lookup.point_regions == (0, 0, 0)
    # a colour box with its own scale: both low priority -> ambiguous where they overlap
    other_scale = UltrasoundRegion(
        index=1,
        box_px=(20, 20, 60, 60),
        spatial_format=1,
        data_type=2,
        flags=1,
        units_row=3,
        units_col=3,
        delta_row=0.03,
        delta_col=0.03,
        reference_px=(-20.0, 30.0),
    )
    assert region_lookup([tissue, other_scale], [[30, 30]]).status == "spans"
    assert region_lookup([tissue, other_scale], [[90, 90]]).region_index == 0
    # ... unless one of them is high priority (flags bit 0 == 0): it wins inside its box
    high = UltrasoundRegion(
        index=1,
        box_px=(20, 20, 60, 60),
        spatial_format=1,
        data_type=2,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.03,
        delta_col=0.03,
        reference_px=(-20.0, 30.0),
    )
    assert region_lookup([tissue, high], [[30, 30]]).region_index == 1
    assert region_lookup([tissue, high], [[30, 30], [90, 90]]).status == "spans"


def test_off_by_one_box_is_clamped_with_a_note() -> None:
    ds = us_dataset(100, 200, regions=[region(10, 20, 90, 200, delta_cm=(0.03, 0.03))])
    cal = calibration_from_dataset(ds)
    # MaxX1 = 200 = Columns: clamped to 199
    assert cal.region_box_px == (10, 20, 90, 199)
    assert any("off by one" in n for n in cal.notes)


def test_box_outside_a_resized_image_is_refused_with_the_reason() -> None:
    ds = us_dataset(240, 320, regions=[region(31, 84, 414, 595, delta_cm=(0.051, 0.051))])
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and cal.spacing_mm is None
    assert "lies outside the 240x320 image" in cal.reason and "resized" in cal.reason
    regions = regions_from_dataset(ds)
    assert regions[0].problem is not None and not regions[0].is_usable
    assert region_lookup(regions, [[100, 100]]).status == "none"


def test_pixel_spacing_of_a_resized_image_is_not_trusted_either() -> None:
    ds = us_dataset(240, 320, regions=[region(31, 84, 414, 595)], pixel_spacing=(0.5, 0.5))
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and "PixelSpacing not trusted" in cal.reason


def test_pixel_spacing_with_only_non_length_regions_is_used_with_a_note() -> None:
    ecg = region(500, 100, 560, 700, spatial_format=4, data_type=10, units=(0, 4), delta_cm=(0.0, 0.0045))
    ds = us_dataset(600, 800, regions=[ecg], pixel_spacing=(0.3, 0.3))
    cal = calibration_from_dataset(ds)
    assert cal.source == "PIXEL_SPACING" and cal.spacing_mm == (0.3, 0.3)
    assert any("give no lengths in cm" in n for n in cal.notes)


def test_refused_region_next_to_a_good_one_is_noted() -> None:
    ds = us_dataset(240, 320, regions=[region(10, 10, 200, 300), region(31, 84, 414, 595)])
    cal = calibration_from_dataset(ds)
    assert cal.region_index == 0 and any("region 1" in n and "not used" in n for n in cal.notes)


def test_malformed_region_item_never_calibrates_and_never_raises() -> None:
    bad = region(10, 10, 90, 90)
    bad.PhysicalDeltaX = "not a number"  # pydicom keeps the raw value; float() fails
    ds = us_dataset(100, 100, regions=[bad])
    regions = regions_from_dataset(ds)
    assert regions[0].problem and "malformed" in regions[0].problem and not regions[0].is_usable
    assert calibration_from_dataset(ds).source == "NONE"


def test_degenerate_zero_width_region_is_not_a_length_region() -> None:
    r = UltrasoundRegion(
        index=2,
        box_px=(522, 743, 576, 743),
        spatial_format=1,
        data_type=1,
        flags=0,
        units_row=3,
        units_col=3,
        delta_row=0.02,
        delta_col=0.02,
        reference_px=None,
    )
    assert not r.is_length_region and r.spacing_mm is None


def test_pixel_spacing_used_without_regions() -> None:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.Modality, ds.PixelSpacing = 64, 64, "CT", [0.7, 0.6]
    cal = calibration_from_dataset(ds)
    assert (cal.source, cal.spacing_mm, cal.origin_px) == ("PIXEL_SPACING", (0.7, 0.6), (0.0, 0.0))
    # index (10, 10) -> (7.0, 6.0) mm
    assert cal.px_to_mm([10, 10]).tolist() == pytest.approx([7.0, 6.0])


def test_imager_pixel_spacing_only_for_projection_modalities() -> None:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.Modality, ds.ImagerPixelSpacing = 64, 64, "DX", [0.15, 0.15]
    cal = calibration_from_dataset(ds)
    assert cal.source == "PIXEL_SPACING" and cal.spacing_mm == (0.15, 0.15) and cal.notes
    # with EstimatedRadiographicMagnificationFactor 1.5: 0.15 / 1.5 = 0.1 mm/px in the patient plane
    ds.EstimatedRadiographicMagnificationFactor = 1.5
    corrected = calibration_from_dataset(ds)
    assert corrected.spacing_mm == pytest.approx((0.1, 0.1)) and corrected.notes == ()
    ds.Modality = "US"
    assert calibration_from_dataset(ds).source == "NONE"


def test_pixel_spacing_disagreeing_with_the_region_is_noted() -> None:
    ds = us_dataset(100, 100, regions=[region(0, 0, 99, 99, delta_cm=(0.026, 0.026))], pixel_spacing=(0.3, 0.3))
    cal = calibration_from_dataset(ds)
    assert cal.source == "US_REGION" and cal.spacing_mm == pytest.approx((0.26, 0.26))
    assert any("disagrees" in n and "0.3" in n for n in cal.notes)
    agree = us_dataset(100, 100, regions=[region(0, 0, 99, 99, delta_cm=(0.026, 0.026))], pixel_spacing=(0.26, 0.26))
    assert calibration_from_dataset(agree).notes == ()


def test_zero_pixel_spacing_is_no_calibration() -> None:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.PixelSpacing = 8, 8, [0.0, 0.5]
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and "not two positive numbers" in cal.reason


def test_manual_calibration_from_a_diagonal() -> None:
    # (0, 0) to (30, 40) is 50 px; 10 mm / 50 px = 0.2 mm/px
    cal = manual_calibration((0, 0), (30, 40), 10.0)
    assert cal.source == "MANUAL" and cal.spacing_mm == pytest.approx((0.2, 0.2))
    with pytest.raises(CalibrationError, match="at least 1 px apart"):
        manual_calibration((5, 5), (5, 5), 10.0)
    with pytest.raises(CalibrationError, match="positive"):
        manual_calibration((0, 0), (0, 10), -1.0)


def test_none_calibration_cannot_hold_a_spacing_and_sources_are_checked() -> None:
    with pytest.raises(CalibrationError):
        Calibration(
            source="NONE",
            spacing_mm=(1.0, 1.0),
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason="x",
        )
    with pytest.raises(CalibrationError):
        Calibration(
            source="PIXEL_SPACING",
            spacing_mm=(0.0, 1.0),
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason="x",
        )
    with pytest.raises(CalibrationError):
        Calibration(
            source="GUESS",
            spacing_mm=(1.0, 1.0),
            origin_px=(0.0, 0.0),
            region_index=None,
            region_box_px=None,
            reason="x",
        )


def test_to_dict_round_trip_and_from_dict_names_the_bad_field() -> None:
    cal = calibration_from_dataset(QUIRKS["anisotropic"]())
    d = cal.to_dict()
    assert {"source", "spacing_mm", "origin_px", "region_index"} <= d.keys()
    assert Calibration.from_dict(d) == cal
    # the minimal object of docs/contracts.md §4.3 (no reason/notes) loads too
    minimal = Calibration.from_dict(
        {"source": "US_REGION", "spacing_mm": [0.2, 0.2], "origin_px": [36.0, 340.0], "region_index": 0}
    )
    assert minimal.spacing_mm == (0.2, 0.2) and minimal.region_box_px is None
    with pytest.raises(PlanFormatError, match=r"calibration\.spacing_mm"):
        Calibration.from_dict({**d, "spacing_mm": ["a", 1]})
    with pytest.raises(PlanFormatError, match=r"calibration\.source"):
        Calibration.from_dict({**d, "source": "GUESS"})
    with pytest.raises(PlanFormatError, match="calibration"):
        Calibration.from_dict({**d, "source": "NONE"})  # NONE with a spacing


def test_px_to_mm_keeps_the_shape_and_rejects_bad_arrays() -> None:
    cal = manual_calibration((0, 0), (0, 10), 5.0)
    assert cal.px_to_mm([2, 4]).shape == (2,)
    assert cal.px_to_mm(np.zeros((7, 2))).shape == (7, 2)
    with pytest.raises(ValueError):
        cal.px_to_mm(np.zeros((3, 3)))


def test_reference_pixel_standing_for_a_nonzero_depth_moves_the_row_origin_to_the_skin() -> None:
    # Region at rows 40-239, 0.025 cm/px (0.25 mm/px); reference pixel (0, 160) relative to the box,
    # so the reference pixel is image row 40.  ReferencePixelPhysicalValueY = 0.5 cm says row 40 is
    # already 5 mm deep: the skin (depth 0) lies 5 mm / 0.25 mm = 20 rows above, at row 20.
    item = region(40, 0, 239, 319, delta_cm=(0.025, 0.025), ref_px=(0, 160))
    item.ReferencePixelPhysicalValueY = 0.5
    item.ReferencePixelPhysicalValueX = 2.9  # lateral value: the column origin stays at the probe centre
    cal = calibration_from_dataset(us_dataset(regions=[item]))
    assert cal.origin_px == (20.0, 160.0)
    # a point at image row 80 is (80 - 20) * 0.25 = 15 mm below the skin, not (80 - 40) * 0.25 = 10 mm
    assert cal.px_to_mm([80.0, 160.0]).tolist() == pytest.approx([15.0, 0.0])
    assert any("depth of 5 mm" in n for n in cal.notes)


def test_reference_pixel_at_zero_depth_leaves_the_origin_on_the_reference_pixel() -> None:
    item = region(40, 0, 239, 319, delta_cm=(0.025, 0.025), ref_px=(0, 160))
    item.ReferencePixelPhysicalValueY = 0.0
    cal = calibration_from_dataset(us_dataset(regions=[item]))
    assert cal.origin_px == (40.0, 160.0)
    assert not any("stands for a depth" in n for n in cal.notes)


@pytest.mark.parametrize(
    "px, mm, accepted",
    [
        (100.0, 500.0, True),  # 500 mm / 100 px = 5 mm/px: the top of the plausible range
        (1000.0, 5.0, True),  # 5 mm / 1000 px = 0.005 mm/px: the bottom
        (100.0, 501.0, False),  # 5.01 mm/px: a distance typed in the wrong unit (cm read as mm x 10)
        (1000.0, 4.9, False),  # 0.0049 mm/px
        (100.0, 2e5, False),  # 2,000 mm/px
    ],
)
def test_manual_calibration_only_within_the_plausible_pixel_size(px, mm, accepted) -> None:
    if accepted:
        cal = manual_calibration((0, 0), (px, 0), mm)
        assert cal.spacing_mm == pytest.approx((mm / px, mm / px))
    else:
        with pytest.raises(CalibrationError, match=r"outside the plausible 0\.005-5 mm/px"):
            manual_calibration((0, 0), (px, 0), mm)


def test_manual_calibration_refuses_an_infinite_origin() -> None:
    with pytest.raises(CalibrationError, match="not a finite position"):
        manual_calibration((0, 0), (100, 0), 10.0, origin_px=(float("inf"), 0.0))


def test_pixel_spacing_outside_the_plausible_range_is_refused_with_the_value() -> None:
    ds = Dataset()
    ds.Rows, ds.Columns, ds.PixelSpacing = 391, 566, [20.0, 0.25]  # 20 mm/px rows (fuzz repro D1b)
    cal = calibration_from_dataset(ds)
    assert cal.source == "NONE" and cal.spacing_mm is None
    assert "PixelSpacing not used: 20 x 0.25 mm/px is outside the plausible 0.005-5 mm/px" in cal.reason
    ds.PixelSpacing = [5.0, 0.25]  # 5 mm/px is still a (coarse) pixel
    assert calibration_from_dataset(ds).spacing_mm == (5.0, 0.25)
