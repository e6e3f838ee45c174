"""Data pruning in the teacher-student perceptron (Sorscher et al. 2022): the easy/hard flip, the
Pareto envelope with a perfect and an imperfect probe, and the pruning-law comparison on them.

1. Flip: pools of alpha_tot = P_tot / N examples, keep the hardest or the easiest 25% by the
   probe's margin (perfect probe); no pruning (f = 1) beside them.  Where does keep-hard start
   to beat keep-easy?
2. Learning curves at fixed kept share f = 2^-k (k = 0..8) against alpha_prune = P / N (the pool
   grows as P / f), with the probe at 0 and at 10 degrees from the teacher; their lower envelope
   over f (the Pareto-optimal f).
3. ``scalinglab.analyze.pruning`` on four curves -- no pruning, keep-hard at f = 0.25, the two
   envelopes -- power vs exponential vs broken laws by backtest (2 largest sizes held out) and AICc.

    python bench/pruning_perceptron.py [--n-dim 50] [--trials 8] [--seed 0]

Writes bench/results/pruning_perceptron.{png,md,json,csv} and pruning_perceptron_laws.png.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglab.analyze.pruning import pruning
from scalinglab.render import figure_context, new_figure, save_figure
from scalinglab.sweep.perceptron import pareto_envelope, simulate_pruning

ALPHA_TOT = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0)
ALPHA_PRUNE = {0: (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0), 1: (0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32)}
FRACTIONS = {0: tuple(2.0**-k for k in range(9)), 1: tuple(2.0**-k for k in range(6))}
FLIP_F = 0.25


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-dim", type=int, default=50)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--angle", type=float, default=10.0, help="imperfect probe's angle to the teacher (degrees)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "pruning_perceptron"))
    a = ap.parse_args()
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    t0, c0 = time.perf_counter(), time.process_time()

    # 1. the flip
    flip = simulate_pruning(a.n_dim, ALPHA_TOT, (FLIP_F,), keep=("hard", "easy"), trials=a.trials, seed=a.seed)
    full = simulate_pruning(a.n_dim, ALPHA_TOT, (1.0,), keep="random", trials=a.trials, seed=a.seed + 1)
    piv = flip.pivot_table(index="alpha_tot", columns="keep", values="error")
    se = flip.pivot_table(index="alpha_tot", columns="keep", values="error_se")
    piv["full"] = full.set_index("alpha_tot")["error"]
    piv["winner"] = np.where(piv["hard"] < piv["easy"], "hard", "easy")
    hard_wins = piv.index[piv["winner"] == "hard"]
    flip_at = float(hard_wins.min()) if len(hard_wins) else None
    flip_clean = flip_at is not None and bool((piv.loc[piv.index >= flip_at, "winner"] == "hard").all())
    t_flip = time.process_time() - c0

    # 2. learning curves at fixed f, perfect and imperfect probe
    curves = {}
    for i, angle in enumerate((0.0, a.angle)):
        curves[angle] = simulate_pruning(
            a.n_dim,
            None,
            FRACTIONS[i],
            alpha_prune=ALPHA_PRUNE[i],
            keep="hard",
            probe_angle=angle,
            trials=a.trials,
            seed=a.seed + 2,
        )
    env = {angle: pareto_envelope(df, at="alpha_prune") for angle, df in curves.items()}
    t_sim = time.process_time() - c0

    # 3. law comparison
    parts = [
        full.assign(curve="no pruning (f=1)"),
        flip[flip["keep"] == "easy"].assign(curve=f"keep easy, f={FLIP_F:g}"),
        flip[flip["keep"] == "hard"].assign(curve=f"keep hard, f={FLIP_F:g}"),
        env[0.0].assign(curve="Pareto f, perfect probe"),
        env[a.angle].assign(curve=f"Pareto f, probe {a.angle:g} deg"),
    ]
    table = pd.concat(parts, ignore_index=True)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = pruning(table, x="kept", y="error", by="curve", holdout=2)
    t_all = time.process_time() - c0
    wall = time.perf_counter() - t0

    # figure
    with figure_context():
        fig, axes = new_figure(3, 1, height=3.6, width=12.0)
        ax = axes[0, 0]
        for keep, style in (("easy", "o-"), ("hard", "s-")):
            ax.errorbar(
                piv.index, piv[keep], yerr=se[keep], fmt=style, ms=4, capsize=2, label=f"keep {keep} {FLIP_F:.0%}"
            )
        ax.plot(piv.index, piv["full"], "k--", lw=1, label="no pruning")
        if flip_at is not None:
            ax.axvline(flip_at, color="0.6", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("alpha_tot = pool size / N")
        ax.set_ylabel("test error")
        ax.set_title("keep easy wins with little data, hard with a lot", fontsize=9)
        ax.legend(fontsize=7)
        for ax, angle in zip(axes[0, 1:], (0.0, a.angle), strict=True):
            df = curves[angle]
            cmap = __import__("matplotlib").colormaps["viridis"]
            fracs = sorted(df["fraction"].unique(), reverse=True)
            for i, f in enumerate(fracs):
                c = df[df["fraction"] == f].sort_values("alpha_prune")
                ax.plot(c["alpha_prune"], c["error"], "-", color=cmap(i / len(fracs)), lw=1, label=f"f={f:.3g}")
            e = env[angle].sort_values("alpha_prune")
            ax.plot(e["alpha_prune"], e["error"], "ko-", ms=3, lw=1.8, label="Pareto envelope")
            ax.set_yscale("log")
            ax.set_xlabel("alpha_prune = kept / N")
            ax.set_ylabel("test error")
            ax.set_title(f"probe at {angle:g} deg to the teacher, keep hard", fontsize=9)
        axes[0, 1].legend(fontsize=6, ncol=2)
    save_figure(fig, out.with_suffix(".png"))
    save_figure(res.figure(), out.parent / (out.name + "_laws.png"))

    # tables
    groups = res.groups.set_index("group")
    lines = [
        f"Perceptron pruning, N = {a.n_dim}, {a.trials} data sets per cell, seed {a.seed}; "
        f"{t_all:.0f} CPU-s ({wall:.0f} s wall) on {platform.machine()}",
        "",
        f"Flip (keep {FLIP_F:.0%} of a pool of alpha_tot N examples, perfect probe): test error",
        "",
        "| alpha_tot | keep easy | keep hard | no pruning | better |",
        "|---:|---:|---:|---:|---|",
    ]
    for at, r in piv.iterrows():
        lines.append(f"| {at:g} | {r['easy']:.4f} | {r['hard']:.4f} | {r['full']:.4f} | {r['winner']} |")
    lines += [
        "",
        f"keep-hard first wins at alpha_tot = {flip_at}; wins at every larger pool: {flip_clean}",
        "",
        "Pareto envelope at each alpha_prune (best f, error); f = 2^-k, k = 0..8 (perfect probe), 0..5 (noisy):",
        "",
        "| alpha_prune | " + " | ".join(f"probe {g:g} deg" for g in env) + " |",
        "|---:|" + "---:|" * len(env),
    ]
    for ap_ in sorted(set(ALPHA_PRUNE[0]) | set(ALPHA_PRUNE[1])):
        cells = []
        for g in env:
            hit = env[g][np.isclose(env[g]["alpha_prune"], ap_)]
            cells.append(f"{hit['error'].iloc[0]:.2e} (f={hit['fraction'].iloc[0]:.3g})" if len(hit) else "-")
        lines.append(f"| {ap_:g} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Law comparison (scalinglab.analyze.pruning; hold-out = 2 largest kept sizes):",
        "",
        "| curve | verdict | best extrapolation | best AICc | hold-out RMSE log (exp / power) | AICc(power) - AICc(exp) |",
        "|---|---|---|---|---|---:|",
    ]
    for g, r in groups.iterrows():
        lines.append(
            f"| {g} | {r['verdict']} | {r['best_extrapolation']} | {r['best_ic']} | "
            f"{r['rmse_exponential']:.3f} / {r['rmse_power']:.3f} | {r['delta_aicc_power_minus_exp']:.1f} |"
        )
    text = "\n".join(lines)
    print(text)
    print()
    print(res.summary())
    (out.with_suffix(".md")).write_text(text + "\n\n```\n" + res.summary() + "\n```\n")
    pd.concat(
        [flip.assign(part="flip"), full.assign(part="flip"), *(df.assign(part="curves") for df in curves.values())],
        ignore_index=True,
    ).to_csv(out.with_suffix(".csv"), index=False)
    payload = {
        "n_dim": a.n_dim,
        "trials": a.trials,
        "seed": a.seed,
        "flip_alpha_tot": flip_at,
        "flip_clean": flip_clean,
        "comparison": res.to_dict(),
        "cpu_seconds": {"flip": t_flip, "simulate": t_sim, "total": t_all},
        "wall_seconds": wall,
    }
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
