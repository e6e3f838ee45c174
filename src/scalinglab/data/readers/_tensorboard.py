"""TensorBoard event files: scalars by tag, one directory per run, read with TensorBoard's own event reader.

A log directory holds one sub-directory per run (``logs/<run>/events.out.tfevents.*``,
as ``torch.utils.tensorboard.SummaryWriter`` and most trainers write them).  Every
scalar tag becomes a column, one row per ``(run, step)``; the run is the
directory's path under the root (the root's name when the events lie in it).
Hyper-parameters logged with the hparams plugin (``SummaryWriter.add_hparams``)
give ``params`` (``n_params``, ``num_params``...) and ``tokens`` (``tokens_per_step``,
or ``batch_size * seq_len``, times the step); a logged ``tokens`` scalar wins.
Without them ``params`` is taken from a size in the run name (``pythia-160m``).

Needs the optional ``tensorboard`` package (``pip install 'scalinglab[tensorboard]'``),
imported only when event files are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scalinglab.data.readers._registry import reader
from scalinglab.data.readers._tracking import add_sizes, wide_by_step
from scalinglab.errors import DataError

__all__ = ["read_tensorboard"]

_PATTERN = "*tfevents*"


def _detect(path: Path) -> bool:
    return next(iter(path.rglob(_PATTERN)), None) is not None


def _accumulator():
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        raise DataError(
            "reading TensorBoard event files needs the optional dependency tensorboard",
            kind="missing-dependency",
            hint="pip install 'scalinglab[tensorboard]'",
        ) from None
    return EventAccumulator


def _hparams(acc) -> dict[str, Any]:
    try:
        content = acc.PluginTagToContent("hparams")
    except KeyError:
        return {}
    from tensorboard.plugins.hparams import plugin_data_pb2

    out: dict[str, Any] = {}
    for raw in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(raw)
        if data.HasField("session_start_info"):
            for name, value in data.session_start_info.hparams.items():
                kind = value.WhichOneof("kind")
                out[name] = getattr(value, kind) if kind else None
    return out


@reader(
    "tensorboard",
    description="TensorBoard event files, one directory per run",
    directory=True,
    detect=_detect,
    suffixes=(".tfevents",),
)
def read_tensorboard(path: Path, *, tokens_per_step: float | None = None, params: float | None = None) -> pd.DataFrame:
    """A TensorBoard log directory (or one event file) -> one row per ``(run, step)``, one column per tag.

    Parameters
    ----------
    path : Path
        The log root (every ``*tfevents*`` file below it is read) or one event file.
    tokens_per_step : float, optional
        Tokens per step when neither a ``tokens`` scalar nor the hparams give them.
    params : float, optional
        Parameter count of every run, when neither the hparams nor the run names give it.
    """
    EventAccumulator = _accumulator()
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob(_PATTERN) if p.is_file())
    if not files:
        raise DataError(
            "no TensorBoard event files (events.out.tfevents.*) here",
            source=str(path),
            kind="malformed-file",
            hint="pass the log directory the SummaryWriter wrote to",
        )
    root = path.parent if path.is_file() else path
    rows: list[pd.DataFrame] = []
    configs: dict[str, dict[str, Any]] = {}
    for f in files:
        rel = f.parent.relative_to(root)
        run = root.name if str(rel) == "." else rel.as_posix()
        acc = EventAccumulator(str(f), size_guidance={"scalars": 0, "tensors": 0})
        acc.Reload()
        hp = _hparams(acc)
        if hp:  # an hparams record (add_hparams): its scalars are the summary metric_dict, not a curve
            configs.setdefault(run, {}).update(hp)
            continue
        for tag in acc.Tags().get("scalars", []):
            events = acc.Scalars(tag)
            rows.append(
                pd.DataFrame(
                    {"run": run, "step": [e.step for e in events], "metric": tag, "value": [e.value for e in events]}
                )
            )
    # torch's add_hparams writes into a sub-directory of the run: give its hparams to the run above
    runs_with_scalars = {str(r["run"].iloc[0]) for r in rows if len(r)}
    for run in list(configs):
        if run not in runs_with_scalars:
            parent = run.rsplit("/", 1)[0] if "/" in run else root.name
            if parent in runs_with_scalars:
                configs.setdefault(parent, {}).update(configs.pop(run))
    if not rows:
        raise DataError(
            "the event files hold no scalars",
            source=str(path),
            kind="malformed-file",
            hint="log the loss with SummaryWriter.add_scalar(tag, value, step)",
        )
    wide = wide_by_step(pd.concat(rows, ignore_index=True))
    return add_sizes(wide, configs, tokens_per_step=tokens_per_step, params=params)
