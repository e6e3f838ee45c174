"""File readers for runs tables: one module per format, chosen by name or suffix.

Built in: ``csv`` (``.csv``, ``.csv.gz``, ``.txt``), ``tsv``, ``jsonl``
(``.jsonl``, ``.ndjson``), ``json`` (an array of records) and ``parquet``
(needs pyarrow).  A new format is one function registered with :func:`reader`:

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
from scalinglab.data.readers import _csv, _jsonl, _json, _parquet  # noqa: E402,F401  isort: skip

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
