"""JSON runs files: one array of records, ``[{"params": ..., "loss": ...}, ...]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader

__all__ = ["read_json"]


@reader("json", suffixes=(".json", ".json.gz"), description="a JSON array of records")
def read_json(path: Path, **options: Any) -> pd.DataFrame:
    """A JSON array of records; ``options`` go to :func:`pandas.read_json`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.json"
    >>> _ = p.write_text('[{"run": "a", "params": 1e6, "loss": 3.2}, {"run": "b", "params": 1e7, "loss": 2.9}]')
    >>> read_json(p)["run"].tolist()
    ['a', 'b']
    """
    return pd.read_json(path, **options)
