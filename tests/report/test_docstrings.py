"""The examples in the report package's docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
import warnings

import pytest

MODULES = [
    "scalinglab.render._curves",
    "scalinglab.render._style",
    "scalinglab.render._runs",
    "scalinglab.render._format",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
