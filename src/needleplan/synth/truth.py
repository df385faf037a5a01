"""Ground truth and the reference plan, as plan-file dicts (design.md section 4).

The truth lists every structure of the scene in world millimetres; the reference plan carries
what a physician would mark (skin, target, pleura, ribs and bones, vessels, nerves, viscera) and
a needle drawn the way a physician would: in plane, entering 15-25 mm from the target at about
30 degrees (clinical-rules 1E Kishner: "enter 1-2 cm from the trigger point and advance at about
30 degrees"), the tip in the target, the shortest standard needle that leaves about 1 cm of shaft
outside the skin (R5; 1E), 2 mL of 1% lidocaine per point (1H "TPI about 2 mL per point").
"""

from __future__ import annotations

import math

import numpy as np

from needleplan.synth.probe import ImageGrid, skin_row_mm
from needleplan.synth.scene import Blob, Scene

__all__ = ["truth_structures", "reference_structures", "reference_needle", "STANDARD_NEEDLES_MM"]

#: Standard needle lengths: 1 in, 1.5 in (25 G TPI standard, 1E Rizk), 2 in (1F serratus plane
#: block 50 mm), 3.5 in spinal (1D piriformis "21-22 gauge, 3.5 inch").
STANDARD_NEEDLES_MM = (25.0, 38.0, 50.0, 89.0)
HUB_MARGIN_MM = 10.0  # R5 "leaves about 1 cm of shaft outside the skin" [inference in the source]
ENTRY_OFFSET_MM = (15.0, 25.0)  # 1E Kishner "enter 1-2 cm from the trigger point"; brief 15-25 mm
PREFERRED_ANGLE_DEG = 30.0  # 1E Kishner; 1F Kline "<30 degrees"; R13 INFO above 30


def _r(v: float) -> float:
    return round(float(v), 3)


def _polyline(rows: np.ndarray, cols: np.ndarray) -> list[list[float]]:
    return [[_r(r), _r(c)] for r, c in zip(rows, cols, strict=True)]


def _box_cols_mm(grid: ImageGrid, step_mm: float) -> np.ndarray:
    c0 = (grid.box_px[1] - grid.origin_px[1]) * grid.spacing_mm
    c1 = (grid.box_px[3] - grid.origin_px[1]) * grid.spacing_mm
    n = int(math.ceil((c1 - c0) / step_mm)) + 1
    return np.linspace(c0, c1, n)


def _blob_dict(blob: Blob, step: int = 1, frame_index: int | None = None) -> dict:
    pts = blob.points_mm[::step]
    d = {
        "kind": blob.kind,
        "label": blob.label,
        "points_mm": [[_r(r), _r(c)] for r, c in pts],
        "closed": True,
    }
    if frame_index is not None:
        d["frame_index"] = frame_index
    return d


def _skin(scene: Scene, grid: ImageGrid, step_mm: float) -> dict:
    if scene.probe.kind == "curvilinear":
        half = scene.probe.footprint_mm / 2.0
        cols = np.linspace(-half, half, int(round(2 * half / step_mm)) + 1)
    else:
        cols = _box_cols_mm(grid, step_mm)
    return {
        "kind": "skin",
        "label": "skin line (probe face)",
        "points_mm": _polyline(skin_row_mm(scene.probe, cols), cols),
        "closed": False,
    }


def truth_structures(scene: Scene, grid: ImageGrid, *, cine: bool) -> list[dict]:
    """Every structure of the scene, in world mm, as plan ``structures`` entries."""
    probe = scene.probe
    step = 1.0 if probe.kind == "linear" else 2.0
    cols = _box_cols_mm(grid, step)
    bottom_mm = (grid.box_px[2] - grid.origin_px[0]) * grid.spacing_mm
    out = [_skin(scene, grid, step)]
    tops = [layer.top.row_mm(cols, probe) for layer in scene.layers]
    tops[0] = skin_row_mm(probe, cols)
    floor = scene.pleura.row_mm(cols, probe) if scene.pleura is not None else np.full_like(cols, bottom_mm)
    for i, layer in enumerate(scene.layers):
        bottom = tops[i + 1] if i + 1 < len(tops) else floor
        ring = _polyline(np.concatenate([tops[i], bottom[::-1]]), np.concatenate([cols, cols[::-1]]))
        out.append({"kind": "other", "label": f"{layer.tissue}: {layer.label}", "points_mm": ring, "closed": True})
        if i >= 1:
            above = scene.layers[i - 1].label
            out.append({
                "kind": "fascia" if layer.tissue == "muscle" else "other",
                "label": f"{above} / {layer.label}",
                "points_mm": _polyline(tops[i], cols),
                "closed": False,
            })
    moving = 0 if cine else None
    if scene.pleura is not None:
        pleura = {"kind": "pleura", "label": "pleural line", "points_mm": _polyline(floor, cols), "closed": False}
        if moving is not None:
            pleura["frame_index"] = moving
        out.append(pleura)
    for blob in scene.blobs:
        out.append(_blob_dict(blob, frame_index=moving if blob.pulsatile else None))
    return out


def reference_structures(scene: Scene, grid: ImageGrid) -> list[dict]:
    """What a physician would mark: skin, target, pleura, bones, vessels, nerves, viscera;
    fewer points than the truth (a hand-drawn outline)."""
    out = [_skin(scene, grid, 5.0)]
    if scene.pleura is not None:
        cols = _box_cols_mm(grid, 5.0)
        out.append({
            "kind": "pleura",
            "label": "pleural line",
            "points_mm": _polyline(scene.pleura.row_mm(cols, scene.probe), cols),
            "closed": False,
        })
    for blob in scene.blobs:
        out.append(_blob_dict(blob, step=3))
    return out


def reference_needle(scene: Scene, grid: ImageGrid) -> dict:
    """The needle a physician would draw for this scene (see the module docstring).

    Superficial (linear probe) sites: entry 15-25 mm from the target, as near 30 degrees as that
    allows, kept inside the calibrated box.  Deep sites: the flattest angle from 30 degrees up
    whose path still leaves 1 cm of the longest allowed needle outside the skin (R12/R13: deep
    targets force a trade-off between visibility and needle length).
    """
    probe = scene.probe
    tr, tc = scene.target.centre_mm
    side = scene.approach_side
    half_box = min(grid.box_px[3] - grid.origin_px[1], grid.origin_px[1] - grid.box_px[1]) * grid.spacing_mm
    x_max = half_box - 1.0 - abs(tc)
    depth = tr  # below row 0; refined with the skin row at the entry below
    if probe.kind == "linear":
        x = min(max(depth / math.tan(math.radians(PREFERRED_ANGLE_DEG)), ENTRY_OFFSET_MM[0]), ENTRY_OFFSET_MM[1], x_max)
    else:
        x = x_max
        for tenth in range(int(PREFERRED_ANGLE_DEG * 10), 801):
            angle = math.radians(tenth / 10.0)
            xi = depth / math.tan(angle)
            if xi <= x_max and math.hypot(depth, xi) + HUB_MARGIN_MM <= scene.max_needle_mm:
                x = xi
                break
    entry_c = tc + side * x
    entry_r = float(skin_row_mm(probe, np.array([entry_c]))[0])
    path = math.hypot(tr - entry_r, x)
    allowed = [n for n in STANDARD_NEEDLES_MM if n <= scene.max_needle_mm]
    length = next((n for n in allowed if path + HUB_MARGIN_MM <= n), allowed[-1])
    return {
        "entry_mm": [_r(entry_r), _r(entry_c)],
        "target_mm": [_r(tr), _r(tc)],
        "length_mm": length,
        "gauge": 25 if length <= 38.0 else 22,
    }
