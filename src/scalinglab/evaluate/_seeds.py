"""Seed replicates: how far runs of one size scatter, and averaging them before a fit.

The Hitchhiker's Guide data has no seed replicates; where a table has a ``seed``
column (or runs a user names as replicates), the spread between seeds at each
size is the floor under any extrapolation error: a law cannot predict one run
better than runs of the same size agree with each other (Choshen et al. 2024,
sec. 4: up to 3.5-4 % between restarts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["average_seeds", "seed_spread", "pair_spread"]


def average_seeds(frame: pd.DataFrame, y: str = "loss") -> pd.DataFrame:
    """Replace replicate runs (rows differing only in ``seed``) by their mean at each (size, tokens).

    Without a ``seed`` column the frame comes back unchanged.

    Examples
    --------
    >>> df = pd.DataFrame({"run": ["a", "b"], "seed": [0, 1], "params": [1e6, 1e6], "tokens": [1e8, 1e8],
    ...                    "loss": [3.0, 3.2]})
    >>> average_seeds(df)[["run", "loss"]].to_dict(orient="records")
    [{'run': 'N=1e+06 (mean of 2 seeds)', 'loss': 3.1}]
    """
    if "seed" not in frame or frame["seed"].nunique() < 2:
        return frame
    keys = [c for c in ("family", "params", "tokens") if c in frame]
    numeric = [c for c in frame.select_dtypes("number").columns if c not in keys and c != "seed"]
    out = frame.groupby(keys, sort=False, as_index=False)[numeric].mean()
    n = frame.groupby("params")["seed"].nunique()
    out["run"] = [f"N={p:.3g} (mean of {int(n[p])} seeds)" for p in out["params"]]
    return out[[c for c in frame.columns if c in out.columns]].reset_index(drop=True)


def pair_spread(a: pd.DataFrame, b: pd.DataFrame, y: str = "loss", window: tuple[float, float] = (0.0, 1.0)) -> float:
    """Median |log a - log b| of two runs' curves where their token ranges overlap (interpolated in log tokens).

    ``window`` restricts the comparison to a fraction of the shared range (``(0.7, 1)``: its last 30%).
    """
    lo, hi = max(a["tokens"].min(), b["tokens"].min()), min(a["tokens"].max(), b["tokens"].max())
    if not hi > lo:
        return float("nan")
    grid = np.geomspace(lo, hi, 64)
    grid = grid[(grid >= lo + window[0] * (hi - lo)) & (grid <= lo + window[1] * (hi - lo))]
    ya = np.interp(np.log(grid), np.log(a["tokens"].to_numpy(float)), np.log(a[y].to_numpy(float)))
    yb = np.interp(np.log(grid), np.log(b["tokens"].to_numpy(float)), np.log(b[y].to_numpy(float)))
    return float(np.median(np.abs(ya - yb))) if grid.size else float("nan")


def seed_spread(frame: pd.DataFrame, y: str = "loss") -> pd.DataFrame:
    """Spread between seeds at each size: ``params``, ``seeds``, ``sd_log`` (sd of final log-loss over seeds)
    and ``curve_gap`` (median |log gap| between the first two seeds' curves).

    Examples
    --------
    >>> df = pd.DataFrame({"run": list("abab"), "seed": [0, 1, 0, 1], "params": [1e6] * 4,
    ...                    "tokens": [1e8, 1e8, 2e8, 2e8], "loss": [3.0, 3.1, 2.8, 2.9]})
    >>> seed_spread(df)[["params", "seeds"]].to_dict(orient="records")
    [{'params': 1000000.0, 'seeds': 2}]
    """
    rows = []
    if "seed" not in frame:
        return pd.DataFrame(columns=["params", "seeds", "sd_log", "curve_gap"])
    for size, g in frame.groupby("params", sort=True):
        runs = [r.sort_values("tokens") for _, r in g.groupby("run", sort=False)]
        if len(runs) < 2:
            continue
        finals = np.log([r[y].iloc[-1] for r in runs])
        rows.append(
            {
                "params": float(size),
                "seeds": len(runs),
                "sd_log": float(np.std(finals, ddof=1)),
                "curve_gap": pair_spread(runs[0], runs[1], y),
            }
        )
    return pd.DataFrame(rows, columns=["params", "seeds", "sd_log", "curve_gap"])
