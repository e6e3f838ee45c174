"""Trend labels on synthetic curves: false-positive rate of U / inverted-U under monotone nulls, and power.

Null curves: monotone power laws in N, acc = c + h (1 - (N/N0)^-alpha) (rising) or its mirror
(falling), 5-10 log-spaced sizes, with Gaussian noise of known SD or binomial noise on n items
(SE computed from the observed proportion, as an evaluation harness reports it).  Each curve is
its own ``trends`` call (no multiple-testing help).  Shapes: a peak or a valley of height ``amp``
in log N, same noise.  Prints and writes bench/results/trends_null.json.

    PYTHONPATH=src python bench/trends_null.py [--null 1000] [--power 100] [--boot 299]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scalinglab.analyze.trends import trends


def null_curve(rng: np.random.Generator, n_sizes: int, noise: str, level: float) -> pd.DataFrame:
    N = np.geomspace(7e7, 1.2e10, n_sizes)
    alpha = rng.uniform(0.1, 0.6)
    h = rng.uniform(0.05, 0.4)
    base = rng.uniform(0.3, 0.5)
    t = (np.log10(N) - np.log10(N[0])) / (np.log10(N[-1]) - np.log10(N[0]))
    shape = 1 - (N / N[0]) ** -alpha
    shape = shape / shape[-1] if shape[-1] > 0 else t
    mu = base + h * shape
    if rng.random() < 0.5:
        mu = mu[::-1]  # falling (inverse) power law
    return _observe(rng, N, mu, noise, level)


def shape_curve(rng: np.random.Generator, n_sizes: int, noise: str, level: float, kind: str, amp: float):
    N = np.geomspace(7e7, 1.2e10, n_sizes)
    t = np.linspace(0, 1, n_sizes)
    peak = rng.uniform(0.35, 0.65)
    mu = 0.5 + amp * (1 - ((t - peak) / max(peak, 1 - peak)) ** 2)
    if kind == "U":
        mu = 1.0 - mu
    return _observe(rng, N, mu, noise, level)


def _observe(rng, N, mu, noise, level):
    mu = np.clip(mu, 0.01, 0.99)
    if noise == "gaussian":
        y = mu + rng.normal(0, level, mu.size)
        se = np.full(mu.size, level)
    else:  # binomial on `level` items
        n = int(level)
        y = rng.binomial(n, mu) / n
        se = np.sqrt(np.clip(y * (1 - y), 1e-12, None) / n)
    return pd.DataFrame({"params": N, "acc": y, "stderr": se})


def run_null(n_curves: int, boot: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_curves):
        n_sizes = int(rng.integers(5, 11))
        noise = "gaussian" if i % 2 == 0 else "binomial"
        level = float(rng.choice([0.01, 0.02, 0.04])) if noise == "gaussian" else float(rng.choice([200, 500, 2000]))
        r = trends(null_curve(rng, n_sizes, noise, level), "acc", n_boot=boot, seed=i)
        c = r.curves[0]
        rows.append(
            {
                "n_sizes": n_sizes,
                "noise": noise,
                "level": level,
                "label": c.label,
                "fragile": c.fragile,
                "shape_p": (c.evidence.get("shape") or {}).get("p"),
            }
        )
    df = pd.DataFrame(rows)
    fp = df["label"].isin(["U", "inverted-U"])
    raw_p = df["shape_p"].dropna()
    return {
        "n": n_curves,
        "false_positive_rate": float(fp.mean()),
        "false_positives": int(fp.sum()),
        "false_positive_rate_not_fragile": float((fp & ~df["fragile"]).mean()),
        "shape_test_rejects_at_0.05": float((raw_p < 0.05).mean()),
        "by_noise": df.assign(fp=fp).groupby("noise")["fp"].mean().to_dict(),
        "labels": df["label"].value_counts().to_dict(),
    }


def run_power(per_cell: int, boot: int, seed: int = 1, amp: float = 0.1) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for kind in ("inverted-U", "U"):
        for n_sizes in (5, 7, 10):
            for sd in (0.01, 0.02, 0.04):
                hits = 0
                for i in range(per_cell):
                    df = shape_curve(rng, n_sizes, "gaussian", sd, kind, amp)
                    hits += trends(df, "acc", n_boot=boot, seed=i).curves[0].label == kind
                out.append(
                    {
                        "shape": kind,
                        "n_sizes": n_sizes,
                        "noise_sd": sd,
                        "amplitude": amp,
                        "power": hits / per_cell,
                        "curves": per_cell,
                    }
                )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--null", type=int, default=1000)
    ap.add_argument("--power", type=int, default=100)
    ap.add_argument("--boot", type=int, default=299)
    args = ap.parse_args()
    t0 = time.perf_counter()
    null = run_null(args.null, args.boot)
    t1 = time.perf_counter()
    print(
        f"null: {args.null} monotone curves, U/inverted-U labels: {null['false_positives']} "
        f"(rate {null['false_positive_rate']:.3f}; raw shape test rejects {null['shape_test_rejects_at_0.05']:.3f}) "
        f"in {t1 - t0:.0f} s"
    )
    print(f"  by noise: {null['by_noise']}; labels: {null['labels']}")
    power = run_power(args.power, args.boot) if args.power else []
    t2 = time.perf_counter()
    if power:
        table = pd.DataFrame(power).pivot_table(index=["shape", "n_sizes"], columns="noise_sd", values="power")
        print(f"power (amplitude {power[0]['amplitude']}, Gaussian noise SD in columns), {t2 - t1:.0f} s:")
        print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    out = {"null": null, "power": power, "boot": args.boot, "seconds": {"null": t1 - t0, "power": t2 - t1}}
    path = Path(__file__).parent / "results" / "trends_null.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
