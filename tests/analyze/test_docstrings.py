"""The examples in the docstrings of the render toolkit, the analyses, the report assembly and the sweeps run."""

from __future__ import annotations

import doctest
import importlib
import warnings

import pytest

MODULES = [
    "scalinglab.render._section",
    "scalinglab.render._registry",
    "scalinglab.analyze.families",
    "scalinglab.report",
    "scalinglab.report._context",
    "scalinglab.report._figures",
    "scalinglab.report._build",
    "scalinglab.report._backtest",
    "scalinglab.report._frontier",
    "scalinglab.render._diagnostics",
    "scalinglab.evaluate._sweep",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
