"""The house keeps standing: no module imports the root package, and no law identity outside laws/.

The layer contract itself (no upward imports) is checked by ``lint-imports`` in
CI (see ``[tool.importlinter]`` in pyproject.toml); these checks cover what it
cannot express.
"""

from __future__ import annotations

import ast
from pathlib import Path

import scalinglab
from scalinglab.laws import list_laws

ROOT = Path(scalinglab.__file__).parent


def _python_files(*parts: str):
    return sorted(ROOT.joinpath(*parts).rglob("*.py"))


def test_no_module_imports_the_root_package():
    """``import scalinglab`` inside the package hides a module's real dependencies (and makes circles)."""
    offenders = []
    for path in _python_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("__init__.py", "__main__.py") or rel.startswith("cli/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name == "scalinglab" for a in node.names):
                offenders.append(f"{rel}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module == "scalinglab" and node.level == 0:
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, "modules importing the root package: " + ", ".join(offenders)


def _code_strings(tree: ast.AST):
    """String constants of the code, docstrings and ``__all__`` (names of functions) left out."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            docstrings.update(id(c) for c in ast.walk(node.value))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_no_law_names_or_identity_tests_outside_laws():
    """plan/, evaluate/, analyze/, render/ and report/ ask a law for its math; their code names no law."""
    names = {n for lw in list_laws() for n in (lw.name, *lw.aliases)}
    offenders = []
    for part in ("plan", "evaluate", "analyze", "render", "report"):
        for path in _python_files(part):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            rel = path.relative_to(ROOT)
            offenders += [f"{rel}:{c.lineno}: '{c.value}'" for c in _code_strings(tree) if c.value in names]
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Compare)
                    and any(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops)
                    and isinstance(node.left, ast.Attribute)
                    and node.left.attr == "func"
                    and isinstance(node.left.value, ast.Attribute)
                    and node.left.value.attr == "law"
                ):
                    offenders.append(f"{rel}:{node.lineno}: law.func identity test")
    assert not offenders, "law names or identity tests outside laws/: " + "; ".join(offenders)
