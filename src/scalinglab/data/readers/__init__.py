"""File readers for runs tables: one module per format, chosen by name or suffix.

Built in: ``csv`` (``.csv``, ``.csv.gz``, ``.txt``), ``tsv``, ``jsonl``
(``.jsonl``, ``.ndjson``), ``json`` (an array of records) and ``parquet``
(needs pyarrow); from experiment trackers ``wandb`` (CSV exports; a chart export
read as ``csv`` is recognised too), ``tensorboard`` (event files, needs
tensorboard), ``mlflow`` (a store or tracking URI, needs mlflow) and
``trainer-log`` (JSON Lines trainer logs).  Directories are read by the
tracker readers that recognise them.  A new format is one function registered with :func:`reader`:

>>> import pandas as pd
>>> @reader("pipe", suffixes=(".runs",), description="'|'-separated values")
... def read_pipe(path, **options):
...     return pd.read_csv(path, sep="|", **options)
>>> get_reader("ladder.runs").name
'pipe'
>>> _ = unregister_reader("pipe")

after which :func:`scalinglab.data.read_runs` reads ``*.runs`` files, and any
file with ``format="pipe"``.
"""

from scalinglab.data.readers._registry import (
    Reader,
    ReaderFunc,
    get_reader,
    list_readers,
    read_table,
    reader,
    register_reader,
    unregister_reader,
)

# The built-in formats register themselves on import, in this order.
from scalinglab.data.readers import _csv, _jsonl, _json, _parquet  # noqa: F401  isort: skip

# Experiment trackers: W&B CSV exports, TensorBoard, MLflow, trainer JSON Lines logs (optional packages lazily).
from scalinglab.data.readers import _wandb, _tensorboard, _mlflow, _trainer_log  # noqa: F401  isort: skip

__all__ = [
    "Reader",
    "ReaderFunc",
    "reader",
    "register_reader",
    "unregister_reader",
    "get_reader",
    "list_readers",
    "read_table",
]
