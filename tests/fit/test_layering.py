"""fit/, laws/ and plan/ import down only: no import circle inside fit/, never the package root."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

import scalinglab

SRC = Path(scalinglab.__file__).parent


def _root_imports(path: Path) -> list[int]:
    """Line numbers of ``import scalinglab`` / ``from scalinglab import ...`` (code only, not docstrings)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import) and any(a.name == "scalinglab" for a in node.names):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "scalinglab" and node.level == 0:
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("package", ["fit", "laws", "plan"])
def test_no_import_of_the_package_root(package):
    offenders = {str(p.relative_to(SRC)): _root_imports(p) for p in (SRC / package).rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycle_inside_fit():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("scalinglab")  # counts imports inside functions too
    modules = sorted(m for m in graph.modules if m.startswith("scalinglab.fit."))
    assert "scalinglab.fit._engine" in modules
    cycles = [
        (a, b)
        for a, b in itertools.combinations(modules, 2)
        if graph.find_shortest_chain(a, b) and graph.find_shortest_chain(b, a)
    ]
    assert cycles == []


def test_calibration_does_not_use_the_front_door():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("scalinglab")
    for low in ("scalinglab.fit._calibration", "scalinglab.fit._uncertainty", "scalinglab.fit._engine"):
        assert graph.find_shortest_chain(low, "scalinglab.fit._fit") is None, low
        assert graph.find_shortest_chain(low, "scalinglab.fit._result") is None, low
