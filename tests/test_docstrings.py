"""The examples in public docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "scalinglab._io",
    "scalinglab.data._runs",
    "scalinglab.data._checkpoints",
    "scalinglab.batch",
    "scalinglab.batch._run",
    "scalinglab.fit._many",
    "scalinglab.laws._registry",
    "scalinglab.laws._bnsl",
    "scalinglab.fit._fit",
    "scalinglab.fit._losses",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
