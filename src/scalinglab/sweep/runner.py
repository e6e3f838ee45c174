"""``scalinglab.sweep.run``: validate a config, build the corpus, train missing runs.

Output directory layout::

    <out>/sweep.json          config, corpus (SHA-256, sizes, Python), torch, machine, and a
                              history of invocations (UTC start, last run finished, runs trained)
    <out>/corpus/             train.u8 / val.u8 byte arrays + corpus.json (cache)
    <out>/corpus-<kind>/      the same for the english / code corpora of a transfer sweep
    <out>/weights/<run_id>.pt final weights of the runs that fine-tuning stages start from
    <out>/runs/<run_id>.csv   one finished run's checkpoint rows (written atomically)
    <out>/runs/<run_id>.json  its metadata (wall and CPU time, device, versions)
    <out>/runs.csv            all finished runs, in config order (rebuilt atomically after each run)

A run whose ``runs/<run_id>.csv`` exists (and, for a fine-tuning source, its
weights) is finished and skipped, so an interrupted sweep continues where it
stopped.  Fine-tuning sources are trained first, in a batch of their own, so
with several workers no fine-tune starts before its source has finished.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scalinglab._io import write_atomic
from scalinglab.errors import ConfigError
from scalinglab.sweep.config import SweepConfig, load_config
from scalinglab.sweep.corpus import build_corpus
from scalinglab.sweep.executor import Executor, LocalExecutor
from scalinglab.sweep.train import COLUMNS, TRANSFER_COLUMNS, TrainTask, mixed_columns, write_csv_atomic

__all__ = ["run", "SweepResult", "collect_rows"]


@dataclass
class SweepResult:
    """What :func:`run` did.

    Attributes
    ----------
    out : Path
        Output directory; ``runs_csv`` is the combined runs table.
    trained, skipped : list of str
        Run ids trained in this call, and those already finished before it.
    wall_time : float
        Seconds this call took.
    """

    out: Path
    runs_csv: Path
    trained: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    wall_time: float = 0.0
    corpus: dict = field(default_factory=dict)

    def table(self):
        """The combined runs table as a pandas DataFrame."""
        import pandas as pd

        return pd.read_csv(self.runs_csv)

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "runs_csv": str(self.runs_csv),
            "trained": self.trained,
            "skipped": self.skipped,
            "wall_time": round(self.wall_time, 3),
            "corpus": self.corpus,
        }


def collect_rows(out: Path, run_ids: list[str]) -> list[dict]:
    """Read the finished runs' CSV files, in the given order."""
    rows: list[dict] = []
    for rid in run_ids:
        p = Path(out) / "runs" / f"{rid}.csv"
        if p.exists():
            with open(p, newline="") as f:
                rows.extend(csv.DictReader(f))
    return rows


def _torch_version() -> str | None:
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def run(
    config: SweepConfig | Mapping[str, Any] | str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = True,
) -> SweepResult:
    """Train every unfinished run of a sweep and write the runs table.

    Parameters
    ----------
    config
        Path to a TOML/YAML file, a mapping, or a :class:`SweepConfig`.
        Validated completely before anything is trained or written.
    out
        Output directory (default: the config's ``out``, else ``sweeps/<name>``).
    workers
        Runs trained at once by the default :class:`LocalExecutor`
        (default: the config's ``workers``, else the number of CPUs).
    executor
        Alternative executor (e.g. :class:`SerialExecutor`).
    progress
        Show a ``rich`` progress bar of runs and tokens.

    Returns
    -------
    SweepResult
    """
    cfg = load_config(config)
    if workers is not None and (isinstance(workers, bool) or int(workers) < 1):
        raise ConfigError(f"workers must be a positive integer, got {workers!r}", hint="use --workers 1 or more")
    out_dir = Path(out or cfg.out or Path("sweeps") / cfg.name)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"output path {out_dir} exists and is not a directory")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ConfigError("training needs PyTorch", hint="pip install 'scalinglab[train]'") from None
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "runs").mkdir(exist_ok=True)
    corpus_dirs = {k: out_dir / ("corpus" if k == "stdlib" else f"corpus-{k}") for k in cfg.corpora()}
    columns = mixed_columns(list(corpus_dirs)) if cfg.is_mixed else TRANSFER_COLUMNS if cfg.is_transfer else COLUMNS
    corpora = {k: build_corpus(d, cfg.val_fraction, kind=k) for k, d in corpus_dirs.items()}
    corpus = corpora.get("stdlib") or next(iter(corpora.values()))
    specs = cfg.runs()
    by_id = {s.run_id: s for s in specs}
    all_ids = [s.run_id for s in specs]

    def is_done(s) -> bool:
        if not (out_dir / "runs" / f"{s.run_id}.csv").exists():
            return False
        return not s.save_weights or (out_dir / "weights" / f"{s.run_id}.pt").exists()

    done = {s.run_id for s in specs if is_done(s)}
    todo = [s for s in specs if s.run_id not in done]
    meta_path = out_dir / "sweep.json"
    meta = {
        "config": cfg.to_dict(),
        "config_source": cfg.source,
        "corpus": corpus.to_dict(),
        **({"corpora": {k: c.to_dict() for k, c in corpora.items()}} if cfg.is_transfer else {}),
        "python": platform.python_version(),
        "torch": _torch_version(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "runs": all_ids,
    }
    history: list[dict] = []
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        old_corpora = old.get("corpora") or {old.get("corpus", {}).get("kind", "stdlib"): old.get("corpus", {})}
        for k, c in corpora.items():
            if old_corpora.get(k, {}).get("sha256") not in (None, c.sha256):
                raise ConfigError(
                    f"{out_dir} holds runs trained on a different {k} corpus "
                    f"(sha256 {old_corpora[k]['sha256'][:12]}...)",
                    hint="use a fresh --out directory for this Python version",
                )
        history = list(old.get("history", []))
    session = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "finished": None,
        "trained": [],
        "workers": None,
    }
    history.append(session)
    meta["history"] = history

    def save_meta() -> None:
        write_atomic(meta_path, json.dumps(meta, indent=2))

    save_meta()

    runs_csv = out_dir / "runs.csv"
    result = SweepResult(
        out=out_dir, runs_csv=runs_csv, skipped=[s.run_id for s in specs if s.run_id in done], corpus=corpus.to_dict()
    )
    write_csv_atomic(runs_csv, collect_rows(out_dir, all_ids), columns)

    def task(s) -> TrainTask:
        src = by_id.get(s.init_from) if s.init_from else None
        return TrainTask(
            s,
            cfg,
            str(corpus_dirs[s.mix[0][0] if s.mix else s.corpus]),
            str(out_dir),
            init_corpus=src.corpus if src else None,
            init_tokens=(src.budget // cfg.tokens_per_step) * cfg.tokens_per_step if src else None,
            corpus_dirs=tuple((k, str(d)) for k, d in corpus_dirs.items()) if cfg.is_mixed else (),
        )

    tasks = [task(s) for s in todo]
    # fine-tuning sources in a batch of their own, so that no fine-tune starts before its source ends
    batches = [
        b for b in ([t for t in tasks if t.spec.save_weights], [t for t in tasks if not t.spec.save_weights]) if b
    ]
    ex = executor or LocalExecutor(workers or cfg.workers)
    session["workers"] = ex.workers

    def finished(m: dict) -> None:
        result.trained.append(m["run"])
        write_csv_atomic(runs_csv, collect_rows(out_dir, all_ids), columns)
        session["trained"] = list(result.trained)
        session["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        save_meta()

    if tasks:
        total_tokens = sum(
            (t.spec.budget // (cfg.seq_len * (t.spec.batch_size or cfg.batch_size)))
            * cfg.seq_len
            * (t.spec.batch_size or cfg.batch_size)
            for t in tasks
        )
        if progress:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            ) as bar:
                t_runs = bar.add_task("runs", total=len(tasks))
                t_tok = bar.add_task("tokens", total=total_tokens)
                for batch in batches:
                    for m in ex.run(batch, lambda rid, n: bar.advance(t_tok, n)):
                        finished(m)
                        bar.advance(t_runs, 1)
        else:
            for batch in batches:
                for m in ex.run(batch, None):
                    finished(m)
    session["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save_meta()
    result.wall_time = time.perf_counter() - t0
    return result
