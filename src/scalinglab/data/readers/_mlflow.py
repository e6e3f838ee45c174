"""MLflow runs: a local store (``mlruns/``) or a tracking URI, read through the ``mlflow`` client.

Every run of the chosen experiments (default: all) becomes rows ``(run, step)``
with one column per metric (its full history, ``MlflowClient.get_metric_history``)
plus ``experiment``.  The run is its name (``mlflow.runName``; the run id when
two runs share a name).  The run's params give ``params`` (``n_params``,
``num_params``...) and ``tokens`` (``tokens_per_step``, or ``batch_size *
seq_len``, times the step); a logged ``tokens`` metric wins; else a size in the
run name counts (``ladder-70M``).

Sources: a directory (a file store, e.g. ``./mlruns``), or a URI
(``http://host:5000``, ``sqlite:///mlflow.db``, ``file:///path/mlruns``,
``databricks``) with ``format="mlflow"`` (CLI ``--format mlflow``).  Needs the
optional ``mlflow`` client (``pip install 'scalinglab[mlflow]'``), imported only here.
MLflow 3 refuses file stores unless ``MLFLOW_ALLOW_FILE_STORE=true``; the reader
sets it for the read only (reading an existing store changes nothing in it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader
from scalinglab.data.readers._tracking import add_sizes, closest_names
from scalinglab.errors import DataError

__all__ = ["read_mlflow"]


def _detect(path: Path) -> bool:
    # a file store: <exp id>/meta.yaml with <exp id>/<run id>/meta.yaml below it
    return any((p / "meta.yaml").is_file() for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))


@contextmanager
def _file_store_allowed() -> Iterator[None]:
    old = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = old


def _client(uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise DataError(
            "reading MLflow runs needs the optional dependency mlflow",
            source=uri,
            kind="missing-dependency",
            hint="pip install 'scalinglab[mlflow]'",
        ) from None
    return MlflowClient(tracking_uri=uri)


@reader(
    "mlflow",
    description="MLflow runs: a local store directory or a tracking URI",
    directory=True,
    uri=True,
    detect=_detect,
)
def read_mlflow(
    source: Any, *, experiment: str | Sequence[str] | None = None, tokens_per_step: float | None = None
) -> pd.DataFrame:
    """MLflow runs -> one row per ``(run, step)``, one column per metric, plus ``experiment``.

    Parameters
    ----------
    source : Path or str
        A local store directory (``mlruns``) or a tracking URI.
    experiment : str or list of str, optional
        Experiment names or ids to read (default: every experiment).
    tokens_per_step : float, optional
        Tokens per step when neither a ``tokens`` metric nor the run's params give them.
    """
    uri = Path(source).resolve().as_uri() if isinstance(source, Path) else str(source)
    with _file_store_allowed():
        client = _client(uri)
        experiments = client.search_experiments()
        if experiment is not None:
            wanted = [str(w) for w in ([experiment] if isinstance(experiment, (str, int)) else list(experiment))]
            chosen = [e for e in experiments if e.name in wanted or e.experiment_id in wanted]
            missing = [w for w in wanted if w not in {e.name for e in chosen} | {e.experiment_id for e in chosen}]
            if missing:
                names = [e.name for e in experiments]
                close = closest_names(missing[0], names)
                raise DataError(
                    f"no MLflow experiment named '{missing[0]}' ({len(names)} experiment(s) in the store)",
                    source=uri,
                    kind="missing-column",
                    hint=(f"did you mean {', '.join(repr(c) for c in close)}? " if close else "")
                    + "pass experiment= one of the store's experiment names or ids",
                )
            experiments = chosen
        by_id = {e.experiment_id: e.name for e in experiments}
        runs = client.search_runs(list(by_id)) if by_id else []
        names = [r.info.run_name or r.info.run_id for r in runs]
        rows: list[pd.DataFrame] = []
        configs: dict[str, dict[str, Any]] = {}
        for r, name in zip(runs, names):
            run = name if names.count(name) == 1 else f"{name}-{r.info.run_id[:8]}"
            configs[run] = dict(r.data.params)
            for key in r.data.metrics:
                history = client.get_metric_history(r.info.run_id, key)
                rows.append(
                    pd.DataFrame(
                        {
                            "run": run,
                            "experiment": by_id[r.info.experiment_id],
                            "step": [m.step for m in history],
                            "metric": key,
                            "value": [m.value for m in history],
                        }
                    )
                )
    if not rows:
        raise DataError(
            "the MLflow store holds no logged metrics"
            + (f" in experiment(s) {sorted(by_id.values())}" if by_id else ""),
            source=uri,
            kind="malformed-file",
            hint="log the loss with mlflow.log_metric('loss', value, step=step)",
        )
    long = pd.concat(rows, ignore_index=True)
    wide = long.pivot_table(
        index=["run", "experiment", "step"], columns="metric", values="value", aggfunc="last", sort=True
    )
    wide.columns.name = None
    return add_sizes(wide.reset_index(), configs, tokens_per_step=tokens_per_step)
