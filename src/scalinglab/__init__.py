"""scalinglab: estimate, test and apply neural scaling laws.

Core API
--------
read_runs, CheckpointRule       data in (canonical runs table, readers registry, the checkpoint rule)
get_law, list_laws, law          the law registry (``scalinglab laws`` lists it)
fit, Fit, load_fit, fit_many     robust global fitting, its result, many fits as one batch
published                        constants reported by papers, ready to predict with
bootstrap, backtest, Policy      uncertainty (run bootstrap) and extrapolation backtests
analyze                          analyses (one module each: summary, to_dict, figure, report section)
transfer                         effective data transferred by pre-training (analyze.transfer)
pruning                          does a pruning metric beat power-law scaling? (analyze.pruning)
compare                          arms (architectures, recipes) compared by scaling (analyze.compare)
encdec, multilingual             encoder/decoder split (Ghorbani et al. 2021); effective parameters of
                                 multilingual mixtures (Fernandes et al. 2023)
mixed_modal                      mixed-modal interaction law and competition barrier (analyze.mixed_modal)
plan                             compute-optimal allocation, budgets, which runs to train next
build_report, report.plot_*      figures and the offline HTML report (scalinglab report / plot)
trends                           per-task trend labels (positive, inverse, U, inverted-U, emergent, flat)
datasets                         the bundled tiny-LM ladder (datasets.load("tinylm"))
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from scalinglab._version import __version__

# Names are imported on first use (PEP 562), so ``import scalinglab`` and ``scalinglab --help``
# stay fast: pandas, scipy and matplotlib load only when something needs them.
_LAZY = {
    "read_runs": "scalinglab.data",
    "select_checkpoints": "scalinglab.data",
    "RunsTable": "scalinglab.data",
    "CheckpointRule": "scalinglab.data",
    "ScalingLabError": "scalinglab.errors",
    "BootstrapResult": "scalinglab.fit",
    "Fit": "scalinglab.fit",
    "bootstrap": "scalinglab.fit",
    "fit": "scalinglab.fit",
    "load_fit": "scalinglab.fit",
    "fit_many": "scalinglab.fit",
    "FitJob": "scalinglab.fit",
    "Backtest": "scalinglab.evaluate",
    "Policy": "scalinglab.evaluate",
    "backtest": "scalinglab.evaluate",
    "select_law": "scalinglab.evaluate",
    "Law": "scalinglab.laws",
    "Param": "scalinglab.laws",
    "define_law": "scalinglab.laws",
    "get_law": "scalinglab.laws",
    "law": "scalinglab.laws",
    "list_laws": "scalinglab.laws",
    "register": "scalinglab.laws",
    "build_report": "scalinglab.report",
    "trends": "scalinglab.analyze",
    "transfer": "scalinglab.analyze",
    "pruning": "scalinglab.analyze",
    "compare": "scalinglab.analyze",
    "encdec": "scalinglab.analyze",
    "multilingual": "scalinglab.analyze",
    "mixed_modal": "scalinglab.analyze",
}
_SUBMODULES = ("analyze", "datasets", "plan", "published")

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from scalinglab import analyze, datasets, plan, published
    from scalinglab.analyze import compare, encdec, mixed_modal, multilingual, pruning, transfer, trends
    from scalinglab.data import CheckpointRule, RunsTable, read_runs, select_checkpoints
    from scalinglab.errors import ScalingLabError
    from scalinglab.evaluate import Backtest, Policy, backtest, select_law
    from scalinglab.fit import BootstrapResult, Fit, FitJob, bootstrap, fit, fit_many, load_fit
    from scalinglab.laws import Law, Param, define_law, get_law, law, list_laws, register
    from scalinglab.report import build_report


class _Package(types.ModuleType):
    """The root module: ``scalinglab.fit`` stays the function once the ``scalinglab.fit`` subpackage loads.

    Importing a subpackage binds it on its parent; the eager imports used to rebind the
    name to the function right after, and this keeps that meaning with lazy imports.
    """

    def __setattr__(self, name: str, value) -> None:
        if name == "fit" and isinstance(value, types.ModuleType) and hasattr(value, "fit"):
            value = value.fit
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"scalinglab.{name}")
    else:
        raise AttributeError(f"module 'scalinglab' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "__version__",
    "read_runs",
    "select_checkpoints",
    "CheckpointRule",
    "RunsTable",
    "get_law",
    "list_laws",
    "law",
    "define_law",
    "register",
    "Law",
    "Param",
    "fit",
    "Fit",
    "load_fit",
    "fit_many",
    "FitJob",
    "ScalingLabError",
    "bootstrap",
    "BootstrapResult",
    "backtest",
    "Backtest",
    "Policy",
    "select_law",
    "published",
    "datasets",
    "plan",
    "analyze",
    "build_report",
    "trends",
    "transfer",
    "pruning",
    "compare",
    "encdec",
    "multilingual",
    "mixed_modal",
]
