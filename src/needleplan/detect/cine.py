"""Cine detection: the single-frame detectors on a reference frame, then lung sliding and vessel
pulsation measured over every frame.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from needleplan.detect._frame import prepare_frame
from needleplan.detect.analyse import analyse_frame
from needleplan.detect.pleura import pleura_detection
from needleplan.detect.pulsation import PulseResult, PulseTracker
from needleplan.detect.results import DetectionResult
from needleplan.detect.sliding import SlidingResult, SlidingTracker
from needleplan.detect.vessels import vessel_detection
from needleplan.errors import ImageReadError, NotUltrasoundError

__all__ = ["detect_cine", "detect_image", "CineMeasures", "NotUltrasoundError"]

#: Pleura confidence change from the cine: sliding confirms the line is pleura (1I Pleura row);
#: its absence does not make the line less likely pleura (a pneumothorax has a pleural line too) but
#: it is reported prominently.
SLIDING_BONUS = 0.15


class CineMeasures:
    """The raw cine measurements behind a result (for evaluation and the report)."""

    def __init__(self) -> None:
        self.sliding: SlidingResult | None = None
        self.pulses: list[PulseResult | None] = []


def detect_cine(
    frames: Any,
    calibration: Any = None,
    *,
    frame_time_ms: float | None = None,
    site: str | None = None,
    frame_index: int = 0,
    measures: CineMeasures | None = None,
) -> DetectionResult:
    """Suggested structures on a cine, with sliding and artery/vein from the motion.

    Parameters
    ----------
    frames : sequence of frames
        Anything with ``len()`` and integer indexing giving display-ready frames (a numpy array
        ``(T, rows, cols[, 3])`` or ``LoadedImage.frames``).  Frames are read one at a time.
    calibration : Calibration or None
        As for :func:`~needleplan.detect.analyse.detect_frame`.
    frame_time_ms : float, optional
        Time between frames; lets the pulsation rate be checked against heart rates.
    site : str, optional
        Site profile id.
    frame_index : int
        The reference frame: structure positions are those on this frame.
    measures : CineMeasures, optional
        Filled with the raw sliding and pulsation measurements when given.
    """
    n = len(frames)
    if n < 2:
        raise ImageReadError(f"a cine needs at least 2 frames, this image has {n}; use --frame instead")
    if not 0 <= frame_index < n:
        raise ImageReadError(f"frame {frame_index} does not exist: the cine has frames 0 to {n - 1}")
    an = analyse_frame(frames[frame_index], calibration, site=site)
    view = an.view
    slide = SlidingTracker(view, an.pleura.line.rows, an.pleura.line.cols) if an.pleura is not None else None
    pulses = [PulseTracker(view, b) for b in an.vessels]
    if slide is not None or pulses:
        for i in range(n):
            work = view.image if i == frame_index else prepare_frame(frames[i], calibration, scale=view.scale).image
            if work.shape != view.image.shape:
                raise ImageReadError(f"frame {i} has another size than frame {frame_index}")
            if slide is not None:
                slide.add(work)
            for p in pulses:
                p.add(work)
    dets = list(an.detections)
    notes = []
    sliding = slide.result() if slide is not None else None
    if an.pleura is not None:
        if sliding is None:
            dets.append(pleura_detection(view, an.pleura, "lung sliding not measurable"))
        else:
            bonus = SLIDING_BONUS if sliding.present else 0.0
            dets.append(pleura_detection(view, an.pleura, sliding.evidence(), bonus))
            notes.append(
                (
                    "lung sliding present"
                    if sliding.present
                    else "LUNG SLIDING ABSENT below the detected pleura: a pneumothorax sign "
                    "(clinical-rules.md 1I); check before needling"
                )
                + f" ({sliding.excursion_mm:.1f} mm of sideways lung movement)"
            )
    else:
        notes.append("no pleura-like line (no bright line with A-lines or rib shadows above it)")
    results = [p.result(frame_time_ms) for p in pulses]
    for blob, res in zip(an.vessels, results, strict=True):
        if res is None:
            dets.append(vessel_detection(view, blob, cine_evidence="pulsation not measurable"))
        else:
            dets.append(
                vessel_detection(
                    view,
                    blob,
                    # a swing the noise explains settles nothing: the type stays unconfirmed
                    # (a "vessel", which the safety rules treat as an artery until Doppler)
                    kind="artery" if res.artery else ("vessel" if res.noise_like else "vein"),
                    cine_evidence=res.evidence(),
                    cine_confidence=res.confidence,
                )
            )
    if not view.calibrated:
        notes.append("uncalibrated image: positions in pixels only; filter sizes assume a 40 mm deep frame")
    if measures is not None:
        measures.sliding = sliding
        measures.pulses = results
    return DetectionResult(tuple(dets), frame_index, view.calibrated, tuple(notes))


def detect_image(
    image: Any,
    *,
    frame: int | None = None,
    cine: bool = False,
    site: str | None = None,
    calibration: Any = None,
    any_modality: bool = False,
) -> DetectionResult:
    """Detect on a :class:`~needleplan.io.LoadedImage`: one frame (default 0) or the whole cine.

    ``calibration`` overrides the image's own (a plan's manual calibration of an image that has
    none); by default the image's is used.  The detectors' cues (bright lines with an acoustic
    shadow, lung sliding) are ultrasound cues: a DICOM whose modality is not ``US`` (CT, MR, OT ...)
    raises :class:`NotUltrasoundError` unless ``any_modality`` is true.  Images without a modality
    (PNG, JPEG) are taken as ultrasound screenshots.
    """
    info = image.info
    modality = (info.modality or "").strip().upper()
    if modality and modality != "US" and not any_modality:
        name = Path(info.path).name if info.path else "this image"
        raise NotUltrasoundError(
            f"detect works on ultrasound images; {name} is {modality}: open an ultrasound "
            "image, or pass --any-modality to try anyway"
        )
    cal = calibration if calibration is not None else info.calibration
    if cine:
        result = detect_cine(image.frames, cal, frame_time_ms=info.frame_time_ms, site=site, frame_index=frame or 0)
    else:
        from needleplan.detect.analyse import detect_frame

        index = frame or 0
        result = detect_frame(image.frame(index), cal, site=site, frame_index=index)
    if modality and modality != "US":
        note = f"not an ultrasound image ({modality}): the suggestions use ultrasound cues and mean little here"
        result = replace(result, notes=(note, *result.notes))
    return result
