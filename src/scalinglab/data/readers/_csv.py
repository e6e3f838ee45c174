"""CSV and TSV runs files: one header row, one row per checkpoint (``.gz`` is decompressed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader

__all__ = ["read_csv", "read_tsv"]


@reader("csv", suffixes=(".csv", ".csv.gz", ".txt"), description="comma-separated values with a header row")
def read_csv(path: Path, **options: Any) -> pd.DataFrame:
    """Comma-separated values; ``options`` go to :func:`pandas.read_csv` (e.g. ``sep=";"``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.csv"
    >>> _ = p.write_text("run,params,loss\\na,1e6,3.2\\n")
    >>> read_csv(p).to_dict("records")
    [{'run': 'a', 'params': 1000000.0, 'loss': 3.2}]
    """
    frame = pd.read_csv(path, **{"sep": ",", **options})
    if not options:  # a W&B chart export ('Step', '<run> - <metric>'): one row per (run, step)
        from scalinglab.data.readers._wandb import looks_like_wandb, wandb_table

        if looks_like_wandb(frame.columns):
            return wandb_table([(frame, path.stem)], source=str(path))
    return frame


@reader("tsv", suffixes=(".tsv", ".tsv.gz"), description="tab-separated values with a header row")
def read_tsv(path: Path, **options: Any) -> pd.DataFrame:
    """Tab-separated values; ``options`` go to :func:`pandas.read_csv`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "runs.tsv"
    >>> _ = p.write_text("run\\tparams\\tloss\\na\\t1e6\\t3.2\\n")
    >>> read_tsv(p).to_dict("records")
    [{'run': 'a', 'params': 1000000.0, 'loss': 3.2}]
    """
    return pd.read_csv(path, **{"sep": "\t", **options})
