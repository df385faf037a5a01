"""Draw a plan to scale: the frame, the marks, the needle, margins and the deepest safe insertion.

Axes are world millimetres (docs/contracts.md §3): x = column mm (lateral), y = row mm (depth,
increasing downwards), equal aspect, so 10 mm on the scale bar is 10 mm on the drawing.  The frame
is placed with ``extent`` from the calibration so that the centre of pixel ``(r, c)`` lies at
``((r, c) - origin_px) * spacing_mm``.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.patches import Rectangle

from needleplan.colours import OUTLINE, SEVERITY_COLOURS, kind_style
from needleplan.plan import Plan

__all__ = ["image_extent_mm", "draw_plan", "scale_bar_length_mm"]

#: a dark halo under every mark, so the screen colours read on white paper too
_HALO = [patheffects.Stroke(linewidth=3.0, foreground=OUTLINE), patheffects.Normal()]
_LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 0.5}


def image_extent_mm(
    shape_px: tuple[int, int], spacing_mm: tuple[float, float], origin_px: tuple[float, float]
) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)`` in mm for ``imshow(origin="upper")``: pixel edges, not centres.

    A 100 x 200 image, 0.2 mm pixels, origin (10, 50): the left edge of column 0 is
    (0 - 0.5 - 50) * 0.2 = -10.1 mm, the right edge of column 199 is (199 + 0.5 - 50) * 0.2 = 29.9.

    >>> tuple(round(v, 2) for v in image_extent_mm((100, 200), (0.2, 0.2), (10, 50)))
    (-10.1, 29.9, 17.9, -2.1)
    """
    rows, cols = shape_px
    (sr, sc), (orow, ocol) = spacing_mm, origin_px
    return ((-0.5 - ocol) * sc, (cols - 0.5 - ocol) * sc, (rows - 0.5 - orow) * sr, (-0.5 - orow) * sr)


def scale_bar_length_mm(width_mm: float) -> float:
    """A round bar length near a fifth of the view width.

    >>> scale_bar_length_mm(60), scale_bar_length_mm(12), scale_bar_length_mm(300)
    (10.0, 2.0, 50.0)
    """
    target = width_mm / 5.0
    choices = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
    return max([c for c in choices if c <= target] or [choices[0]])


def _view_box(plan: Plan, extent: tuple[float, float, float, float] | None) -> list[float]:
    """(col_min, col_max, row_min, row_max) mm covering the calibrated region and every mark."""
    pts = [p for s in plan.structures for p in s.points_mm]
    if plan.needle is not None:
        pts += [plan.needle.entry_mm, plan.needle.target_mm]
    cal = plan.calibration
    if extent is not None and cal.region_box_px is not None and cal.spacing_mm is not None:
        r0, c0, r1, c1 = cal.region_box_px
        pts += [tuple(cal.px_to_mm([r0, c0])), tuple(cal.px_to_mm([r1, c1]))]
    elif extent is not None:
        pts += [(extent[3], extent[0]), (extent[2], extent[1])]
    arr = np.asarray(pts, dtype=float) if pts else np.zeros((1, 2))
    pad = 2.0
    return [arr[:, 1].min() - pad, arr[:, 1].max() + pad, arr[:, 0].min() - pad, arr[:, 0].max() + pad]


def _draw_margins(ax: Any, plan: Plan, box: list[float], clip: Any = None) -> None:
    """Shade the margin band of every hazard: points closer than its margin (to scale).

    ``clip`` (a patch in data coordinates: the image's edges) keeps the shading inside the image;
    the labels are black on
    a white box, never a colour on the shading of the same colour.
    """
    from needleplan import geometry as g
    from needleplan.planner import prepare

    hazards = prepare(plan).hazards
    if not hazards:
        return
    step = max((box[1] - box[0]) / 300.0, 0.1)
    cols = np.arange(box[0], box[1] + step, step)
    rows = np.arange(box[2], box[3] + step, step)
    cc, rr = np.meshgrid(cols, rows)
    grid = np.column_stack([rr.ravel(), cc.ravel()])
    for h in hazards:
        if len(h.points) < 2 and not h.closed:
            continue
        dist = g.point_shape_distance(grid, h.points, h.closed).reshape(rr.shape)
        colour = kind_style(h.kind).colour
        filled = ax.contourf(cc, rr, dist, levels=[-1.0, h.margin_mm], colors=[colour], alpha=0.18)
        cs = ax.contour(cc, rr, dist, levels=[h.margin_mm], colors=[colour], linewidths=0.8, linestyles="--")
        if clip is not None:
            for artist in (filled, cs):
                artist.set_clip_path(clip)
        labels = ax.clabel(
            cs, fmt={h.margin_mm: f"{kind_style(h.kind).words} margin {h.margin_mm:g} mm"}, fontsize=6, colors="black"
        )
        for label in labels:
            label.set_bbox(_LABEL_BOX)


def _draw_needle(ax: Any, plan: Plan, safe: Any) -> None:
    n = plan.needle
    assert n is not None  # drawn only for a plan with a needle
    entry, tip = np.asarray(n.entry_mm, float), np.asarray(n.target_mm, float)
    ax.plot(
        [entry[1], tip[1]],
        [entry[0], tip[0]],
        color=kind_style("needle").colour,
        lw=1.2,
        zorder=6,
        path_effects=_HALO,
        label=f"needle ({n.length_mm:g} mm)",
    )
    ax.plot(entry[1], entry[0], "o", color="white", mec="black", ms=4, zorder=7)
    ax.plot(tip[1], tip[0], "x", color="black", ms=6, zorder=7)
    if safe is None or not math.isfinite(safe.max_safe_insertion_mm):
        return
    path = float(np.linalg.norm(tip - entry))
    if path <= 0:
        return
    u = (tip - entry) / path
    deepest = tip + u * safe.remaining_mm  # measured from the skin crossing, which may differ from the drawn entry
    ax.plot(
        [tip[1], deepest[1]],
        [tip[0], deepest[0]],
        color="white",
        lw=1.0,
        ls=":",
        zorder=6,
        path_effects=_HALO,
        label="straight extension past the tip",
    )
    normal = np.array([-u[1], u[0]]) * 2.0
    a, b = deepest - normal, deepest + normal
    ax.plot(
        [a[1], b[1]],
        [a[0], b[0]],
        color=SEVERITY_COLOURS["block"],
        lw=2.0,
        zorder=7,
        path_effects=[patheffects.Stroke(linewidth=3.5, foreground="white"), patheffects.Normal()],
        label=f"deepest safe insertion {safe.max_safe_insertion_mm:.1f} mm "
        f"(limited by {str(safe.limited_by).replace('_', ' ')})",
    )


def _draw_scale_bar(ax: Any, box: list[float]) -> None:
    length = scale_bar_length_mm(box[1] - box[0])
    x0 = box[0] + 0.05 * (box[1] - box[0])
    y0 = box[3] - 0.05 * (box[3] - box[2])
    ax.plot([x0, x0 + length], [y0, y0], color="white", lw=5, solid_capstyle="butt", zorder=8)
    ax.plot([x0, x0 + length], [y0, y0], color="black", lw=2.5, solid_capstyle="butt", zorder=9)
    ax.text(
        x0 + length / 2,
        y0 - 0.015 * (box[3] - box[2]),
        f"{length:g} mm",
        ha="center",
        va="bottom",
        fontsize=8,
        zorder=9,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0},
    )


def draw_plan(ax: Any, plan: Plan, frame: np.ndarray | None, safe: Any) -> None:
    """Draw the plan on a matplotlib axes in world mm (``safe``: planner.SafeInsertion or None)."""
    cal = plan.calibration
    extent = None
    if frame is not None and cal.spacing_mm is not None:  # calibrated
        extent = image_extent_mm(frame.shape[:2], cal.spacing_mm, cal.origin_px)
        ax.imshow(frame, cmap="gray", extent=extent, origin="upper", interpolation="nearest")
    box = _view_box(plan, extent)
    if cal.is_calibrated:
        clip = None
        if extent is not None:
            left, right, bottom, top = extent
            clip = Rectangle((left, top), right - left, bottom - top, transform=ax.transData)
        _draw_margins(ax, plan, box, clip)
    for s in plan.structures:
        pts = np.asarray(s.points_mm, dtype=float)
        if s.closed:
            pts = np.vstack([pts, pts[:1]])
        look = kind_style(s.kind)
        style = "--" if s.suggested else "-"
        ax.plot(
            pts[:, 1],
            pts[:, 0],
            style,
            color=look.colour,
            lw=1.4,
            zorder=4,
            path_effects=_HALO,
            label=s.label or look.words + (" (suggested)" if s.suggested else ""),
        )
    if plan.needle is not None:
        _draw_needle(ax, plan, safe)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[3], box[2])  # depth grows downwards
    ax.set_aspect("equal")
    if cal.is_calibrated:
        _draw_scale_bar(ax, box)
        ax.set_xlabel("lateral position (mm)")
        ax.set_ylabel("depth (mm)")
    else:
        ax.set_title("NOT TO SCALE: the image has no length calibration", color=SEVERITY_COLOURS["block"])
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    # two columns of labels wrapped to 36 characters stay within the drawing's width on the page
    ax.legend(
        unique.values(),
        [textwrap.fill(label, 36) for label in unique],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=2,
        fontsize=7,
        frameon=False,
    )
