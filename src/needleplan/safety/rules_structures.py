"""Vessels (R10), nerves (R11) and lumbar viscera (R18): crossed, within margin, or not marked."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from needleplan.clinical import BACKSTOP_KINDS, hazard_family
from needleplan.geometry import TIE_MM
from needleplan.plan import Structure
from needleplan.planner import first_hits
from needleplan.safety.codes import FindingCode
from needleplan.safety.context import Context, mm
from needleplan.safety.registry import rule, rule_family
from needleplan.safety.report import Finding

_WORDS = {
    "artery": "artery",
    "vessel": "vessel (type not confirmed: treat it as an artery until Doppler shows otherwise)",
    "vein": "vein",
    "nerve": "nerve",
    "viscera": "kidney/peritoneum",
}

rule_family(__name__, order=30, title="vessels, nerves and viscera")


def _name(s: Structure) -> str:
    word = _WORDS.get(s.kind, s.kind)
    return f"{word} '{s.label}'" if s.label else word


def _crossed_severity(kind: str) -> str:
    return "warn" if kind == "vein" else "block"


@dataclass(frozen=True, slots=True)
class _Clearance:
    """The codes and rule row of one hazard family's crossed/margin check."""

    crossed: FindingCode
    margin: FindingCode
    row: str


#: The hazard families checked here, with their codes (the pleura has its own rules, R3).
_CLEARANCES: Mapping[str, _Clearance] = MappingProxyType(
    {
        "vessel": _Clearance(FindingCode.VESSEL_CROSSED, FindingCode.VESSEL_MARGIN, "R10"),
        "nerve": _Clearance(FindingCode.NERVE_CROSSED, FindingCode.NERVE_MARGIN, "R11"),
        "viscera": _Clearance(FindingCode.VISCERA_CROSSED, FindingCode.VISCERA_MARGIN, "R18"),
    }
)


def _family_rule(family: str, codes: _Clearance) -> Callable[[Context], Iterator[Finding]]:
    def check(ctx: Context) -> Iterator[Finding]:
        if not ctx.calibrated:
            ctx.skip(codes.margin)
        margin_by_index = {h.index: h.margin_mm for h in ctx.scene.hazards} if ctx.scene is not None else {}
        for i, s in ctx.confirmed(family):
            values = {"structure": i, "kind": s.kind, "label": s.label}
            shaft, tip = ctx.clearance(i, s)
            if shaft <= 1e-9:
                yield Finding(
                    code=codes.crossed,
                    severity=_crossed_severity(s.kind),
                    message=f"The needle as drawn crosses the marked {_name(s)}.",
                    values={**values, "crosses": True},
                )
                continue
            if not ctx.calibrated:
                continue
            margin = margin_by_index[i]
            if shaft < margin - TIE_MM:
                part = f"tip {mm(tip)}" if tip - shaft < 1e-6 else f"shaft {mm(shaft)}"
                yield Finding(
                    code=codes.margin,
                    severity="warn",
                    message=f"Needle {part} from the marked {_name(s)}; margin {margin:g} mm.",
                    values={**values, "shaft_mm": round(shaft, 2), "tip_mm": round(tip, 2), "margin_mm": margin},
                )

    return check


for _family, _codes in _CLEARANCES.items():
    rule(f"{_family}_clearance", codes=(_codes.crossed, _codes.margin), rows=(_codes.row,), needs_needle=True)(
        _family_rule(_family, _codes)
    )


@rule(
    "hazard_overshoot",
    codes=(FindingCode.HAZARD_OVERSHOOT,),
    rows=("R3", "R10", "R11", "R18"),
    needs_mm=True,
    needs_needle=True,
)
def hazard_overshoot(ctx: Context) -> Iterator[Finding]:
    """The straight extension past the tip, by the unused needle length, meets a vessel, nerve or viscus.

    R3's overshoot reasoning (a needle pushed further than planned goes on in a straight line) applied
    to the other hazards; R18 asks the same tip margin for kidney and peritoneum as for the pleura.  A
    bone or rib met first stops the needle, as for the pleura.  A structure the needle already crosses
    is reported as crossed instead.
    """
    assert ctx.over is not None  # the engine runs this rule only when they exist
    o = ctx.over
    if o is None or not math.isfinite(o.reach_mm) or o.reach_mm <= 0:
        return
    _entry, tip, u = ctx.needle_vectors()
    bone = float(ctx.first_hits(tip, u[None, :], *BACKSTOP_KINDS)[0])
    for i, s in ctx.confirmed("vessel", "nerve", "viscera"):
        shaft, _tip = ctx.clearance(i, s)
        if shaft <= 1e-9:
            continue  # crossed: VESSEL/NERVE/VISCERA_CROSSED says so
        t = _hit_of(tip, u, s)
        if t is None or t > o.reach_mm + TIE_MM or bone < t:
            continue
        yield Finding(
            code=FindingCode.HAZARD_OVERSHOOT,
            severity="warn",
            message=f"If the needle is pushed further, its straight path meets the marked {_name(s)} "
            f"{mm(t)} past "
            f"the planned tip with no bone in between; {mm(o.reach_mm)} of needle is still unused. "
            "Stop at the planned depth.",
            values={"structure": i, "kind": s.kind, "past_tip_mm": round(t, 2), "reach_mm": round(o.reach_mm, 2)},
        )


def _hit_of(tip: np.ndarray, u: np.ndarray, s: Structure) -> float | None:
    """Distance from the tip along ``u`` to structure ``s`` (None when the ray misses it)."""
    t = float(first_hits([s], tip, u[None, :])[0])
    return t if math.isfinite(t) else None


@rule(
    "expected_marks",
    codes=(FindingCode.NERVE_NOT_MARKED, FindingCode.VISCERA_NOT_MARKED, FindingCode.DOPPLER_ADVISED),
    rows=("R10", "R11", "R18"),
)
def expected_marks(ctx: Context) -> Iterator[Finding]:
    p = ctx.profile
    if p.requires_nerve_mark and not ctx.confirmed("nerve"):
        yield Finding(
            code=FindingCode.NERVE_NOT_MARKED,
            severity="block",
            message=f"The sciatic nerve is not marked at this {p.name} site. Identify it before and "
            f"during the "
            "injection (it may run below, through or above the muscle) and mark it.",
            values={"site": ctx.plan.site},
        )
    if p.requires_viscera_mark and not ctx.confirmed("viscera"):
        yield Finding(
            code=FindingCode.VISCERA_NOT_MARKED,
            severity="warn",
            message="Neither kidney nor peritoneum is marked at this lumbar site; mark them when in view "
            "and keep "
            "the same tip margin as for the pleura.",
            values={"site": ctx.plan.site},
        )
    if p.doppler_advised and not ctx.confirmed("vessel"):
        yield Finding(
            code=FindingCode.DOPPLER_ADVISED,
            severity="info",
            message="No vessel is marked: confirm with power Doppler before needling (gluteal artery "
            "branches run "
            "under gluteus maximus and between gluteus medius and minimus).",
            values={"site": ctx.plan.site},
        )


@rule("suggestions", codes=(FindingCode.SUGGESTION_UNCONFIRMED,), rows=("R10", "R11", "R18"))
def suggestions(ctx: Context) -> Iterator[Finding]:
    pending = [
        (i, s)
        for i, s in enumerate(ctx.plan.structures)
        if s.suggested and hazard_family(s.kind) not in (None, "pleura")
    ]
    if pending:
        kinds = sorted({s.kind for _i, s in pending})
        yield Finding(
            code=FindingCode.SUGGESTION_UNCONFIRMED,
            severity="info",
            message=f"{len(pending)} detected structure(s) ({', '.join(kinds)}) are suggestions only and "
            f"were not "
            "used as hazards; accept or reject them.",
            values={"structures": [i for i, _s in pending]},
        )
