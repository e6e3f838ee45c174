"""scalinglab: estimate, test and apply neural scaling laws.

Core API
--------
read_runs, select_checkpoints   data in (canonical runs table, checkpoint rules)
get_law, list_laws, law          the law registry (``scalinglab laws`` lists it)
fit, Fit, load_fit               robust global fitting and its result
published                        constants reported by papers, ready to predict with
bootstrap, backtest, select_law  uncertainty (run bootstrap) and extrapolation backtests
plan                             compute-optimal allocation, budgets, which runs to train next
build_report, report.plot_*      figures and the offline HTML report (scalinglab report / plot)
trends                           per-task trend labels (positive, inverse, U, inverted-U, emergent, flat)
datasets                         the bundled tiny-LM ladder (datasets.load("tinylm"))
"""

from scalinglab._version import __version__

from scalinglab.data import RunsTable, read_runs, select_checkpoints
from scalinglab.errors import ScalingLabError
from scalinglab.fit import BootstrapResult, Fit, bootstrap, fit, load_fit
from scalinglab.evaluate import Backtest, Policy, backtest, select_law
from scalinglab.laws import Law, Param, define_law, get_law, law, list_laws, register
from scalinglab import datasets, plan, published
from scalinglab.report import build_report
from scalinglab.analyze import trends

__all__ = [
    "__version__", "read_runs", "select_checkpoints", "RunsTable", "get_law", "list_laws", "law",
    "define_law", "register", "Law", "Param", "fit", "Fit", "load_fit", "ScalingLabError", "bootstrap", "BootstrapResult",
    "backtest", "Backtest", "Policy", "select_law",
    "published", "datasets", "plan", "build_report", "trends",
]
