"""Imports between the core's subpackages point down the layers declared in pyproject.toml.

``lint-imports`` checks the same contract; this test reads the source itself so that function-level
(lazy) imports, which hide a cycle as well as top-level ones, are counted explicitly, and so that
the layer order has one home (pyproject's ``[tool.importlinter]``).
"""

from __future__ import annotations

import ast
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "needleplan"


@dataclass(frozen=True)
class Edge:
    source: str  # subpackage (or top-level module) that imports
    target: str  # subpackage imported
    where: str  # file:line
    lazy: bool  # inside a function


def _layers() -> dict[str, int]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    # listed highest first; rank 0 is the bottom layer
    layers = list(reversed(contract["layers"]))
    return {name.strip(): rank for rank, layer in enumerate(layers) for name in layer.replace("|", ":").split(":")}


def _subpackage(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _edges() -> list[Edge]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        source = _subpackage(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
            if n is not f
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"needleplan.{a.name}" for a in node.names] if node.module == "needleplan" else [node.module]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != "needleplan" or len(parts) < 2 or parts[1].startswith("__"):
                    continue
                if parts[1] != source:
                    out.append(Edge(source, parts[1], f"{path.relative_to(ROOT)}:{node.lineno}", id(node) in inside))
    return out


def test_every_subpackage_has_a_layer() -> None:
    ranks = _layers()
    found = {_subpackage(p) for p in SRC.rglob("*.py")} - {"__init__", "__main__"}
    assert found <= set(ranks), f"no layer in pyproject.toml for: {sorted(found - set(ranks))}"
    assert ranks["errors"] == ranks["vocabulary"] == 0 and ranks["cli"] == max(ranks.values())
    assert ranks["clinical"] < ranks["planner"] < ranks["safety"]


def test_no_import_points_up_a_layer_lazy_or_not() -> None:
    ranks = _layers()
    edges = _edges()
    up = [e for e in edges if e.source in ranks and ranks[e.target] > ranks[e.source]]
    assert up == [], "\n".join(f"{e.where}: {e.source} -> {e.target}{' (lazy)' if e.lazy else ''}" for e in up)


def test_lazy_imports_are_counted_and_point_down() -> None:
    ranks = _layers()
    lazy = [e for e in _edges() if e.lazy and e.source in ranks]
    # The walk really sees function-level imports (e.g. cli/check.py imports the safety engine
    # inside run()), so an upward one would be caught, not missed.
    assert len(lazy) >= 10
    assert any(e.source == "cli" and e.target == "safety" for e in lazy)
    assert [e for e in lazy if ranks[e.target] > ranks[e.source]] == []


def test_subpackages_form_no_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for e in _edges():
        graph[e.source].add(e.target)
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
