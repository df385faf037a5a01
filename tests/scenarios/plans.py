"""Builders for plan dicts in world mm ``(row, col)``: a plan file as docs/contracts.md §4 writes it."""

from __future__ import annotations

from typing import Any

CAL = {"source": "MANUAL", "spacing_mm": [0.1, 0.1], "origin_px": [0.0, 0.0], "reason": "test"}
UNCAL = {"source": "NONE", "origin_px": [0.0, 0.0], "reason": "no Sequence of Ultrasound Regions and no PixelSpacing"}


def line(kind: str, p0, p1, **kw) -> dict[str, Any]:
    """An open two-point structure (pleura, skin, fascia ...)."""
    return {"kind": kind, "points_mm": [list(p0), list(p1)], "closed": False, **kw}


def box(kind: str, r0: float, c0: float, r1: float, c1: float, **kw) -> dict[str, Any]:
    """A closed rectangle rows r0..r1, cols c0..c1 (target, rib, vessel ...)."""
    return {"kind": kind, "points_mm": [[r0, c0], [r0, c1], [r1, c1], [r1, c0]], "closed": True, **kw}


def pleura(row: float, c0: float = -40.0, c1: float = 40.0, **kw) -> dict[str, Any]:
    """A horizontal pleural line ``row`` mm deep."""
    return line("pleura", (row, c0), (row, c1), **kw)


def plan(
    site: str = "other",
    *,
    structures=(),
    entry=(0.0, 0.0),
    tip=(10.0, 0.0),
    length: float = 38.0,
    patient: dict | None = None,
    cal: dict | None = None,
    approach: str = "in_plane",
    injectate=(),
    needle_extra: dict | None = None,
    **extra,
) -> dict[str, Any]:
    """A plan dict; ``entry``/``tip`` None for a plan without a needle."""
    needle = (
        None
        if entry is None
        else {"entry_mm": list(entry), "target_mm": list(tip), "length_mm": length, "gauge": 25, **(needle_extra or {})}
    )
    return {
        "format": "needleplan.plan",
        "version": 1,
        "image": {"path": "case.dcm", "sop_instance_uid": "1.2.3", "frame_index": 0, "pixel_sha256": "0" * 64},
        "calibration": dict(cal or CAL),
        "site": site,
        "approach": approach,
        "patient": dict(patient or {}),
        "structures": [dict(s) for s in structures],
        "needle": needle,
        "injectate": list(injectate),
        **extra,
    }


def lido(volume_ml: float, pct: float = 1.0, epi: bool = False, drug: str = "lidocaine") -> dict[str, Any]:
    """One injectate entry."""
    return {"drug": drug, "concentration_pct": pct, "volume_ml": volume_ml, "epinephrine": epi}
