"""Detector suggestions in the layers: run the detectors, show them faint, accept or reject them.

Qt-free.  A suggestion is a shape in its kind's shapes layer (``pleura``, ``rib``, ``fascia``...)
whose ``features`` row says ``suggested=True`` (with the detector's confidence and evidence), so it
is saved as ``suggested: true`` in the plan and restored as a suggestion when the plan is opened.
The core never counts a suggested structure as a hazard (it reports PLEURA_SUGGESTED_UNMARKED and
SUGGESTION_UNCONFIRMED instead); only :func:`accept` makes it a mark.

Every vertex goes through :mod:`needleplan_napari._layers` (world <-> layer data); the detectors'
millimetres come from :func:`needleplan.detect.to_structures` through the image layer's calibration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from needleplan_napari import _layers

if TYPE_CHECKING:
    from collections.abc import Hashable

    import napari
    from napari.layers import Image, Layer, Shapes

    from needleplan.calibration import Calibration
    from needleplan.io import LoadedImage
    from needleplan_napari._session import PlanSession

__all__ = [
    "DetectJob",
    "SuggestionRef",
    "SUGGESTED_ALPHA",
    "detect_job",
    "run_detection",
    "show_detected",
    "suggestion_refs",
    "accept",
    "reject",
    "style_suggestions",
    "label_text",
    "clear_suggestions",
    "is_mark_layer",
]

SUGGESTED_ALPHA = 0.4  # edge opacity of an unaccepted suggestion (a mark is drawn at full opacity)
_LABEL_CHARS = 48  # the canvas label is short; the panel's list shows the whole evidence


@dataclass(frozen=True, slots=True)
class DetectJob:
    """What a detection runs on, read on the main thread before the worker starts."""

    image_layer: Image
    source: LoadedImage
    calibration: Calibration
    frame_index: int
    cine: bool
    site: str | None


@dataclass(frozen=True, slots=True)
class SuggestionRef:
    """One unaccepted suggestion: shape ``index`` of ``layer``."""

    layer: Shapes
    index: int
    kind: str
    confidence: float | None
    evidence: str

    def text(self) -> str:
        """The panel's line: kind, confidence and the detector's evidence."""
        conf = "" if self.confidence is None else f" {self.confidence:.0%}"
        return f"{self.kind}{conf}: {self.evidence}" if self.evidence else f"{self.kind}{conf}"


def detect_job(session: PlanSession) -> DetectJob:
    """The image, frame and calibration to detect on (the whole cine for a multi-frame image).

    Raises
    ------
    needleplan.errors.CalibrationError
        The image has no length calibration: suggestions would have no millimetres.
    needleplan.errors.NeedleplanError
        No ultrasound image is open in the plugin.
    """
    from needleplan.errors import CalibrationError, NeedleplanError

    image = session.image_layer()
    source = _layers.image_source(image)
    if image is None or source is None:
        raise NeedleplanError("no image is open; open an ultrasound DICOM first, then Detect")
    cal = _layers.image_calibration(image)
    if cal is None or not cal.is_calibrated:
        raise CalibrationError(
            "this image has no length calibration, so suggestions would have no millimetres; "
            "calibrate with two points of known distance first, then Detect"
        )
    cine = image.ndim == 3 and source.info.frames > 1
    return DetectJob(image, source, cal, session.current_frame() or 0, cine, session.inputs.site or None)


def prepare_detectors() -> None:
    """Import the detectors and run their FFTs once, on the calling (main) thread.

    scipy's pocketfft extension crashed the interpreter (segmentation fault) when it was first
    imported and used inside a Qt worker thread after other napari work; importing it and running
    one small transform on the main thread first avoids that.  Cheap after the first call.
    """
    global _PREPARED
    if _PREPARED:
        return
    import scipy.fft

    import needleplan.detect  # noqa: F401  (imports skimage.registration and scipy.fft here)

    scipy.fft.fftn(np.ones((4, 4)))
    np.fft.rfft(np.ones(8))
    _PREPARED = True


_PREPARED = False


def run_detection(job: DetectJob) -> list:
    """Run the detectors (one frame, or the whole cine for sliding and pulsation): suggested structures.

    Pure (touches no layer): safe in a worker thread.
    """
    from needleplan.detect import detect_image, to_structures

    result = detect_image(job.source, frame=job.frame_index, cine=job.cine, site=job.site)
    return to_structures(result, job.calibration)


def is_mark_layer(layer: Layer) -> str | None:
    if layer.__class__.__name__ != "Shapes":
        return None
    kind = _layers.kind_of_layer(layer)
    return kind if kind not in (None, "needle") else None


def _suggested_mask(layer: Shapes) -> np.ndarray:
    feats = getattr(layer, "features", None)
    if feats is None or "suggested" not in getattr(feats, "columns", ()) or len(feats) != len(layer.data):
        return np.zeros(len(layer.data), dtype=bool)
    return feats["suggested"].fillna(False).astype(bool).to_numpy()


def suggestion_refs(viewer: napari.Viewer) -> list[SuggestionRef]:
    """Every unaccepted suggestion in the viewer's mark layers, layer by layer, shape by shape."""
    out = []
    for layer in viewer.layers:
        kind = is_mark_layer(layer)
        if kind is None:
            continue
        mask = _suggested_mask(layer)
        for i in np.flatnonzero(mask):
            row = layer.features.iloc[int(i)]
            conf = row.get("confidence")
            conf = None if conf is None or not np.isfinite(conf) else float(conf)
            out.append(SuggestionRef(layer, int(i), kind, conf, str(row.get("evidence") or "")))
    return out


def label_text(kind: str, confidence: float | None, evidence: str) -> str:
    """The short label drawn beside a suggestion on the canvas.

    Examples
    --------
    >>> label_text("pleura", 0.75, "A-line reverberation at twice its depth")  # 48 - 20 - 2 = 26 chars left
    'suggested pleura 75%: A-line reverberation...'
    >>> label_text("rib", 0.9, "shadow below")
    'suggested rib 90%: shadow below'
    """
    conf = "" if confidence is None else f" {confidence:.0%}"
    head = f"suggested {kind}{conf}"
    if not evidence:
        return head
    room = _LABEL_CHARS - len(head) - 2
    if len(evidence) <= room:
        return f"{head}: {evidence}"
    return f"{head}: {evidence[: room - 3].rsplit(' ', 1)[0].rstrip(' ,;')}..."


def style_suggestions(layer: Shapes) -> None:
    """Suggestions faint with a label (kind, confidence, evidence); marks opaque without one.

    Idempotent and cheap when nothing changed (called after every check).
    """
    if len(layer.data) == 0:
        return
    mask = _suggested_mask(layer)
    kind = _layers.kind_of_layer(layer) or "other"
    texts = []
    for i, suggested in enumerate(mask):
        row = layer.features.iloc[i] if suggested else None
        texts.append(
            ""
            if row is None
            else label_text(
                kind, None if not np.isfinite(row["confidence"]) else float(row["confidence"]), str(row["evidence"])
            )
        )
    current = getattr(getattr(layer.text, "string", None), "array", None)
    if current is None or list(np.asarray(current, dtype=str)) != texts:
        layer.text = {
            "string": {"array": texts, "default": ""},
            "size": 9,
            "anchor": "upper_left",
            "color": _layers.STYLES.get(kind, _layers.STYLES["other"]).edge_color,
        }
    colours = np.array(layer.edge_color, dtype=float)
    alpha = np.where(mask, SUGGESTED_ALPHA, 1.0)
    if len(colours) == len(mask) and not np.allclose(colours[:, 3], alpha):
        colours[:, 3] = alpha
        layer.edge_color = colours


def _set_suggested(layer: Shapes, indices: list[int], value: bool) -> None:
    feats = layer.features.copy()
    feats.loc[feats.index[indices], "suggested"] = value
    layer.features = feats
    # a features assignment makes napari take defaults from the first row: without this, a shape the
    # physician draws next would carry a detector's confidence and evidence as if it had been detected
    layer.feature_defaults = _layers.FEATURE_DEFAULTS
    style_suggestions(layer)


def _still_suggested(ref: SuggestionRef, viewer: napari.Viewer) -> bool:
    """Whether ``ref`` still names an unaccepted suggestion (a stale list must never touch a mark)."""
    if ref.layer not in viewer.layers or ref.index >= len(ref.layer.data) or not _suggested_mask(ref.layer)[ref.index]:
        return False
    return str(ref.layer.features.iloc[ref.index].get("evidence") or "") == ref.evidence


def _group(refs: list[SuggestionRef], viewer: napari.Viewer) -> dict[Hashable, tuple[Shapes, list[int]]]:
    out: dict[Hashable, tuple[Shapes, list[int]]] = {}
    for r in refs:
        if _still_suggested(r, viewer):
            out.setdefault(r.layer.unique_id, (r.layer, []))[1].append(r.index)
    return out


def accept(session: PlanSession, refs: list[SuggestionRef]) -> int:
    """Make the given suggestions marks (``suggested=False``; confidence and evidence kept); how many."""
    groups = _group(refs, session.viewer)
    for layer, indices in groups.values():
        _set_suggested(layer, indices, False)
    session.refresh()
    return sum(len(ix) for _, ix in groups.values())


def reject(session: PlanSession, refs: list[SuggestionRef]) -> int:
    """Remove the given suggestions from their layers; how many."""
    groups = _group(refs, session.viewer)
    with session.paused():
        for layer, indices in groups.values():
            layer.selected_data = set(indices)
            layer.remove_selected()
            style_suggestions(layer)
    session.refresh(force=True)
    return sum(len(ix) for _, ix in groups.values())


def clear_suggestions(session: PlanSession) -> int:
    """Remove every unaccepted suggestion (before a new detection replaces them); how many."""
    return reject(session, suggestion_refs(session.viewer))


def show_detected(session: PlanSession, job: DetectJob, structures: list) -> int:
    """Put a detection's suggestions in their kind layers, replacing earlier unaccepted ones.

    Main thread only.  Accepted marks stay.  Returns how many were drawn.

    Raises
    ------
    needleplan.errors.NeedleplanError
        The image or its calibration changed while the detectors ran: run Detect again.
    """
    from needleplan.errors import NeedleplanError
    from needleplan_napari._plan_io import by_kind

    image = session.image_layer()  # (a plugin sees layers through proxies: compare what they hold)
    if (
        image is None
        or _layers.image_source(image) is not job.source
        or _layers.image_calibration(image) != job.calibration
    ):
        raise NeedleplanError("the image or its calibration changed while the detectors ran; run Detect again")
    active = session.viewer.layers.selection.active
    with session.paused():
        clear_suggestions(session)
        for kind, group in by_kind(structures).items():
            layer = session.kind_layer(kind)
            _layers.draw_structures(layer, group, image)
            style_suggestions(layer)
    if active is not None and active in session.viewer.layers:
        session.viewer.layers.selection.active = active
    session.refresh(force=True)
    return len(structures)
