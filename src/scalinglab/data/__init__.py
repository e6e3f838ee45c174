"""Data in: read a runs table, validate it, and select checkpoints.

The canonical columns are ``run``, ``family``, ``params`` (N), ``tokens`` (D),
``flops`` (C), ``step``, ``seed`` and ``loss``; any other column is kept as a
metric.  See :func:`read_runs` and :class:`CheckpointRule`.
"""

from scalinglab.data._runs import CANONICAL_COLUMNS, RunsTable, read_runs
from scalinglab.data._checkpoints import CheckpointRule, select_checkpoints, training_fraction

__all__ = ["CANONICAL_COLUMNS", "CheckpointRule", "RunsTable", "read_runs", "select_checkpoints", "training_fraction"]
