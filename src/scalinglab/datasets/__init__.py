"""Runs tables bundled with scalinglab.

``tinylm`` is a real ladder of byte-level transformer language models trained
with ``scalinglab sweep`` on this toolkit's reference machine; its card
(:func:`card`) records the config, corpus hash, versions, measured cost and the
command that regenerates it.  ``tinylm-transfer`` is a text -> python transfer
ladder (pre-trained on the standard library's English, fine-tuned on its code,
and trained from scratch on the code; ``stage`` tells them apart) for
:func:`scalinglab.transfer`.  ``tinylm-mixed`` is a mixed-modal ladder (unimodal runs on
the standard library's code and on its English, joint runs on mixtures of the two, every
run evaluated on both) for :func:`scalinglab.mixed_modal`.

>>> from scalinglab import datasets
>>> datasets.list_datasets()
['tinylm', 'tinylm-mixed', 'tinylm-shallow', 'tinylm-transfer']
>>> df = datasets.load("tinylm")          # one row per evaluated checkpoint
>>> df["run"].nunique(), df["params"].nunique()
(21, 6)
>>> datasets.card("tinylm").splitlines()[0]   # the card, in markdown
'# tinylm: a real ladder of tiny byte-level language models'
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from scalinglab.errors import InvalidParameterError

__all__ = ["list_datasets", "load", "card", "data_path", "config_path"]


def _data_dir():
    return resources.files("scalinglab.datasets") / "data"


def list_datasets() -> list[str]:
    """Names of the bundled datasets (each has ``<name>.csv`` and a ``<name>.md`` card)."""
    d = _data_dir()
    names = {p.name[:-4] for p in d.iterdir() if p.name.endswith(".csv")}
    return sorted(n for n in names if (d / f"{n}.md").is_file())


def _file(name: str, suffix: str):
    if not isinstance(name, str) or name not in list_datasets():
        avail = ", ".join(list_datasets()) or "none"
        raise InvalidParameterError(f"unknown dataset {name!r}", hint=f"available datasets: {avail}")
    return _data_dir() / f"{name}{suffix}"


def data_path(name: str) -> Path:
    """Filesystem path of the dataset's runs table (CSV), e.g. for :func:`scalinglab.read_runs`."""
    return Path(str(_file(name, ".csv")))


def config_path(name: str) -> Path:
    """Path of the sweep config that produced the dataset (``scalinglab sweep`` input)."""
    return Path(str(_file(name, ".toml")))


def load(name: str = "tinylm") -> pd.DataFrame:
    """Load a bundled runs table as a DataFrame (one row per checkpoint).

    Columns: ``run, family, params`` (non-embedding), ``params_total, tokens,
    flops`` (6ND), ``flops_counted, step, seed, loss`` (held-out, nats/byte),
    ``train_loss, width, depth, token_budget, lr, wall_time, final``.
    """
    with _file(name, ".csv").open("r") as f:
        df = pd.read_csv(f)
    if "final" in df.columns:
        df["final"] = df["final"].astype(bool)
    return df


def card(name: str = "tinylm") -> str:
    """The dataset card (markdown): provenance, cost, regenerate command and measured fits."""
    return _file(name, ".md").read_text()
