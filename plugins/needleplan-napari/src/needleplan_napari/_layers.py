"""The ONLY adapter between napari layers and needleplan core types.

Every vertex read from a layer goes through ``layer.data_to_world`` and every vertex written goes
through ``layer.world_to_data``, so a shapes layer made by napari's own "new shapes" button (which
copies the image's ``scale`` but not its ``translate``) gives the same millimetres as the layers
this plugin makes (docs/style.md, traps D1/D2).  World coordinates are the core's world
millimetres ``(row_mm, col_mm)`` for a calibrated image (docs/contracts.md §3), preceded by the
time axis for a cine; for an uncalibrated image they are pixel indices, and nothing here calls them
millimetres.

Widgets never do coordinate arithmetic: they call these functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from needleplan_napari._styles import MARK_KINDS, NEEDLE, STYLES, KindStyle

if TYPE_CHECKING:
    from collections.abc import Iterable

    import napari
    from napari.layers import Image, Layer, Shapes
    from numpy.typing import ArrayLike

    from needleplan.calibration import Calibration
    from needleplan.io import LoadedImage
    from needleplan.plan import Needle, Structure

__all__ = [
    "META",
    "MARK_KINDS",
    "STYLES",
    "KindStyle",
    "image_layer_data",
    "role_of_layer",
    "calibrated_image_kwargs",
    "image_calibration",
    "image_source",
    "calibration_label",
    "kind_of_layer",
    "shapes_layer_kwargs",
    "world_vertices",
    "frame_of_world",
    "layer_structures",
    "needle_from_layer",
    "structure_shape",
    "draw_structures",
    "FEATURE_DEFAULTS",
    "needle_shape",
    "to_layer_data",
    "world_to_index",
    "index_to_world",
    "image_indices_of",
    "place_at_image_indices",
    "set_image_calibration",
    "world_on_frame",
    "viewer_image_layer",
]

META = "needleplan"  # key in layer.metadata: {"role": "image"|"structure"|"needle"|"overlay", ...}

_ELLIPSE_POINTS = 48  # an ellipse is handed to the core as this many polygon vertices


# --- image layers -------------------------------------------------------------------------------


def calibrated_image_kwargs(cal: Calibration, ndim: int, frame_time_ms: float | None) -> dict:
    """``scale``, ``translate``, ``units``, ``axis_labels`` of an image layer for a calibration.

    ``world_mm = (index_px - origin_px) * spacing_mm`` (docs/contracts.md §3), so
    ``scale = spacing_mm`` and ``translate = -origin_px * spacing_mm``.  Without a length
    calibration the image stays in pixels (scale 1, units ``pixel``), never 1 px = 1 mm.
    A cine's first axis is time in ms when the frame time is known, else frame number.

    Examples
    --------
    >>> from needleplan.calibration import Calibration
    >>> cal = Calibration(source="US_REGION", spacing_mm=(0.25, 0.2), origin_px=(96.0, 460.0), region_index=0,
    ...                   region_box_px=None, reason="region 0")
    >>> kw = calibrated_image_kwargs(cal, 2, None)
    >>> kw["scale"], kw["translate"], kw["units"]   # -96*0.25 = -24, -460*0.2 = -92
    ((0.25, 0.2), (-24.0, -92.0), ('mm', 'mm'))
    """
    if cal.is_calibrated:
        sp = tuple(float(v) for v in cal.spacing_mm)
        scale = sp
        translate = tuple(-float(o) * s for o, s in zip(cal.origin_px, sp, strict=True))
        units: tuple[str, ...] = ("mm", "mm")
    else:
        scale, translate, units = (1.0, 1.0), (0.0, 0.0), ("pixel", "pixel")
    labels: tuple[str, ...] = ("depth", "lateral")
    if ndim == 3:
        step = float(frame_time_ms) if frame_time_ms else 1.0
        scale, translate = (step, *scale), (0.0, *translate)
        units = ("ms" if frame_time_ms else "dimensionless", *units)
        labels = ("time" if frame_time_ms else "frame", *labels)
    return {"scale": scale, "translate": translate, "units": units, "axis_labels": labels}


def calibration_label(cal: Calibration) -> str:
    """One short line naming the calibration source: layer name, canvas text, panel (with the reason)."""
    if not cal.is_calibrated:
        return "UNCALIBRATED - pixels only"
    r, c = cal.spacing_mm
    where = f" region {cal.region_index}" if cal.region_index is not None else ""
    return f"{cal.source}{where}: {r:.4g} x {c:.4g} mm/px"


def image_layer_data(loaded: LoadedImage) -> tuple[Any, dict, str]:
    """napari ``LayerData`` for a loaded image: lazy frames, mm geometry, calibration in metadata."""
    info = loaded.info
    data = loaded.frames if info.frames > 1 else loaded.frame(0)
    rgb = bool(getattr(data, "ndim", 2) == (4 if info.frames > 1 else 3) and data.shape[-1] in (3, 4))
    ndim = 3 if info.frames > 1 else 2
    kwargs = calibrated_image_kwargs(info.calibration, ndim, info.frame_time_ms)
    kwargs.update(
        name=f"{Path(info.path).name} [{calibration_label(info.calibration)}]",
        rgb=rgb,
        metadata={META: {"role": "image", "image": loaded, "calibration": info.calibration}},
    )
    return (data, kwargs, "image")


def image_calibration(layer: Layer) -> Calibration | None:
    """The calibration stored on an image layer by this plugin, else ``None``."""
    meta = getattr(layer, "metadata", {}).get(META, {})
    return meta.get("calibration") if meta.get("role") == "image" else None


def image_source(layer: Layer) -> LoadedImage | None:
    """The lazily loaded image behind a plugin image layer, else ``None``."""
    meta = getattr(layer, "metadata", {}).get(META, {})
    return meta.get("image") if meta.get("role") == "image" else None


# --- annotation layers --------------------------------------------------------------------------


def role_of_layer(layer: Layer) -> str | None:
    """What a layer is to the plugin: ``image``, ``structure``, ``needle``, ``calibration``, ``overlay``."""
    return getattr(layer, "metadata", {}).get(META, {}).get("role")


def kind_of_layer(layer: Layer) -> str | None:
    """Structure kind of a shapes layer: from the plugin's metadata, else from the layer's name.

    A layer the user made with napari's "new shapes" button and renamed ``pleura`` counts as
    pleura; ``needle`` names the needle layer.
    """
    meta = getattr(layer, "metadata", {}).get(META, {})
    if meta.get("role") in ("structure", "needle"):
        return meta.get("kind")
    if meta.get("role") == "overlay":
        return None
    word = str(getattr(layer, "name", "")).strip().lower().split(" ")[0].rstrip(":")
    return word if word in STYLES and word != "other" else None


def shapes_layer_kwargs(kind: str, image_layer: Image) -> dict:
    """Keyword arguments for ``viewer.add_shapes`` for one kind, matched to the image layer.

    The layer's world is the image's world; on a cine the time axis keeps the image's step so
    each mark sits on an integer frame.
    """
    style = STYLES[kind]
    ndim = image_layer.ndim
    scale = (float(image_layer.scale[0]), 1.0, 1.0) if ndim == 3 else (1.0, 1.0)
    units = tuple(str(u) for u in image_layer.units)
    role = "needle" if kind == "needle" else "structure"
    return {
        "ndim": ndim,
        "scale": scale,
        "units": units,
        "name": kind,
        "shape_type": style.shape_type,
        "edge_color": style.edge_color,
        "face_color": style.face_color,
        # widths are world units: mm, or on an uncalibrated image pixels (then a fixed 2 px)
        "edge_width": style.edge_width_mm if all(str(u) in ("mm", "millimeter") for u in units[-2:]) else 2.0,
        "metadata": {META: {"role": role, "kind": kind}},
    }


def world_vertices(layer: Shapes, index: int) -> np.ndarray:
    """World coordinates ``(N, ndim)`` of shape ``index`` of a shapes layer (via ``data_to_world``)."""
    data = np.asarray(layer.data[index], dtype=float)
    return np.array([layer.data_to_world(v) for v in data], dtype=float)


def frame_of_world(image_layer: Image, world: np.ndarray) -> int | None:
    """Frame index of a world point on a cine (``None`` for a single frame)."""
    if image_layer is None or image_layer.ndim < 3:
        return None
    idx = image_layer.world_to_data(tuple(world[-image_layer.ndim :]))
    return int(round(float(idx[0])))


def _ellipse_outline(corners: np.ndarray) -> np.ndarray:
    """Polygon through an ellipse given by napari's four bounding-box corners (2-D points)."""
    centre = corners.mean(axis=0)
    a = (corners[1] - corners[0]) / 2.0
    b = (corners[3] - corners[0]) / 2.0
    t = np.linspace(0.0, 2.0 * np.pi, _ELLIPSE_POINTS, endpoint=False)
    return centre + np.cos(t)[:, None] * a + np.sin(t)[:, None] * b


_SHAPE_KEYS = ("napari_shape", "corners_mm")  # extra keys the layer itself stands for
#: Per-shape fields a drawing cannot show, kept in the shapes layer's ``features`` table so that a
#: plan opened and saved again keeps them.  A new mark gets the neutral defaults: drawn by the
#: physician, so confirmed (never ``suggested``).
FEATURE_DEFAULTS = {"label": "", "suggested": False, "confidence": np.nan, "evidence": "", "extra_json": ""}


def _feature_row(layer: Shapes, i: int) -> dict[str, Any]:
    feats = getattr(layer, "features", None)
    if feats is None or i >= len(feats) or "suggested" not in feats.columns:
        return {}
    row = feats.iloc[i]
    conf = row.get("confidence")
    extra = row.get("extra_json") or ""
    return {
        "label": row.get("label") or None,
        "suggested": bool(row.get("suggested", False)),
        "confidence": None if conf is None or not np.isfinite(conf) else float(conf),
        "evidence": row.get("evidence") or None,
        "extra": json.loads(extra) if extra else {},
    }


def layer_structures(layer: Shapes, kind: str, image_layer: Image) -> list[Structure]:
    """Every shape of a structure layer as a core :class:`~needleplan.plan.Structure`.

    Points are world ``(row, col)`` (mm when the image is calibrated); paths and lines are open,
    polygons, rectangles and ellipses closed.  An ellipse is kept as its outline polygon, with its
    corners in ``extra`` so the layer can be restored exactly; label, suggestion flag, confidence,
    evidence and unknown fields come from the layer's ``features``.
    """
    from needleplan.clinical.plausible_ranges import MAX_POINTS_PER_STRUCTURE
    from needleplan.geometry import simplify_polyline
    from needleplan.plan import Structure

    out = []
    for i, shape_type in enumerate(layer.shape_type):
        world = world_vertices(layer, i)
        pts = world[:, -2:]
        row = _feature_row(layer, i)
        extra: dict[str, Any] = dict(row.pop("extra", {}))
        if shape_type == "ellipse":
            extra.update(napari_shape="ellipse", corners_mm=[[float(r), float(c)] for r, c in pts])
            pts = _ellipse_outline(pts)
        elif shape_type in ("rectangle", "line"):
            extra["napari_shape"] = shape_type
        closed = shape_type not in ("path", "line")
        if len(pts) > MAX_POINTS_PER_STRUCTURE:
            # a traced outline with more vertices than a plan holds is simplified, never refused: the
            # dropped vertices lie within 0.05 mm of it unless the cap forces a coarser tolerance
            pts = simplify_polyline(pts, 0.05, closed=closed, max_points=MAX_POINTS_PER_STRUCTURE)
        out.append(
            Structure(
                kind=kind,
                points_mm=tuple((float(r), float(c)) for r, c in pts),
                closed=closed,
                frame_index=frame_of_world(image_layer, world[0]),
                extra=extra,
                **row,
            )
        )
    return out


def _features_of(
    label: Any = None, suggested: Any = False, confidence: Any = None, evidence: Any = None, extra: Any = None
) -> dict[str, Any]:
    extra = {k: v for k, v in dict(extra or {}).items() if k not in _SHAPE_KEYS}
    return {
        "label": label or "",
        "suggested": bool(suggested),
        "confidence": np.nan if confidence is None else float(confidence),
        "evidence": evidence or "",
        "extra_json": json.dumps(extra) if extra else "",
    }


def draw_structures(layer: Shapes, structures: Iterable[Structure], image_layer: Image) -> None:
    """Add structures to a shapes layer exactly as they were marked, with their per-shape fields."""
    import pandas as pd

    rows = [_features_of(**_feature_row(layer, i)) for i in range(len(layer.data))]
    for s in structures:
        world, shape_type = structure_shape(s, image_layer)
        layer.add(to_layer_data(layer, world), shape_type=shape_type)
        rows.append(_features_of(s.label, s.suggested, s.confidence, s.evidence, s.extra))
    layer.features = pd.DataFrame(rows, columns=list(FEATURE_DEFAULTS))
    layer.feature_defaults = FEATURE_DEFAULTS
    suggested = [i for i, r in enumerate(rows) if r["suggested"]]
    if suggested:  # a detector's unconfirmed proposal is drawn faint: it is not a confirmed hazard
        colours = np.array(layer.edge_color, dtype=float)
        colours[suggested, 3] = 0.4
        layer.edge_color = colours


def needle_from_layer(
    layer: Shapes | None, image_layer: Image
) -> tuple[tuple[float, float], tuple[float, float], int | None] | None:
    """``(entry, tip, frame_index)`` of the needle: first and last vertex of the layer's last shape."""
    if layer is None or len(layer.data) == 0:
        return None
    world = world_vertices(layer, len(layer.data) - 1)
    entry, tip = world[0, -2:], world[-1, -2:]
    return (float(entry[0]), float(entry[1])), (float(tip[0]), float(tip[1])), frame_of_world(image_layer, world[0])


# --- core -> layers -----------------------------------------------------------------------------


def _frame_world(image_layer: Image, frame_index: int | None) -> float | None:
    if image_layer is None or image_layer.ndim < 3:
        return None
    return float(image_layer.data_to_world((frame_index or 0, 0, 0))[0])


def structure_shape(structure: Structure, image_layer: Image) -> tuple[np.ndarray, str]:
    """World vertices and napari shape type that redraw a structure exactly as it was marked."""
    extra = dict(getattr(structure, "extra", {}) or {})
    if extra.get("napari_shape") == "ellipse" and "corners_mm" in extra:
        pts, shape_type = np.asarray(extra["corners_mm"], dtype=float), "ellipse"
    elif extra.get("napari_shape") in ("rectangle", "line"):
        pts, shape_type = np.asarray(structure.points_mm, dtype=float), extra["napari_shape"]
    else:
        pts = np.asarray(structure.points_mm, dtype=float)
        is_line = len(pts) == 2 and structure.kind == NEEDLE
        shape_type = "polygon" if structure.closed else ("line" if is_line else "path")
    return world_on_frame(pts, image_layer, structure.frame_index), shape_type


def needle_shape(needle: Needle, image_layer: Image, frame_index: int | None) -> np.ndarray:
    """World vertices ``entry -> tip`` of a needle line."""
    return world_on_frame(np.asarray([needle.entry_mm, needle.target_mm], dtype=float), image_layer, frame_index)


def world_on_frame(points_mm: ArrayLike, image_layer: Image, frame_index: int | None) -> np.ndarray:
    """World vertices of ``(row, col)`` points on a frame: the time coordinate is prepended on a cine."""
    pts = np.asarray(points_mm, dtype=float)
    t_world = _frame_world(image_layer, frame_index)
    if t_world is None:
        return pts
    return np.column_stack([np.full(len(pts), t_world), pts])


def world_to_index(image_layer: Image, world: ArrayLike) -> np.ndarray:
    """Image data indices ``(N, ndim)`` of world points (``world_to_data`` of the image layer)."""
    return np.array([image_layer.world_to_data(tuple(w)) for w in np.atleast_2d(np.asarray(world, float))])


def index_to_world(image_layer: Image, index: ArrayLike) -> np.ndarray:
    """World points ``(N, ndim)`` of image data indices (``data_to_world`` of the image layer)."""
    return np.array([image_layer.data_to_world(tuple(v)) for v in np.atleast_2d(np.asarray(index, float))])


def image_indices_of(layer: Shapes, image_layer: Image) -> list[np.ndarray]:
    """Each shape of ``layer`` as the image indices under its vertices (to survive a recalibration)."""
    return [world_to_index(image_layer, world_vertices(layer, i)) for i in range(len(layer.data))]


def place_at_image_indices(layer: Shapes, image_layer: Image, indices: list[np.ndarray], units: Any) -> None:
    """Put each shape back on the same image pixels after the image's geometry changed.

    Same number of shapes, so napari keeps their types, colours, widths and features.
    """
    layer.units = units
    layer.data = [to_layer_data(layer, index_to_world(image_layer, idx)) for idx in indices]


def set_image_calibration(image_layer: Image, cal: Calibration) -> dict:
    """Give an image layer a new calibration: scale, translate, units, metadata and name."""
    timed = image_layer.ndim == 3 and "second" in str(image_layer.units[0])
    frame_time = float(image_layer.scale[0]) if timed else None
    kw = calibrated_image_kwargs(cal, image_layer.ndim, frame_time)
    image_layer.scale, image_layer.translate, image_layer.units = kw["scale"], kw["translate"], kw["units"]
    meta = dict(image_layer.metadata[META])
    meta["calibration"] = cal
    image_layer.metadata = {**image_layer.metadata, META: meta}
    image_layer.name = f"{image_layer.name.split(' [', 1)[0]} [{calibration_label(cal)}]"
    return kw


def to_layer_data(layer: Layer, world: np.ndarray) -> np.ndarray:
    """Layer data coordinates of world vertices (via ``world_to_data``), for writing into ``layer``."""
    return np.array([layer.world_to_data(tuple(v)) for v in np.asarray(world, dtype=float)])


def viewer_image_layer(viewer: napari.Viewer) -> Image | None:
    """The plugin image layer the plan is made on: the selected one, else the topmost one."""
    images = [ly for ly in viewer.layers if image_calibration(ly) is not None]
    active = viewer.layers.selection.active
    if active is not None and active in images:
        return active
    return images[-1] if images else None
