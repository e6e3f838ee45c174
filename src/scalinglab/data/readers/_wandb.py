"""Weights & Biases CSV exports: ``Step`` plus ``<run> - <metric>`` columns, one file per chart or per run.

A chart exported from W&B ("Export panel data -> CSV") has a ``Step`` column
and, for every run on the chart, ``<run> - <metric>`` with ``__MIN`` / ``__MAX``
companions (the range W&B sampled the point from; dropped unless
``companions=True``).  A run's history exported from the API has ``_step``
(or ``step``) and one column per metric; the run is named after the file.

The reader turns either into one row per ``(run, step)`` with one column per
metric, reads a whole directory of exports at once (one chart per file, joined
on run and step), and joins restart segments (``OLMo-7B-run-037``,
``OLMo-7B-run-038``, ... -> ``OLMo-7B``) back into one run in step order.
``params`` comes from a size in the run name (``7B``); ``tokens`` from
``step * tokens_per_step`` when you give it (W&B charts carry no token count).

>>> import pandas as pd, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "wandb_export.csv"
>>> pd.DataFrame({"Step": [1000, 2000], "m-1B-run-001 - eval/loss": [3.1, None],
...               "m-1B-run-002 - eval/loss": [None, 2.9]}).to_csv(p, index=False)
>>> read_wandb(p, tokens_per_step=4e6).values.tolist()
[['m-1B', 1000.0, 3.1, 1, 1000000000.0, 4000000000.0], ['m-1B', 2000.0, 2.9, 2, 1000000000.0, 8000000000.0]]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.data.readers._registry import reader
from scalinglab.data.readers._tracking import add_sizes, join_segments, step_column, wide_by_step
from scalinglab.errors import DataError

__all__ = ["read_wandb", "looks_like_wandb", "wandb_long", "wandb_table"]

_SEP = " - "
_COMPANIONS = ("__MIN", "__MAX")


def looks_like_wandb(columns: Iterable[Any]) -> bool:
    """True for a W&B chart export's header: ``Step`` first, every other column ``<run> - <metric>``.

    Examples
    --------
    >>> looks_like_wandb(["Step", "a - loss", "a - loss__MIN"]), looks_like_wandb(["run", "params", "loss"])
    (True, False)
    """
    cols = [str(c) for c in columns]
    return len(cols) > 1 and cols[0] == "Step" and all(_SEP in c for c in cols[1:])


def wandb_long(frame: pd.DataFrame, *, run: str = "run", companions: bool = False) -> pd.DataFrame:
    """One export table -> ``run, step, metric, value`` rows (``run`` names the run of a history export)."""
    if looks_like_wandb(frame.columns):
        step = "Step"
        named = {c: tuple(x.strip() for x in str(c).split(_SEP, 1)) for c in frame.columns[1:]}
    else:
        step = step_column(frame.columns)
        if step is None:
            raise DataError(
                "not a W&B export: no 'Step' column and no '<run> - <metric>' columns",
                kind="missing-column",
                column="Step",
                hint="export the chart with W&B's 'Export panel data -> CSV', or read the file with "
                "format='csv' and map its columns",
            )
        skip = {step, "_runtime", "_timestamp", "_wandb"}
        named = {c: (run, str(c)) for c in frame.columns if c not in skip}
    steps = pd.to_numeric(frame[step], errors="coerce").to_numpy(dtype=float)
    runs, metrics, step_parts, values = [], [], [], []
    for col, (name, metric) in named.items():
        if not companions and metric.endswith(_COMPANIONS):
            continue
        v = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(v) & np.isfinite(steps)
        if keep.any():
            n = int(keep.sum())
            runs.append(np.repeat(_run_name(name), n))
            metrics.append(np.repeat(metric, n))
            step_parts.append(steps[keep])
            values.append(v[keep])
    if not values:
        return pd.DataFrame({"run": [], "step": [], "metric": [], "value": []})
    return pd.DataFrame(
        {
            "run": np.concatenate(runs),
            "step": np.concatenate(step_parts),
            "metric": np.concatenate(metrics),
            "value": np.concatenate(values),
        }
    )


def _run_name(name: str) -> str:
    """W&B prefixes grouped runs with ``Group: ``; the group is the run."""
    return name[len("Group: ") :].strip() if name.startswith("Group: ") else name


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.csv") if p.is_file())
        if not files:
            raise DataError(
                "no .csv files in this directory",
                source=str(path),
                kind="not-a-file",
                hint="pass a W&B export file or a directory of them",
            )
        return files
    return [path]


def _detect(path: Path) -> bool:
    for p in sorted(path.glob("*.csv"))[:3]:
        try:
            header = pd.read_csv(p, nrows=0).columns
        except Exception:
            return False
        if p.name.startswith("wandb_export") or looks_like_wandb(header):
            return True
    return False


@reader(
    "wandb",
    description="Weights & Biases CSV export(s): Step and '<run> - <metric>' columns",
    directory=True,
    detect=_detect,
)
def read_wandb(
    path: Path,
    *,
    tokens_per_step: float | None = None,
    params: float | None = None,
    join_restarts: bool = True,
    companions: bool = False,
) -> pd.DataFrame:
    """W&B CSV export(s) -> one row per ``(run, step)``, one column per metric.

    Parameters
    ----------
    path : Path
        One export, or a directory of them (every ``*.csv``; charts are joined on run and step).
    tokens_per_step : float, optional
        Tokens per optimizer step, giving ``tokens = step * tokens_per_step``.
    params : float, optional
        Parameter count of every run (default: a size in the run name, e.g. ``7B``).
    join_restarts : bool
        Join ``<name>-run-NNN`` restart segments into one run ``<name>`` in step order.
    companions : bool
        Keep the ``__MIN`` / ``__MAX`` columns.
    """
    path = Path(path)
    frames = [(pd.read_csv(f), f.stem) for f in _files(path)]
    return wandb_table(
        frames,
        source=str(path),
        tokens_per_step=tokens_per_step,
        params=params,
        join_restarts=join_restarts,
        companions=companions,
    )


def wandb_table(
    frames: list[tuple[pd.DataFrame, str]],
    *,
    source: str = "<DataFrame>",
    tokens_per_step: float | None = None,
    params: float | None = None,
    join_restarts: bool = True,
    companions: bool = False,
) -> pd.DataFrame:
    """Export tables (each with the run name to use for a history export) -> the reader's table."""
    path = source
    long = pd.concat([wandb_long(f, run=name, companions=companions) for f, name in frames], ignore_index=True)
    if long.empty:
        raise DataError(
            "the W&B export holds no numeric values",
            source=path,
            kind="malformed-file",
            hint="check that the chart had data when it was exported",
        )
    wide = wide_by_step(long)
    notes: list[str] = []
    if join_restarts:
        wide, notes = join_segments(wide)
    out = add_sizes(wide, tokens_per_step=tokens_per_step, params=params)
    out.attrs["notes"] = notes
    return out
