"""Train one run of the ladder and write its checkpoint rows atomically.

The learning-rate schedule spans exactly the run's budget: linear warmup over
``warmup_frac`` of the steps, then cosine decay to ``min_lr_frac`` of the peak
at the last step,

    lr(s) = lr_min + (lr - lr_min) * (1 + cos(pi * (s - w) / (S - w))) / 2,

so every run ends its own schedule (a schedule cut short distorts the curve;
Hoffmann et al. 2022, sec. 3 / app. B).

A fine-tuning run (``spec.init_from``) loads its source run's final weights,
starts a fresh AdamW with its own schedule over its own budget D_F, and
records the loss of the source model on the new corpus before any step
(``init_loss``).  Transfer sweeps write :data:`TRANSFER_COLUMNS`.

A mixed run (``spec.mix``, Aghajanyan et al. 2023) draws each batch's sequences
from several corpora in fixed proportions; in a sweep with mixtures every run is
evaluated on every corpus (:func:`mixed_columns`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from scalinglab._io import write_atomic
from scalinglab.sweep.config import RunSpec, SweepConfig
from scalinglab.sweep.model import flops_per_token, param_counts

__all__ = [
    "COLUMNS",
    "TRANSFER_COLUMNS",
    "mixed_columns",
    "TrainTask",
    "train_run",
    "checkpoint_steps",
    "lr_at",
    "write_csv_atomic",
]

#: Column order of the runs table (the contract with :func:`scalinglab.read_runs`).
COLUMNS = (
    "run",
    "family",
    "params",
    "params_total",
    "tokens",
    "flops",
    "flops_counted",
    "step",
    "seed",
    "loss",
    "train_loss",
    "width",
    "depth",
    "token_budget",
    "lr",
    "wall_time",
    "final",
)

#: Columns of a transfer sweep (corpus or fine-tuning stages): :data:`COLUMNS` plus ``stage``
#: (pretrain / finetune / scratch), ``corpus``, the source run, its corpus and its tokens, and
#: ``init_loss`` (the source model's loss on this corpus before fine-tuning).  For a fine-tuned
#: run ``tokens`` counts fine-tuning tokens (D_F) and ``flops`` the fine-tuning stage only.
TRANSFER_COLUMNS = COLUMNS + ("stage", "corpus", "init_run", "init_corpus", "init_tokens", "init_loss")


def mixed_columns(kinds) -> tuple[str, ...]:
    """Columns of a sweep with mixtures: :data:`TRANSFER_COLUMNS`, ``mix``, then tokens and loss per corpus.

    >>> mixed_columns(["code", "english"])[-5:]
    ('mix', 'tokens_code', 'tokens_english', 'loss_code', 'loss_english')
    """
    return TRANSFER_COLUMNS + ("mix",) + tuple(f"tokens_{k}" for k in kinds) + tuple(f"loss_{k}" for k in kinds)


@dataclass(frozen=True)
class TrainTask:
    """Everything a worker process needs to train one run (picklable)."""

    spec: RunSpec
    config: SweepConfig
    corpus_dir: str
    out_dir: str
    init_corpus: str | None = None
    init_tokens: int | None = None
    #: ``(kind, corpus_dir)`` of every corpus of a sweep with mixtures (each run is evaluated on each)
    corpus_dirs: tuple[tuple[str, str], ...] = ()


def checkpoint_steps(total_steps: int, n: int) -> list[int]:
    """``n`` log-spaced evaluation steps from ``total_steps / 64`` to the end (always incl. the last)."""
    first = max(1.0, total_steps / 64)
    steps = np.unique(np.round(np.geomspace(first, total_steps, max(n, 1))).astype(int))
    steps = [int(s) for s in steps if 1 <= s <= total_steps]
    if steps[-1] != total_steps:
        steps.append(total_steps)
    return steps


def lr_at(step: int, total_steps: int, peak: float, warmup_frac: float, min_frac: float) -> float:
    """Learning rate for (1-based) ``step``: linear warmup then cosine to ``min_frac * peak``."""
    warm = max(1, int(round(warmup_frac * total_steps))) if warmup_frac > 0 else 0
    if step <= warm:
        return peak * step / warm
    progress = (step - warm) / max(1, total_steps - warm)
    return peak * (min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def write_csv_atomic(path: Path, rows: list[dict], columns=COLUMNS) -> None:
    """Write rows to ``path`` as CSV in one atomic step (:func:`scalinglab._io.write_atomic`)."""
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    write_atomic(path, buf.getvalue())


def _device(name: str):
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    return torch.device(name)


def train_run(task: TrainTask, progress: Callable[[str, int], None] | None = None, threads: int | None = 1) -> dict:
    """Train ``task.spec``; write ``<out>/runs/<run_id>.csv`` (+ ``.json`` metadata) atomically.

    Parameters
    ----------
    progress
        Called as ``progress(run_id, tokens_since_last_call)`` every few steps.
    threads
        ``torch.set_num_threads`` for this process (1 in pool workers).

    Returns
    -------
    dict
        The run's metadata (``run``, ``wall_time``, ``cpu_time``, ``rows``, ...).
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    spec, cfg = task.spec, task.config
    from scalinglab.sweep.corpus import load_corpus
    from scalinglab.sweep.model import build_model

    t0, c0 = time.perf_counter(), time.process_time()
    device = _device(cfg.device)
    train, val = load_corpus(task.corpus_dir)
    T, B = cfg.seq_len, spec.batch_size or cfg.batch_size
    warmup_frac = cfg.warmup_frac if spec.warmup_frac is None else spec.warmup_frac
    min_lr_frac = cfg.min_lr_frac if spec.min_lr_frac is None else spec.min_lr_frac
    tps = T * B
    total_steps = max(1, spec.budget // tps)
    ckpts = set(checkpoint_steps(total_steps, cfg.checkpoints))
    params, params_total = param_counts(spec.width, spec.depth, T)
    fpt = flops_per_token(spec.width, spec.depth, T)

    torch.manual_seed(spec.seed)
    model = build_model(spec.width, spec.depth, spec.heads, T).to(device)
    weights_dir = Path(task.out_dir) / "weights"
    if spec.init_from:
        state = torch.load(weights_dir / f"{spec.init_from}.pt", map_location=device, weights_only=True)
        model.load_state_dict(state)
    n_actual = sum(p.numel() for p in model.parameters())
    if n_actual != params_total:  # pragma: no cover - guards the closed-form count
        raise RuntimeError(f"parameter count mismatch: {n_actual} != {params_total}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=spec.lr,
        betas=(cfg.beta1, cfg.beta2),
    )

    # Held-out windows: evenly spaced over the validation bytes, identical for every run.
    n_eval = cfg.eval_batches * B

    def windows(val):
        offs = np.linspace(0, len(val) - T - 1, n_eval).astype(np.int64)
        val_x = torch.from_numpy(np.stack([val[o : o + T] for o in offs]).astype(np.int64))
        val_y = torch.from_numpy(np.stack([val[o + 1 : o + T + 1] for o in offs]).astype(np.int64))
        return val_x, val_y

    val_x, val_y = windows(val)
    arange = np.arange(T + 1)

    def evaluate(vx=val_x, vy=val_y) -> float:
        model.eval()
        tot = 0.0
        with torch.no_grad():
            for i in range(cfg.eval_batches):
                x = vx[i * B : (i + 1) * B].to(device)
                y = vy[i * B : (i + 1) * B].to(device)
                tot += float(model(x, y))
        model.train()
        return tot / cfg.eval_batches

    # A sweep with mixtures: every corpus's held-out windows; a mixed run trains on its mixture's corpora.
    kinds = [k for k, _ in task.corpus_dirs]
    evals = {k: windows(load_corpus(d)[1]) for k, d in task.corpus_dirs}
    sources = []  # (train array, sequences per batch) per corpus of a mixture
    if spec.mix:
        dirs = dict(task.corpus_dirs)
        sources = [(load_corpus(dirs[k])[0], int(round(w * B))) for k, w in spec.mix]
    own = [k for k, _ in spec.mix] or [spec.corpus]
    seqs = {k: int(round(w * B)) for k, w in spec.mix} or {spec.corpus: B}

    def evaluate_all() -> tuple[float, dict]:
        if not kinds:
            return evaluate(), {}
        losses = {k: round(evaluate(*evals[k]), 6) for k in kinds}
        return float(np.mean([losses[k] for k in own])), losses

    init_loss = round(evaluate(), 6) if spec.init_from else None
    rng = np.random.Generator(np.random.PCG64(spec.seed))
    hi = len(train) - T - 1
    ema, ema_w, beta = 0.0, 0.0, 0.95
    rows: list[dict] = []
    pending = 0
    for step in range(1, total_steps + 1):
        lr = lr_at(step, total_steps, spec.lr, warmup_frac, min_lr_frac)
        for g in opt.param_groups:
            g["lr"] = lr
        if sources:
            parts = [src[rng.integers(0, len(src) - T - 1, size=n)[:, None] + arange] for src, n in sources]
            batch = torch.from_numpy(np.concatenate(parts).astype(np.int64)).to(device)
        else:
            starts = rng.integers(0, hi, size=B)
            batch = torch.from_numpy(train[starts[:, None] + arange].astype(np.int64)).to(device)
        loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        lv = float(loss.detach())
        if not math.isfinite(lv):
            raise FloatingPointError(f"{spec.run_id}: training loss became {lv} at step {step}; lower lr")
        ema = beta * ema + (1 - beta) * lv
        ema_w = beta * ema_w + (1 - beta)
        pending += tps
        if progress is not None and (pending >= 16 * tps or step == total_steps):
            progress(spec.run_id, pending)
            pending = 0
        if step in ckpts:
            tokens = step * tps
            loss_now, per_corpus = evaluate_all()
            rows.append(
                {
                    "run": spec.run_id,
                    "family": cfg.family,
                    "params": params,
                    "params_total": params_total,
                    "tokens": tokens,
                    "flops": 6.0 * params * tokens,
                    "flops_counted": fpt * tokens,
                    "step": step,
                    "seed": spec.seed,
                    "loss": round(loss_now, 6),
                    "train_loss": round(ema / ema_w, 6),
                    "width": spec.width,
                    "depth": spec.depth,
                    "token_budget": total_steps * tps,
                    "lr": spec.lr,
                    "wall_time": round(time.perf_counter() - t0, 3),
                    "final": step == total_steps,
                }
            )
            if cfg.is_transfer:
                rows[-1].update(
                    stage=spec.stage,
                    corpus=spec.corpus,
                    init_run=spec.init_from or "",
                    init_corpus=task.init_corpus or "",
                    init_tokens=task.init_tokens or 0,
                    init_loss="" if init_loss is None else init_loss,
                )
            if kinds:
                rows[-1]["mix"] = ",".join(f"{k}:{w:g}" for k, w in spec.mix) or f"{spec.corpus}:1"
                rows[-1].update({f"tokens_{k}": step * T * seqs.get(k, 0) for k in kinds})
                rows[-1].update({f"loss_{k}": v for k, v in per_corpus.items()})
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    runs_dir = Path(task.out_dir) / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    meta = {
        "run": spec.run_id,
        "spec": asdict(spec),
        "rows": len(rows),
        "steps": total_steps,
        "tokens": total_steps * tps,
        "final_loss": rows[-1]["loss"],
        "init_loss": init_loss,
        "wall_time": round(wall, 3),
        "cpu_time": round(cpu, 3),
        "flops": 6.0 * params * total_steps * tps,
        "flops_counted": fpt * total_steps * tps,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if spec.save_weights:  # fine-tunes start from these; written before the CSV that marks the run finished
        weights_dir.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        write_atomic(weights_dir / f"{spec.run_id}.pt", buf.getvalue())
    # Metadata first, the CSV last: the CSV's existence marks the run as finished.
    write_atomic(runs_dir / f"{spec.run_id}.json", json.dumps(meta, indent=2, default=str))
    columns = mixed_columns(kinds) if kinds else TRANSFER_COLUMNS if cfg.is_transfer else COLUMNS
    write_csv_atomic(runs_dir / f"{spec.run_id}.csv", rows, columns)
    return meta
