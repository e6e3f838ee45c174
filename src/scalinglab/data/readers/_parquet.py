"""Parquet runs files, through the optional dependency pyarrow (``scalinglab[parquet]``).

pyarrow is imported only when a Parquet file is read, so the rest of the
package works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader
from scalinglab.errors import DataError

__all__ = ["read_parquet"]


@reader("parquet", suffixes=(".parquet", ".pq"), description="Apache Parquet")
def read_parquet(path: Path, **options: Any) -> pd.DataFrame:
    """Parquet; ``options`` go to :func:`pandas.read_parquet`.

    Raises
    ------
    DataError
        pyarrow is not installed (``kind="missing-dependency"``).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.parquet"
    >>> pd.DataFrame({"run": ["a"], "loss": [3.2]}).to_parquet(p)
    >>> read_parquet(p).to_dict("records")
    [{'run': 'a', 'loss': 3.2}]
    """
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DataError(
            "reading Parquet needs the optional dependency pyarrow",
            source=str(path),
            hint="pip install 'scalinglab[parquet]'",
            kind="missing-dependency",
        ) from None
    return pd.read_parquet(path, **options)
