"""Fixtures for the report tests: a small synthetic ladder with checkpoints, its fits and one built report."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

TRUE = {"E": 1.8, "A": 420.0, "alpha": 0.34, "B": 160.0, "beta": 0.28}


def make_ladder(
    seed: int = 0, sizes=(2e6, 5e6, 1.2e7, 3e7, 8e7), seeds: int = 2, n_ckpt: int = 6, noise: float = 0.005
) -> pd.DataFrame:
    """Runs of several sizes (two seeds each), checkpoints up to 20 tokens per parameter."""
    rng = np.random.default_rng(seed)
    rows = []
    for N in sizes:
        for s in range(seeds):
            D = np.geomspace(20 * N / 30, 20 * N, n_ckpt)
            L = (TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]) * np.exp(
                rng.normal(0, noise, D.size)
            )
            rows += [
                {
                    "run": f"n{N:.0e}-s{s}",
                    "family": "synth",
                    "params": N,
                    "tokens": d,
                    "step": i + 1,
                    "seed": s,
                    "loss": v,
                }
                for i, (d, v) in enumerate(zip(D, L))
            ]
    return pd.DataFrame(rows)


def make_isoflop(seed: int = 1) -> pd.DataFrame:
    """IsoFLOP sweeps: 4 budgets, 7 sizes each around the Chinchilla optimum, one point per run."""
    rng = np.random.default_rng(seed)
    rows = []
    for C in (1e16, 1e17, 1e18, 1e19):
        a, b = TRUE["alpha"], TRUE["beta"]
        G = (a * TRUE["A"] / (b * TRUE["B"])) ** (1 / (a + b))
        n_opt = G * (C / 6) ** (b / (a + b))  # Hoffmann et al. 2022, App. D.2
        for k, N in enumerate(n_opt * np.geomspace(0.15, 6.0, 7)):
            D = C / (6 * N)
            L = (TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]) * np.exp(
                rng.normal(0, 0.002)
            )
            rows.append({"run": f"C{C:.0e}-{k}", "params": N, "tokens": D, "flops": 6 * N * D, "loss": L})
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def ladder():
    import scalinglab as sl

    return sl.read_runs(make_ladder())


@pytest.fixture(scope="session")
def isoflop_runs():
    import scalinglab as sl

    return sl.read_runs(make_isoflop())


@pytest.fixture(scope="session")
def fits(ladder):
    """Chinchilla and Kaplan fitted with the largest size held out."""
    import scalinglab as sl

    frame = ladder.frame
    train = frame[frame["params"] < frame["params"].max()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: sl.fit(train, name) for name in ("chinchilla", "kaplan")}


@pytest.fixture(scope="session")
def built_report(ladder, tmp_path_factory):
    """One full report (two laws, target = largest size, backtest sweep over fraction, planning)."""
    from scalinglab.report import build_report

    path = tmp_path_factory.mktemp("report") / "report.html"
    report = build_report(
        ladder,
        ["chinchilla", "kaplan"],
        target="largest",
        backtest_over=("fraction",),
        method="delta",
        progress=False,
        path=path,
        command="scalinglab report ladder.csv --law chinchilla --law kaplan --target largest",
    )
    return report, path
