"""JSON Lines runs files: one JSON object per line, one line per checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader

__all__ = ["read_jsonl"]


@reader(
    "jsonl", suffixes=(".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"), description="JSON Lines, one object per line"
)
def read_jsonl(path: Path, **options: Any) -> pd.DataFrame:
    """JSON Lines; ``options`` go to :func:`pandas.read_json`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.jsonl"
    >>> _ = p.write_text('{"run": "a", "params": 1e6, "loss": 3.2}\\n{"run": "b", "params": 1e7, "loss": 2.9}\\n')
    >>> read_jsonl(p)["params"].tolist()
    [1000000, 10000000]
    """
    return pd.read_json(path, **{"lines": True, **options})
