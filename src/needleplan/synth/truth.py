"""Ground truth and the reference plan, as plan-file dicts (docs/contracts.md §4).

The truth lists every structure of the scene in world millimetres; the reference plan carries
what a physician would mark (skin, target, pleura, ribs and bones, vessels, nerves, viscera) and
a needle drawn the way a physician would: in plane, entering 15-25 mm from the target at about
30 degrees (clinical-rules 1E Kishner: "enter 1-2 cm from the trigger point and advance at about
30 degrees"), the tip in the target, the shortest standard needle that leaves about 1 cm of shaft
outside the skin (R5; 1E), 2 mL of 1% lidocaine per point (1H "TPI about 2 mL per point").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from needleplan.clinical import THRESHOLDS
from needleplan.synth.probe import ImageGrid, skin_row_mm
from needleplan.synth.scene import Blob, Scene
from needleplan.vocabulary import NEEDLE_PRESETS_MM

__all__ = ["truth_structures", "reference_structures", "reference_needle", "STANDARD_NEEDLES_MM"]

#: Standard needle lengths: 1 in, 1.5 in (25 G TPI standard, 1E Rizk), 2 in (1F serratus plane
#: block 50 mm), 3.5 in spinal (1D piriformis "21-22 gauge, 3.5 inch"): the vocabulary's presets.
STANDARD_NEEDLES_MM = NEEDLE_PRESETS_MM
HUB_MARGIN_MM = THRESHOLDS["HUB_MARGIN_MM"].value  # R5, the one thresholds table
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


def clip_polygon(points: np.ndarray, box_mm: tuple[float, float, float, float]) -> np.ndarray:
    """Clip a closed polygon ``(N, 2)`` (row, col) to the box ``(min_row, min_col, max_row, max_col)``
    (Sutherland-Hodgman).  Marks must lie inside the calibrated region (docs/contracts.md §3).

    >>> clip_polygon(np.array([[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0]]), (1.0, 1.0, 9.0, 9.0)).tolist()
    [[1.0, 1.0], [1.0, 4.0], [4.0, 4.0], [4.0, 1.0]]
    """
    out = np.asarray(points, dtype=np.float64)
    for axis, bound, keep_above in (
        (0, box_mm[0], True),
        (1, box_mm[1], True),
        (0, box_mm[2], False),
        (1, box_mm[3], False),
    ):
        if len(out) == 0:
            break
        src, out_pts = out, []
        inside = (src[:, axis] >= bound) if keep_above else (src[:, axis] <= bound)
        for i in range(len(src)):
            cur, prev = src[i], src[i - 1]
            if inside[i] != inside[i - 1]:
                t = (bound - prev[axis]) / (cur[axis] - prev[axis])
                cut = prev + t * (cur - prev)
                cut[axis] = bound
                out_pts.append(cut)
            if inside[i]:
                out_pts.append(cur)
        out = np.asarray(out_pts, dtype=np.float64).reshape(-1, 2)
    return out


def _box_mm(grid: ImageGrid) -> tuple[float, float, float, float]:
    r0, c0, r1, c1 = grid.box_px
    s, (o_r, o_c) = grid.spacing_mm, grid.origin_px
    return ((r0 - o_r) * s, (c0 - o_c) * s, (r1 - o_r) * s, (c1 - o_c) * s)


def _blob_dict(blob: Blob, grid: ImageGrid, step: int = 1, frame_index: int | None = None) -> dict:
    pts = clip_polygon(blob.polygon()[::step], _box_mm(grid))
    d: dict[str, Any] = {
        "kind": blob.kind,
        "label": blob.label,
        "points_mm": [[_r(r), _r(c)] for r, c in pts],
        "closed": True,
    }
    r0, c0, r1, c1 = _box_mm(grid)
    raw = blob.polygon()
    if np.any((raw[:, 0] < r0) | (raw[:, 0] > r1) | (raw[:, 1] < c0) | (raw[:, 1] > c1)):
        d["label"] += " (clipped to the image)"
    if frame_index is not None:
        d["frame_index"] = frame_index
    return d


def _skin(scene: Scene, grid: ImageGrid, step_mm: float) -> dict:
    cols = _box_cols_mm(grid, step_mm)
    if scene.probe.kind == "curvilinear":
        # the arc of the probe face, then the skin beside the probe held at the face's edge
        half = scene.probe.footprint_mm / 2.0
        arc = np.linspace(-half, half, int(round(2 * half / step_mm)) + 1)
        cols = np.concatenate([[cols[0]], arc, [cols[-1]]])
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
            out.append(
                {
                    "kind": "fascia" if layer.tissue == "muscle" else "other",
                    "label": f"{above} / {layer.label}",
                    "points_mm": _polyline(tops[i], cols),
                    "closed": False,
                }
            )
    moving = 0 if cine else None
    if scene.pleura is not None:
        pleura = {"kind": "pleura", "label": "pleural line", "points_mm": _polyline(floor, cols), "closed": False}
        if moving is not None:
            pleura["frame_index"] = moving
        out.append(pleura)
    for blob in scene.blobs:
        out.append(_blob_dict(blob, grid, frame_index=moving if blob.pulsatile else None))
    return out


def reference_structures(scene: Scene, grid: ImageGrid) -> list[dict]:
    """What a physician would mark: skin, target, pleura, bones, vessels, nerves, viscera;
    fewer points than the truth (a hand-drawn outline)."""
    out = [_skin(scene, grid, 5.0)]
    if scene.pleura is not None:
        cols = _box_cols_mm(grid, 5.0)
        out.append(
            {
                "kind": "pleura",
                "label": "pleural line",
                "points_mm": _polyline(scene.pleura.row_mm(cols, scene.probe), cols),
                "closed": False,
            }
        )
    for blob in scene.blobs:
        out.append(_blob_dict(blob, grid, step=3))
    return out


def superficial_entry_offset_mm(depth_mm: float) -> float:
    """Entry distance from the target for a superficial site: the offset for 30 degrees, kept
    within 15-25 mm (module docstring).

    >>> round(superficial_entry_offset_mm(10.0), 2)  # 10 / tan 30 = 17.32
    17.32
    >>> superficial_entry_offset_mm(20.0)  # 34.6 mm would be needed: capped at 25
    25.0
    """
    x = depth_mm / math.tan(math.radians(PREFERRED_ANGLE_DEG))
    return float(min(max(x, ENTRY_OFFSET_MM[0]), ENTRY_OFFSET_MM[1]))


#: The reference needle's extension stays this far inside the backstop rib's edge (R4).
BACKSTOP_MARGIN_MM = 1.0


def _keep_extension_over_backstop(scene: Scene, x_mm: float, depth_mm: float) -> float:
    """The entry offset ``x_mm``, brought closer to the target if need be so that the needle's
    straight extension still meets the rib under the target (R4: "prefer ending over rib").

    The presets place that rib under the extension already (``sites._backstop``), so this only
    changes anything when the anatomy was changed after (a probe pressing the fat thinner makes the
    target shallower, and the same entry offset then aims past the rib's edge).  With the target at
    depth ``d`` and the rib's centre at depth ``D``, the extension is ``(D - d) x / d`` beyond the
    target there; it must not pass the rib's far edge less ``BACKSTOP_MARGIN_MM``.
    """
    tr, tc = scene.target.centre_mm
    for rib in (b for b in scene.blobs if b.kind == "rib"):
        cols = [c for _, c in rib.points_mm]
        if not min(cols) <= tc <= max(cols) or rib.centre_mm[0] <= tr:
            continue
        far_edge = min(cols) if scene.approach_side > 0 else max(cols)
        room = abs(tc - far_edge) - BACKSTOP_MARGIN_MM
        beyond = (rib.centre_mm[0] - tr) * x_mm / depth_mm
        if room > 0 and beyond > room:
            return room * depth_mm / (rib.centre_mm[0] - tr)
    return x_mm


def reference_needle(scene: Scene, grid: ImageGrid) -> dict:
    """The needle a physician would draw for this scene (see the module docstring).

    Superficial (linear probe) sites: :func:`superficial_entry_offset_mm`, kept inside the
    calibrated box.  Deep sites: the flattest angle from 30 degrees up whose path still leaves
    1 cm of the longest allowed needle outside the skin (R12/R13: deep targets force a trade-off
    between visibility and needle length).
    """
    probe = scene.probe
    tr, tc = scene.target.centre_mm
    side = scene.approach_side
    half_box = min(grid.box_px[3] - grid.origin_px[1], grid.origin_px[1] - grid.box_px[1]) * grid.spacing_mm
    x_max = half_box - 1.0 - abs(tc)

    def skin_at(x: float) -> float:
        return float(skin_row_mm(probe, np.array([tc + side * x]))[0])

    if probe.kind == "linear":
        x = min(superficial_entry_offset_mm(tr - skin_at(0.0)), x_max)
        x = _keep_extension_over_backstop(scene, x, tr - skin_at(0.0))
    else:
        # beside the curved probe, never under its face; the nearest such entry if nothing fits
        x_min = probe.footprint_mm / 2.0 + 2.0
        x = x_min
        for tenth in range(int(PREFERRED_ANGLE_DEG * 10), 851):
            tan = math.tan(math.radians(tenth / 10.0))
            # fixed point: the skin row at the entry depends on the entry offset
            xi = (tr - skin_at(x_max)) / tan
            xi = (tr - skin_at(xi)) / tan
            if x_min <= xi <= x_max and math.hypot(tr - skin_at(xi), xi) + HUB_MARGIN_MM <= scene.max_needle_mm:
                x = xi
                break
    entry_c = tc + side * x
    entry_r = skin_at(x)
    path = math.hypot(tr - entry_r, x)
    allowed = [n for n in STANDARD_NEEDLES_MM if n <= scene.max_needle_mm]
    length = next((n for n in allowed if path + HUB_MARGIN_MM <= n), allowed[-1])
    return {
        "entry_mm": [_r(entry_r), _r(entry_c)],
        "target_mm": [_r(tr), _r(tc)],
        "length_mm": length,
        "gauge": 25 if length <= 38.0 else 22,
    }
