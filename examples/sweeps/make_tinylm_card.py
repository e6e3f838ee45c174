"""Package a finished ``tinylm`` sweep as the bundled dataset and write its card.

Usage (after ``scalinglab sweep examples/sweeps/tinylm.toml --out sweeps/tinylm --workers 1``)::

    python examples/sweeps/make_tinylm_card.py sweeps/tinylm [DEST_DIR]

Copies ``<out>/runs.csv`` to ``src/scalinglab/datasets/data/tinylm.csv`` and writes
``tinylm.md`` beside it with provenance, measured cost, the Chinchilla fit on all
but the largest size (final checkpoints), its prediction for the largest size, and
the seed-to-seed spread.  The fit uses ``scalinglab.fit(..., "chinchilla")``
(Huber delta=1e-3 on log loss); an independent scipy fit of the same objective
(Hoffmann et al. 2022, eq. 2 and app. D) is reported as a cross-check.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from datetime import datetime, timezone
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "scalinglab" / "datasets" / "data"


def scipy_chinchilla(N: np.ndarray, D: np.ndarray, L: np.ndarray, delta: float = 1e-3, n_starts: int = 40) -> dict:
    """Hoffmann et al. (2022) fit: min Huber_delta(LSE(a - alpha log N, b - beta log D, e) - log L).

    Evaluates the paper's grid of starts, runs L-BFGS from the ``n_starts`` best; returns E, A, B, alpha, beta.
    """
    lN, lD, lL = np.log(N), np.log(D), np.log(L)

    def obj(p):
        a, b, e, al, be = p
        pred = logsumexp(np.stack([a - al * lN, b - be * lD, np.full_like(lN, e)]), axis=0)
        r = pred - lL
        h = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
        return h.sum()

    grid = np.array(list(product(np.arange(0, 25, 5), np.arange(0, 25, 5), np.arange(-1, 1.5, 0.5),
                                 np.arange(0, 2.5, 0.5), np.arange(0, 2.5, 0.5))), float)
    vals = np.array([obj(g) for g in grid])
    best = None
    for g in grid[np.argsort(vals)[:n_starts]]:  # L-BFGS from the best grid points
        r = minimize(obj, g, method="L-BFGS-B")
        if best is None or r.fun < best.fun:
            best = r
    a, b, e, al, be = best.x
    return {"E": float(np.exp(e)), "A": float(np.exp(a)), "B": float(np.exp(b)), "alpha": float(al), "beta": float(be)}


def chinchilla(p: dict, N, D):
    return p["E"] + p["A"] / np.asarray(N, float) ** p["alpha"] + p["B"] / np.asarray(D, float) ** p["beta"]


def main(out: Path, dest: Path = DATA) -> None:
    df = pd.read_csv(out / "runs.csv")
    sweep = json.loads((out / "sweep.json").read_text())
    metas = [json.loads((out / "runs" / f"{r}.json").read_text()) for r in df["run"].unique()]
    cfg_text = (DATA / "tinylm.toml").read_text()
    fin = df[df["final"]].copy()

    # ---- cost -------------------------------------------------------------------
    cpu = sum(m["cpu_time"] for m in metas)
    wall_runs = sum(m["wall_time"] for m in metas)
    # End to end: from the first run's start to the last run's end (run metadata mtimes).
    ends = {m["run"]: (out / "runs" / f"{m['run']}.json").stat().st_mtime for m in metas}
    wall_total = max(ends.values()) - min(ends[m["run"]] - m["wall_time"] for m in metas)
    flops6 = float(fin["flops"].sum())
    flopsc = float(fin["flops_counted"].sum())
    torch_v = metas[0]["torch"]
    try:
        cpu_model = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        cpu_model = platform.processor() or platform.machine()

    # ---- shape ------------------------------------------------------------------
    sizes = fin.groupby("params").agg(width=("width", "first"), depth=("depth", "first"),
                                      params_total=("params_total", "first"), lr=("lr", "first"),
                                      budgets=("token_budget", lambda s: sorted(set(s))),
                                      runs=("run", "count")).reset_index()
    decades = np.log10(fin["params"].max() / fin["params"].min())

    # ---- Chinchilla fit on all but the largest size --------------------------------
    nmax = fin["params"].max()
    train = fin[fin["params"] < nmax]
    target = fin[fin["params"] == nmax]
    import scalinglab

    f = scalinglab.fit(train[["run", "params", "tokens", "loss"]].reset_index(drop=True), "chinchilla")
    p_sl = {k: float(v) for k, v in f.params.items()}
    pred_sl = np.asarray(f.predict(params=target["params"].to_numpy(), tokens=target["tokens"].to_numpy()), float).ravel()
    p_sp = scipy_chinchilla(train["params"].to_numpy(float), train["tokens"].to_numpy(float), train["loss"].to_numpy(float))
    pred_sp = chinchilla(p_sp, target["params"], target["tokens"])
    actual = target["loss"].to_numpy()
    rel_sl = (pred_sl - actual) / actual
    rel_sp = (pred_sp - actual) / actual
    resid = np.log(train["loss"].to_numpy()) - np.log(chinchilla(p_sl, train["params"], train["tokens"]))

    # ---- seed spread -------------------------------------------------------------
    g = fin.groupby(["params", "width", "depth", "token_budget"])["loss"]
    seeds = g.agg(["count", "mean", "std", "min", "max"]).reset_index()
    seeds = seeds[seeds["count"] >= 2]
    seeds["range"] = seeds["max"] - seeds["min"]
    seeds["rel_std"] = seeds["std"] / seeds["mean"]

    shutil.copyfile(out / "runs.csv", dest / "tinylm.csv")

    c = sweep["corpus"]
    lines = []
    w = lines.append
    w("# tinylm: a real ladder of tiny byte-level language models\n")
    w("Held-out loss of decoder-only transformers trained with `scalinglab sweep` on the bytes of the "
      "Python standard library, on one CPU core. One row per evaluated checkpoint "
      "(log-spaced in tokens, 11 per run including the final one).\n")
    w("```python\nfrom scalinglab import datasets\ndf = datasets.load(\"tinylm\")\n```\n")
    w("## Regenerate\n")
    w("```bash\npip install 'scalinglab[train]'\n"
      "scalinglab sweep examples/sweeps/tinylm.toml --out sweeps/tinylm --workers 1\n"
      "python examples/sweeps/make_tinylm_card.py sweeps/tinylm   # copies runs.csv here, rewrites this card\n```\n")
    w("The config ships as `scalinglab/datasets/data/tinylm.toml` (`datasets.config_path(\"tinylm\")`). "
      "Losses are reproducible bit-for-bit only with the same corpus (same Python version), torch build and CPU; "
      "the scaling curves themselves are robust to those.\n")
    w("## Provenance\n")
    w(f"| item | value |\n|---|---|")
    w(f"| corpus | `*.py` files of the CPython {c['python_version']} standard library (no tests, idlelib, lib2to3, turtledemo, ensurepip, site-packages), sorted by path |")
    w(f"| corpus sha256 | `{c['sha256']}` (train bytes followed by held-out bytes) |")
    w(f"| corpus size | {c['train_bytes']:,} train bytes, {c['val_bytes']:,} held-out bytes; {c['n_files']} files, {c['n_val_files']} held out (sha256 of the relative path, {c['val_fraction']:.0%}) |")
    w(f"| Python | {sweep['python']} |")
    w(f"| torch | {torch_v}, `torch.set_num_threads(1)`, float32 |")
    w(f"| machine | {cpu_model}; {sweep['machine']['cpus']} cores, {sweep['machine']['platform']} |")
    w(f"| workers | 1 (one core; the other core was in use by other jobs, so wall time exceeds CPU time) |")
    w(f"| generated | {datetime.now(timezone.utc).strftime('%Y-%m-%d')} |\n")
    w("## Model and training\n")
    w("Pre-LN GPT: token + learned position embeddings, causal self-attention "
      "(`scaled_dot_product_attention`, 4 heads), GELU MLP 4x, final LayerNorm, **output head tied** to the token "
      "embedding; biases everywhere. Vocabulary 256 (bytes), context 128, 32 sequences per step (4,096 tokens). "
      "AdamW (beta 0.9/0.95, weight decay 0.1 on matrices, gradient clip 1.0); linear warmup over 5% of the "
      "steps then cosine decay to 10% of the peak exactly at the end of each run's budget. Peak learning "
      "rate per width follows `lr = 4e-3 * (64/width)^1.5`, set from a short probe before the ladder. "
      "Batches are random windows drawn by `numpy.random.Generator(PCG64(seed))`; the model is initialised "
      "after `torch.manual_seed(seed)`. `loss` is the mean cross-entropy (nats/byte) over 10 x 32 fixed "
      "held-out windows, the same for every run; `train_loss` is a bias-corrected EMA (0.95) of the batch loss.\n")
    w("`params` counts non-embedding parameters, `L(12d^2+13d)+2d`; `params_total` adds the token and "
      "position embeddings. `flops` = 6 x params x tokens; `flops_counted` = 3 x forward, forward = "
      "`2*12*L*d^2 + 4*L*T*d + 2*d*V` per token (matmuls, attention over the full context, tied head).\n")
    w("## Ladder\n")
    w(f"{len(fin)} runs, {len(df)} rows; {len(sizes)} sizes spanning {decades:.2f} decades of non-embedding "
      f"parameters ({int(fin['params'].min()):,} to {int(nmax):,}); the largest size was trained last as the "
      "extrapolation target.\n")
    w("| width | depth | params (non-emb.) | params_total | peak lr | token budgets | runs |\n|---|---|---|---|---|---|---|")
    for _, r in sizes.iterrows():
        b = ", ".join(f"{x / 1e6:.1f}M" for x in r["budgets"])
        w(f"| {r['width']} | {r['depth']} | {int(r['params']):,} | {int(r['params_total']):,} | {r['lr']:g} | {b} | {r['runs']} |")
    w("")
    w("## Measured cost\n")
    w(f"- CPU time (sum over runs, training + evaluation): **{cpu / 60:.1f} CPU-minutes**")
    w(f"- wall time: {wall_runs / 60:.1f} min inside runs, {wall_total / 60:.1f} min end to end")
    w(f"- compute: {flops6:.3g} FLOPs by 6ND, {flopsc:.3g} FLOPs counted (attention and head included), "
      f"i.e. {flopsc / cpu / 1e9:.1f} GFLOP/s per CPU-second\n")
    hist = sweep.get("history", [])
    w("How it was run: `--workers 1` on a machine shared with other jobs (load average 3-7 on 2 cores), "
      "so wall time exceeds CPU time. The sweep was stopped and resumed three times while the ladder was "
      "resized to the time available (first trimmed, then extended again before the largest model); the "
      "resumable output kept every finished run, and the run in progress at each stop was retrained from "
      "scratch (about one CPU-minute of discarded work, not counted above). "
      f"`sweep.json` records the last {len(hist)} invocations"
      + (f", the last finishing at {hist[-1]['finished']}" if hist and hist[-1].get("finished") else "") + ".\n")
    w("## Chinchilla fit on all but the largest size\n")
    w(f"`scalinglab.fit(final, \"chinchilla\")` (Huber delta=1e-3 on log loss) on the {len(train)} final "
      f"checkpoints of the {sizes.shape[0] - 1} smaller sizes, `L(N, D) = E + A/N^alpha + B/D^beta`:\n")
    w("| fit | E | A | alpha | B | beta |\n|---|---|---|---|---|---|")
    w(f"| scalinglab.fit | {p_sl['E']:.4g} | {p_sl['A']:.4g} | {p_sl['alpha']:.4g} | {p_sl['B']:.4g} | {p_sl['beta']:.4g} |")
    w(f"| scipy cross-check (L-BFGS from the best of the paper's start grid) | {p_sp['E']:.4g} | {p_sp['A']:.4g} | {p_sp['alpha']:.4g} | {p_sp['B']:.4g} | {p_sp['beta']:.4g} |")
    w("")
    w(f"In-sample residuals of log loss: RMS {np.sqrt(np.mean(resid ** 2)):.4f}, max |r| {np.abs(resid).max():.4f}."
      + (" E sits at its lower bound 0: these models are far from the irreducible loss of the corpus, so the "
         "data cannot identify E and the fit reduces to two power laws, A/N^alpha + B/D^beta." if p_sl["E"] < 1e-3 else "")
      + "\n")
    w("| extrapolation target | tokens | actual loss | predicted (scalinglab.fit) | rel. error | predicted (scipy) | rel. error |\n|---|---|---|---|---|---|---|")
    for (_, r), ps, es, pp, ep in zip(target.iterrows(), pred_sl, rel_sl, pred_sp, rel_sp):
        w(f"| {r['run']} (N={int(r['params']):,}) | {int(r['tokens']):,} | {r['loss']:.4f} | {ps:.4f} | {es:+.2%} | {pp:.4f} | {ep:+.2%} |")
    w("")
    w("## Seed-to-seed spread\n")
    w("Final held-out loss of the same size and budget trained with different seeds (init and data order):\n")
    w("| width | depth | tokens | seeds | mean loss | std | max - min | std / mean |\n|---|---|---|---|---|---|---|---|")
    for _, r in seeds.iterrows():
        w(f"| {int(r['width'])} | {int(r['depth'])} | {r['token_budget'] / 1e6:.1f}M | {int(r['count'])} | {r['mean']:.4f} | {r['std']:.4f} | {r['range']:.4f} | {r['rel_std']:.2%} |")
    w("")
    w(f"Mean std across these pairs: {seeds['std'].mean():.4f} nats ({seeds['rel_std'].mean():.2%} of the loss). "
      "Compare it with the extrapolation error above: an error within about two seed standard deviations is "
      "as good as this ladder can tell.\n")
    w("## Columns\n")
    w("`run, family, params, params_total, tokens, flops, flops_counted, step, seed, loss, train_loss, width, "
      "depth, token_budget, lr, wall_time, final` (units: nats per byte token; `wall_time` in seconds since "
      "the run started; `final` marks each run's last checkpoint).\n")
    w("## Config\n")
    w("```toml\n" + cfg_text.rstrip() + "\n```")
    (dest / "tinylm.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "sweeps/tinylm"), Path(sys.argv[2]) if len(sys.argv) > 2 else DATA)
