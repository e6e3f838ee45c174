"""Every docstring example in the package runs and prints what it claims.

The modules are found by walking the installed package, so a new module is
covered the day it lands; a commented-out example (``>>> # ...``) checks
nothing and is refused.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import scalinglab

_OPTIONAL = {
    "scalinglab.sweep.model": "torch",
    "scalinglab.sweep.train": "torch",
    "scalinglab.analyze._prototypes": "sklearn",
}


def _modules() -> list[str]:
    names = ["scalinglab"]
    for info in pkgutil.walk_packages(scalinglab.__path__, prefix="scalinglab."):
        if info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


MODULES = _modules()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    needs = _OPTIONAL.get(name)
    if needs is not None:
        pytest.importorskip(needs, reason=f"{name}'s examples need {needs}")
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_no_commented_out_examples():
    """A ``>>> # call(...)`` example documents a call without checking it: write a running one."""
    root = Path(scalinglab.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*>>> #", line):
                offenders.append(f"{path.relative_to(root)}:{i}")
    assert not offenders, "commented-out docstring examples: " + ", ".join(offenders)


def test_walk_finds_the_house():
    for layer in (
        "scalinglab.batch",
        "scalinglab.data",
        "scalinglab.laws",
        "scalinglab.fit",
        "scalinglab.evaluate",
        "scalinglab.plan",
        "scalinglab.report",
        "scalinglab.cli",
    ):
        assert layer in MODULES
