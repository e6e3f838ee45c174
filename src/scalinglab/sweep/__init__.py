"""Train ladders of tiny byte-level language models and write a runs table.

``scalinglab.sweep.run(config)`` validates a TOML/YAML config, builds a corpus
from the interpreter's standard library, trains each (width, depth, token
budget, seed) run with a budget-matched cosine schedule, and writes one row per
held-out evaluation checkpoint to ``<out>/runs.csv`` (readable by
:func:`scalinglab.read_runs`).  PyTorch (``scalinglab[train]``) is imported only
when training starts.
"""

from scalinglab.sweep.config import ModelSpec, RunSpec, SweepConfig, load_config
from scalinglab.sweep.executor import Executor, LocalExecutor, SerialExecutor
from scalinglab.sweep.runner import SweepResult, run
from scalinglab.sweep.train import COLUMNS

__all__ = [
    "run",
    "SweepResult",
    "SweepConfig",
    "ModelSpec",
    "RunSpec",
    "load_config",
    "Executor",
    "LocalExecutor",
    "SerialExecutor",
    "COLUMNS",
]
