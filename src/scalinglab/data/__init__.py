"""Data in: read a runs table, validate it, and select checkpoints.

The canonical columns are ``run``, ``family``, ``params`` (N), ``tokens`` (D),
``flops`` (C), ``step``, ``seed`` and ``loss``; any other column is kept as a
metric.  See :func:`read_runs` (formats come from the reader registry,
:mod:`scalinglab.data.readers`) and :class:`CheckpointRule`.
"""

from scalinglab.data._checkpoints import CheckpointRule, select_checkpoints, training_fraction
from scalinglab.data._runs import CANONICAL_COLUMNS, RunsTable, read_runs
from scalinglab.data.readers import Reader, get_reader, list_readers, reader, register_reader, unregister_reader

__all__ = [
    "CANONICAL_COLUMNS",
    "CheckpointRule",
    "RunsTable",
    "read_runs",
    "select_checkpoints",
    "training_fraction",
    "Reader",
    "reader",
    "register_reader",
    "unregister_reader",
    "get_reader",
    "list_readers",
]
