"""The rule registry: rule families and their rules register themselves where they are defined.

A rule family is one module ``needleplan/safety/rules_<name>.py``.  The engine imports every such
module (:func:`load_rule_families`), so adding a family touches that one file (and its tests):

.. code-block:: python

    from collections.abc import Iterator

    from needleplan.safety.codes import FindingCode
    from needleplan.safety.context import Context
    from needleplan.safety.registry import rule, rule_family
    from needleplan.safety.report import Finding

    rule_family(__name__, order=70, title="neuraxis")     # report order among the families

    @rule("dura_margin", codes=(FindingCode.DURA_MARGIN,), rows=("R20",), needs_mm=True, needs_needle=True)
    def dura_margin(ctx: Context) -> Iterator[Finding]:
        assert ctx.metrics is not None  # needs_mm: the engine runs this rule only when it is computed
        ...
        yield Finding(code=FindingCode.DURA_MARGIN, severity="warn", message="...", values={...})

The codes a family yields are members of :class:`~needleplan.safety.codes.FindingCode` (add them
there).  Findings are reported worst first; within one severity, by family ``order`` (ties by module
name) and, within a family, in the order its rules are defined.  A module that never calls
:func:`rule_family` is ordered after every family that did.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from needleplan.safety.codes import FindingCode

if TYPE_CHECKING:
    from needleplan.safety.context import Context
    from needleplan.safety.report import Finding

__all__ = [
    "RuleFamily",
    "Rule",
    "FAMILIES",
    "RULES",
    "rule_family",
    "rule",
    "rules_in_order",
    "load_rule_families",
    "FAMILY_MODULE_PREFIX",
]

#: Modules of :mod:`needleplan.safety` whose names start with this are rule families.
FAMILY_MODULE_PREFIX = "rules_"
#: The order of a family that does not state one: after every family that does.
_LAST = 1_000_000

RuleFunc = Callable[["Context"], Iterable["Finding"]]


@dataclass(frozen=True, slots=True)
class RuleFamily:
    """One rule module: its ``module`` name, its ``order`` in the report and a ``title`` in words."""

    module: str
    order: int
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A registered rule: ``func(ctx)`` yields findings; ``needs_mm`` rules are skipped uncalibrated."""

    name: str
    family: str
    codes: tuple[FindingCode, ...]
    rows: tuple[str, ...]
    needs_mm: bool
    needs_needle: bool
    func: RuleFunc


#: Every rule family, by module name.
FAMILIES: dict[str, RuleFamily] = {}
#: Every rule, in registration order.
RULES: list[Rule] = []


def rule_family(module: str, *, order: int, title: str) -> RuleFamily:
    """Register the rule family defined in ``module`` (pass ``__name__``) at report position ``order``."""
    family = RuleFamily(module, order, title)
    FAMILIES[module] = family
    return family


def rule(
    name: str,
    *,
    codes: tuple[FindingCode, ...],
    rows: tuple[str, ...],
    needs_mm: bool = False,
    needs_needle: bool = False,
) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function of the module it is defined in (its family)."""
    unknown = [c for c in codes if not isinstance(c, FindingCode)]
    if unknown:
        raise TypeError(f"rule {name!r}: codes must be FindingCode members, got {unknown!r}")

    def deco(func: RuleFunc) -> RuleFunc:
        RULES.append(
            Rule(
                name=name,
                family=func.__module__,
                codes=tuple(codes),
                rows=rows,
                needs_mm=needs_mm,
                needs_needle=needs_needle,
                func=func,
            )
        )
        return func

    return deco


def _rank(r: Rule) -> tuple[int, str]:
    family = FAMILIES.get(r.family)
    return (family.order if family is not None else _LAST, r.family)


def rules_in_order() -> list[Rule]:
    """Every registered rule in report order (family order, then definition order)."""
    return sorted(RULES, key=_rank)


def load_rule_families(package: str = "needleplan.safety") -> tuple[str, ...]:
    """Import every ``rules_*`` module of ``package`` (each registers its rules); their names, sorted."""
    pkg = importlib.import_module(package)
    names = sorted(
        f"{package}.{m.name}" for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith(FAMILY_MODULE_PREFIX)
    )
    for name in names:
        importlib.import_module(name)
    return tuple(names)
