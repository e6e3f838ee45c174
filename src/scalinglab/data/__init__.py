"""Data in: read a runs table, validate it, and select checkpoints.

The canonical columns are ``run``, ``family``, ``params`` (N), ``tokens`` (D),
``flops`` (C), ``step``, ``seed`` and ``loss``; any other column is kept as a
metric.  See :func:`read_runs` and :func:`select_checkpoints`.
"""

from scalinglab.data._runs import CANONICAL_COLUMNS, RunsTable, read_runs
from scalinglab.data._select import select_checkpoints
from scalinglab.data.readers import Reader, get_reader, list_readers, reader, register_reader, unregister_reader

__all__ = ["CANONICAL_COLUMNS", "RunsTable", "read_runs", "select_checkpoints"]
__all__ += ["Reader", "reader", "register_reader", "unregister_reader", "get_reader", "list_readers"]
