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
plan                             compute-optimal allocation, budgets, which runs to train next
build_report, report.plot_*      figures and the offline HTML report (scalinglab report / plot)
datasets                         the bundled tiny-LM ladder (datasets.load("tinylm"))
"""

from scalinglab import analyze, datasets, plan, published
from scalinglab._version import __version__
from scalinglab.analyze.transfer import transfer
from scalinglab.data import CheckpointRule, RunsTable, read_runs, select_checkpoints
from scalinglab.errors import ScalingLabError
from scalinglab.evaluate import Backtest, Policy, backtest, select_law
from scalinglab.fit import BootstrapResult, Fit, FitJob, bootstrap, fit, fit_many, load_fit
from scalinglab.laws import Law, Param, define_law, get_law, law, list_laws, register
from scalinglab.report import build_report

__all__ = [
    "__version__", "read_runs", "select_checkpoints", "CheckpointRule", "RunsTable", "get_law", "list_laws", "law",
    "define_law", "register", "Law", "Param", "fit", "Fit", "load_fit", "fit_many", "FitJob", "ScalingLabError", "bootstrap", "BootstrapResult",
    "backtest", "Backtest", "Policy", "select_law",
    "published", "datasets", "plan", "analyze", "build_report", "transfer",
]
