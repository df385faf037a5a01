"""The safe in-plane angle window for the target and the suggested trajectory."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from needleplan import geometry as g
from needleplan.errors import NeedleplanError
from needleplan.plan import Plan
from needleplan.planner._scene import Scene, _scene, extended_skin


@dataclass(frozen=True, slots=True, kw_only=True)
class AngleInterval:
    """A run of safe in-plane angles (deg to the skin) from one side, with its entry points."""

    side: str
    from_deg: float
    to_deg: float
    entry_from_mm: tuple[float, float]
    entry_to_mm: tuple[float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Trajectory:
    """A suggested needle path."""

    entry_mm: tuple[float, float]
    target_mm: tuple[float, float]
    angle_deg: float
    path_length_mm: float
    side: str
    visible: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AngleWindow:
    """The safe angle window for the target; empty ``intervals`` means no safe angle."""

    target_mm: tuple[float, float]
    intervals: tuple[AngleInterval, ...]
    suggested: Trajectory | None
    candidates: int
    reason: str


def _candidate_entries(
    scene: Scene, target: np.ndarray, phis: np.ndarray, side: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Entry points, path lengths, unit directions (skin to target), angles to the skin and validity of rays
    from the target up to the skin."""
    d = np.stack([-np.sin(phis), side * np.cos(phis)], axis=1)  # from target towards the skin
    skin = extended_skin(scene)
    origins = np.broadcast_to(target, d.shape)
    if skin is None:
        t = np.where(target[0] > 0, target[0] / np.sin(phis), np.inf)
        seg_dir = np.broadcast_to(np.array([0.0, 1.0]), d.shape)
    else:
        t, idx = g.ray_first_hit_many(origins, d, skin, False, return_index=True)
        e = np.diff(skin, axis=0)
        e = e / np.maximum(np.hypot(e[:, 0], e[:, 1]), 1e-12)[:, None]
        seg_dir = e[np.maximum(idx, 0)]
    ok = np.isfinite(t) & (t > 0)
    t = np.where(ok, t, 0.0)
    entries = origins + t[:, None] * d
    cos = np.abs(np.einsum("ij,ij->i", d, seg_dir))
    angles = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
    return entries, t, -d, angles, ok


def _clear_paths(
    sc: Scene, entries: np.ndarray, path: np.ndarray, u: np.ndarray, target: np.ndarray, length: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which candidate paths (entry -> target) keep every margin, miss bone, and overshoot safely.

    Returns the safe mask and, for each path, whether its straight extension past the target meets
    bone before any neuraxis mark (the path "ends over bone", which the suggestion prefers, R20).
    """
    th = sc.thresholds
    tips = np.broadcast_to(target, entries.shape)
    safe = np.ones(len(path), dtype=bool)
    over_bone = np.zeros(len(path), dtype=bool)
    if sc.hazards:
        margins = np.array([h.margin_mm for h in sc.hazards])
        safe &= (sc.hazard_shapes.segment_distance(entries, tips) >= margins - g.TIE_MM).all(axis=1)
    n_pleura = sum(h.family == "pleura" for h in sc.hazards)
    if sc.stop_shapes.n == 0:
        return safe, over_bone
    from_tip = sc.stop_shapes.ray_hits(tips, u)  # columns: pleura..., backstops...
    bone = np.full(len(path), np.inf)
    if sc.backstops:  # the path may not pass through bone before the target
        from_entry = sc.stop_shapes.ray_hits(entries, u)[:, n_pleura:]
        safe &= (from_entry >= path[:, None] - th["BONE_CONTACT_TOLERANCE_MM"]).all(axis=1)
        bone = from_tip[:, n_pleura:].min(axis=1)
    reach = np.maximum(length - path, 0.0) + th["OVERSHOOT_ALLOWANCE_MM"]
    if n_pleura:
        t_p = from_tip[:, :n_pleura].min(axis=1)
        safe &= ~((t_p <= reach + g.TIE_MM) & (t_p < bone))
    neuraxis = [j for j, h in enumerate(sc.hazards) if h.family == "neuraxis"]
    t_n = sc.hazard_shapes.ray_hits(tips, u)[:, neuraxis].min(axis=1) if neuraxis else np.full(len(path), np.inf)
    if neuraxis:  # R20: an overshoot must meet a lamina (or nothing) before the neuraxis
        safe &= ~((t_n <= reach + g.TIE_MM) & (t_n < bone))
    over_bone = np.isfinite(bone) & (bone < t_n)
    return safe, over_bone


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, m in enumerate(mask.tolist() + [False]):
        if m and start is None:
            start = i
        elif not m and start is not None:
            runs.append((start, i - 1))
            start = None
    return runs


def safe_angle_window(plan: Plan | Scene, *, step_deg: float | None = None) -> AngleWindow:
    """In-plane angles (and entry points on the skin) from which the target is reached safely.

    A candidate is safe when its whole path keeps every hazard's margin, does not pass through a
    rib, fits the needle with the hub margin left outside, and its overshoot meets a rib or nothing
    before the pleura or the neuraxis.  The suggestion is the flattest safe path (best seen in-plane);
    when a neuraxis is marked, the flattest safe path whose extension ends over bone comes first (R20).
    """
    sc = _scene(plan)
    th = sc.thresholds
    if sc.target_point is None:
        raise NeedleplanError("no target is marked and no needle is drawn; mark the target first")
    target = sc.target_point
    length = sc.needle.length_mm if sc.needle is not None else math.inf
    step = step_deg or th["WINDOW_STEP_DEG"]
    phis = np.radians(np.arange(th["WINDOW_MIN_ANGLE_DEG"], 90.0 + 1e-9, step))
    intervals, best = [], None
    neuraxis_marked = any(h.family == "neuraxis" for h in sc.hazards)
    for sign, name in ((-1.0, "left"), (1.0, "right")):  # entry col below / above the target's
        entries, path, u, angles, ok = _candidate_entries(sc, target, phis, sign)
        safe = ok & (path + th["HUB_MARGIN_MM"] <= length + g.TIE_MM)
        over_bone = np.zeros(len(safe), dtype=bool)
        if (sc.hazards or sc.backstops) and safe.any():
            keep = np.flatnonzero(safe)  # only candidates the needle length allows are traced
            safe[keep], over_bone[keep] = _clear_paths(sc, entries[keep], path[keep], u[keep], target, length)
        for a, b in _runs(safe):
            lo, hi = (a, b) if angles[a] <= angles[b] else (b, a)
            intervals.append(
                AngleInterval(
                    side=name,
                    from_deg=round(float(angles[lo]), 2),
                    to_deg=round(float(angles[hi]), 2),
                    entry_from_mm=tuple(entries[lo].tolist()),
                    entry_to_mm=tuple(entries[hi].tolist()),
                )
            )
        if safe.any():
            # With a neuraxis marked, a path ending over bone (a lamina under the target) comes first (R20).
            pick = safe & over_bone if neuraxis_marked and (safe & over_bone).any() else safe
            i = int(np.flatnonzero(pick)[np.argmin(angles[pick])])
            cand = (
                not bool(over_bone[i]) if neuraxis_marked else False,
                float(angles[i]),
                float(path[i]),
                name,
                entries[i],
            )
            if best is None or cand[:3] < best[:3]:
                best = cand
    suggested = None
    if best is not None:
        _not_over_bone, angle, path_len, name, entry = best
        suggested = Trajectory(
            entry_mm=tuple(entry.tolist()),
            target_mm=tuple(target.tolist()),
            angle_deg=angle,
            path_length_mm=path_len,
            side=name,
            visible=angle <= th["ANGLE_WARN_DEG"],
        )
        reason = f"flattest safe path: {angle:.0f} deg from the {name}, {path_len:.1f} mm long"
    else:
        reason = (
            "no in-plane angle reaches the target clear of every hazard margin with this needle "
            "and an overshoot that meets bone or nothing before the pleura or neuraxis"
        )
    return AngleWindow(
        target_mm=tuple(target.tolist()),
        intervals=tuple(intervals),
        suggested=suggested,
        candidates=2 * len(phis),
        reason=reason,
    )


def suggest(plan: Plan) -> Plan | None:
    """The plan with its needle moved onto the suggested trajectory (same length), or None if none is safe."""
    if plan.needle is None:
        raise NeedleplanError("the plan has no needle; draw one so its length is known, then ask again")
    window = safe_angle_window(plan)
    if window.suggested is None:
        return None
    t = window.suggested
    needle = replace(plan.needle, entry_mm=t.entry_mm, target_mm=t.target_mm)
    return replace(plan, needle=needle, findings=(), metrics={})
