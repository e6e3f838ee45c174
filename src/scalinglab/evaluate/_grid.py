"""The Hitchhiker's Guide tracks as backtests over many cells per group.

Choshen et al. 2024 ("A Hitchhiker's Guide to Scaling Law Estimation", Fig. 1)
score a family not once but over a grid of fitting budgets:

* track B, :func:`backtest_grid`: the ``k`` smallest models x the first fraction
  ``p`` of their training (k = 2 ... n-1, p = 0.1 ... 1), with the compute of each
  cell (sum of 6 N D over its distinct runs, D = the last token count used);
* track C, :func:`backtest_windows`: windows of ``k`` consecutive sizes anywhere
  below the target, scored against the scale-up factor (target size / largest
  fitted size);
* track D, :func:`backtest_trajectory`: checkpoint ablations (no cut, final
  checkpoints only, windows of late checkpoints).

Every cell is one (group, policy) job of the same batch as
:func:`~scalinglab.evaluate.backtest` (failures recorded, never an abort), and the
result is a :class:`~scalinglab.evaluate.Backtest` whose ``scores`` carry the
cell's coordinates (``k``, ``p``, ``window_end``, ``scale_up``, ``compute``,
``setting``).  :func:`plot_backtest_grid` draws track B as the paper's heatmap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.data import CheckpointRule
from scalinglab.errors import InvalidParameterError, ScalingLabError
from scalinglab.evaluate._backtest import DEFAULT_POLICY, Backtest, _check, _execute, _groups, _prior_label
from scalinglab.evaluate._policies import Policy, split
from scalinglab.laws import DEFAULT_LAW

__all__ = ["backtest_grid", "backtest_windows", "backtest_trajectory", "plot_backtest_grid", "grid_table", "FRACTIONS"]

#: Fractions of training of track B (Choshen et al. 2024, Fig. 1b).
FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
_RUN_KEYS = (
    "y",
    "x",
    "weighting",
    "interval",
    "method",
    "n_resamples",
    "fit_options",
    "seed",
    "backend",
    "workers",
    "progress",
    "borrow_from",
    "borrow",
    "borrow_scale",
    "borrow_when",
    "prior",
    "seeds",
)


def _options(options: dict) -> dict:
    unknown = set(options) - set(_RUN_KEYS) - {"by", "prior_by"}
    if unknown:
        raise InvalidParameterError(
            f"backtest_grid(): unexpected argument(s) {sorted(unknown)}", hint="the options of backtest() are accepted"
        )
    out = {
        "y": "loss",
        "x": None,
        "weighting": "run",
        "interval": 0.9,
        "method": "auto",
        "n_resamples": 200,
        "fit_options": None,
        "seed": 0,
        "backend": "serial",
        "workers": None,
        "progress": None,
        "borrow_from": None,
        "borrow": None,
        "borrow_scale": "relative",
        "borrow_when": "always",
        "prior": "others",
        "seeds": "separate",
    }
    out.update({k: v for k, v in options.items() if k in _RUN_KEYS})
    return out


def _window(policy: Policy, p: float) -> CheckpointRule:
    """The policy's checkpoint rule on the first ``p`` of each run: its relative cut scaled into ``[0, p]``."""
    lo = (policy.checkpoints.window or (0.0, 1.0))[0]
    return CheckpointRule.coerce(policy.checkpoints, window=(lo * p, p))


def _compute(fit_rows: pd.DataFrame) -> float:
    """Sum over distinct fit runs of 6 N D (D = the run's last token count in the fit set)."""
    if "tokens" not in fit_rows:
        return float("nan")
    last = fit_rows.groupby("run").agg(params=("params", "first"), tokens=("tokens", "max"))
    return float((6.0 * last["params"] * last["tokens"]).sum())


def _run_cells(data, law, settings, policy, options, by, prior_by, name) -> Backtest:
    start = time.perf_counter()
    opts = _options(options)
    pol = DEFAULT_POLICY if policy is None else policy
    if not isinstance(pol, Policy):
        raise InvalidParameterError(f"{name}(): 'policy' must be a Policy; got {type(pol).__name__}")
    laws, runs = _check(
        law, data, opts["y"], opts["weighting"], opts["method"], opts["n_resamples"], opts["interval"], opts["seeds"]
    )
    jobs, coords = [], {}
    for gname, g in _groups(runs.frame, by):
        label = _prior_label(g, gname, prior_by)
        sizes = np.sort(g["params"].unique())
        for coord, p in settings(sizes, pol):
            j = len(jobs)
            jobs.append((gname, label, g, p))
            try:
                fit_rows, target_rows = split(g, p, family=gname)
                coord = {
                    **coord,
                    "compute": _compute(fit_rows),
                    "scale_up": float(target_rows["params"].max() / fit_rows["params"].max()),
                }
            except ScalingLabError:
                coord = {**coord, "compute": np.nan, "scale_up": np.nan}
            coords[j] = coord
    if not jobs:
        raise InvalidParameterError(
            f"{name}(): no cell to score (every group has fewer than 3 model sizes)",
            hint="track grids need a held-out size and at least 2 fit sizes",
        )
    extra = {
        col: {j: c.get(col, np.nan) for j, c in coords.items()}
        for col in dict.fromkeys(k for c in coords.values() for k in c)
    }
    run_opts = {k: v for k, v in opts.items() if k not in ("y", "x")}
    return _execute(jobs, laws, pol, y=opts["y"], x=opts["x"], by=by, start=start, extra_cols=extra, **run_opts)


def backtest_grid(
    data: Any,
    law: Any = DEFAULT_LAW,
    policy: Policy | None = None,
    *,
    fractions: Sequence[float] = FRACTIONS,
    ks: Sequence[int] | None = None,
    max_ks: int | None = None,
    by: str | None = "family",
    prior_by: str | None = None,
    **options: Any,
) -> Backtest:
    """Track B: every (k smallest fit sizes, first fraction p of training) cell of every group.

    ``ks`` defaults to 2 ... n-1 per group (n = the group's sizes, the largest held
    out); ``max_ks`` keeps at most that many values, spread evenly.  Each run's
    checkpoints are limited to the first ``p`` of its training, with the policy's
    relative early cut scaled into that window.  Other options: as
    :func:`~scalinglab.evaluate.backtest`.

    Examples
    --------
    >>> N = np.repeat([1e7, 2e7, 5e7, 1e8, 2e8], 10); f = np.tile(np.linspace(0.1, 1, 10), 5)
    >>> runs = pd.DataFrame({"run": [f"m{n:g}" for n in N], "params": N, "tokens": 20 * N * f})
    >>> runs["loss"] = 1.8 + 400 / runs.params ** 0.34 + 410 / runs.tokens ** 0.28
    >>> g = backtest_grid(runs, "chinchilla", fractions=(0.5, 1.0), interval=None)
    >>> g.scores[["k", "p"]].values.tolist()
    [[2.0, 0.5], [2.0, 1.0], [3.0, 0.5], [3.0, 1.0], [4.0, 0.5], [4.0, 1.0]]
    >>> bool(g.scores.query("k == 4 and p == 1.0")["are"].iloc[0] < 0.01)
    True
    """
    for p in fractions:
        if not 0 < float(p) <= 1:
            raise InvalidParameterError(f"backtest_grid(): fractions must be in (0, 1]; got {p!r}")

    def settings(sizes, pol):
        n_fit = sizes.size - (pol.holdout_k or 1)
        kk = [k for k in (ks if ks is not None else range(2, n_fit + 1)) if 1 <= k <= n_fit]
        if max_ks is not None and len(kk) > max_ks:
            kk = sorted({kk[int(round(i))] for i in np.linspace(0, len(kk) - 1, max_ks)})
        for k in kk:
            for p in fractions:
                yield (
                    {"k": k, "p": float(p), "setting": f"k={k}, p={float(p):g}"},
                    pol.replace(fit_models=f"smallest:{k}", checkpoints=_window(pol, float(p))),
                )

    return _run_cells(data, law, settings, policy, options, by, prior_by, "backtest_grid")


def backtest_windows(
    data: Any,
    law: Any = DEFAULT_LAW,
    policy: Policy | None = None,
    *,
    ks: Sequence[int] | None = None,
    max_per_k: int | None = None,
    by: str | None = "family",
    prior_by: str | None = None,
    **options: Any,
) -> Backtest:
    """Track C: windows of k consecutive sizes (k = 2 ... n-1), ending at each size below the target.

    ``scores["scale_up"]`` is target size / largest fitted size; ``window_end`` the
    1-based index of that largest fitted size.  ``max_per_k`` keeps at most that many
    window positions per k, spread evenly (large families have hundreds of windows).

    Examples
    --------
    >>> N = np.repeat([1e7, 2e7, 5e7, 1e8, 2e8], 10); f = np.tile(np.linspace(0.1, 1, 10), 5)
    >>> runs = pd.DataFrame({"run": [f"m{n:g}" for n in N], "params": N, "tokens": 20 * N * f})
    >>> runs["loss"] = 1.8 + 400 / runs.params ** 0.34 + 410 / runs.tokens ** 0.28
    >>> w = backtest_windows(runs, "chinchilla", ks=[3], interval=None)
    >>> w.scores[["k", "window_end", "scale_up"]].values.tolist()
    [[3.0, 3.0, 4.0], [3.0, 4.0, 2.0]]
    """

    def settings(sizes, pol):
        n_fit = sizes.size - (pol.holdout_k or 1)
        for k in ks if ks is not None else range(2, n_fit + 1):
            ends = list(range(k, n_fit + 1))
            if max_per_k is not None and len(ends) > max_per_k:
                ends = sorted({ends[int(round(i))] for i in np.linspace(0, len(ends) - 1, max_per_k)})
            for end in ends:
                yield (
                    {"k": k, "window_end": end, "setting": f"k={k}, sizes {end - k + 1}-{end}"},
                    pol.replace(fit_models=f"range:{end - k + 1}-{end}"),
                )

    return _run_cells(data, law, settings, policy, options, by, prior_by, "backtest_windows")


def backtest_trajectory(
    data: Any,
    law: Any = DEFAULT_LAW,
    policy: Policy | None = None,
    *,
    late_starts: Sequence[float] = (0.1, 0.3, 0.5, 0.7, 0.9),
    window_end: float = 0.7,
    by: str | None = "family",
    prior_by: str | None = None,
    **options: Any,
) -> Backtest:
    """Track D: checkpoint ablations of the fit set, every other policy field kept.

    Settings: ``policy`` (as given), ``no cut`` (every checkpoint), ``final only``
    (the last checkpoint of each run), ``10B cut`` (drop checkpoints below 1e10
    tokens), and ``late q`` for each q in ``late_starts``: checkpoints between
    ``q * window_end`` and ``window_end`` of each run's training (the paper's
    Fig. 4 windows, which end at 70% of training).
    """
    base = DEFAULT_POLICY if policy is None else policy
    variants = [
        ("policy", base),
        ("no cut", base.replace(checkpoints=CheckpointRule())),
        ("final only", base.replace(checkpoints=CheckpointRule(final_only=True))),
        ("10B cut", base.replace(checkpoints=CheckpointRule(min_tokens=1e10))),
    ]
    variants += [
        (f"late {q:g}", base.replace(checkpoints=CheckpointRule(window=(q * window_end, window_end))))
        for q in late_starts
    ]

    def settings(sizes, pol):
        for name, p in variants:
            yield {"setting": name}, p

    return _run_cells(data, law, settings, base, options, by, prior_by, "backtest_trajectory")


def grid_table(bt: Backtest, value: str = "are", group: str | None = None) -> pd.DataFrame:
    """Track-B scores as a k x p table (mean over groups unless ``group`` is given; failed cells NaN).

    Examples
    --------
    >>> s = pd.DataFrame({"family": ["a", "a", "b", "b"], "law": "L", "k": [2, 2, 2, 2], "p": [0.5, 1.0, 0.5, 1.0],
    ...                   "are": [0.1, 0.2, 0.3, 0.4]})
    >>> grid_table(type("B", (), {"scores": s})()).values.tolist()
    [[0.2, 0.30000000000000004]]
    """
    s = bt.scores
    if "k" not in s or "p" not in s:
        raise InvalidParameterError(
            "grid_table(): these scores are not a track-B grid (no k and p columns)", hint="use backtest_grid()"
        )
    if group is not None:
        s = s[s["family"] == group]
        if s.empty:
            raise InvalidParameterError(
                f"grid_table(): no group '{group}' in the grid", hint=f"groups: {list(bt.scores['family'].unique())}"
            )
    # a group's mean over its cells first, so a group with many laws/sets does not dominate
    return s.pivot_table(index="k", columns="p", values=value, aggfunc="mean", dropna=False)


def plot_backtest_grid(bt: Backtest, group: str | None = None, value: str = "are"):
    """Heatmap of a track-B grid (rows: k smallest fit sizes; columns: fraction of training), cells annotated
    with ARE in percent, as in the Hitchhiker's Guide (Fig. 1b).  Returns a matplotlib Figure."""
    from matplotlib.colors import LogNorm

    from scalinglab.render import figure_context, new_figure

    t = grid_table(bt, value, group)
    with figure_context():
        fig, axes = new_figure(width=max(4.8, 0.55 * t.shape[1] + 2.2), height=max(2.6, 0.42 * t.shape[0] + 1.4))
        ax = axes[0, 0]
        v = t.to_numpy(dtype=float) * (100 if value == "are" else 1)
        finite = v[np.isfinite(v) & (v > 0)]
        norm = LogNorm(vmin=max(finite.min(), 0.05), vmax=max(finite.max(), 0.1)) if finite.size else None
        im = ax.imshow(
            np.where(np.isfinite(v), np.maximum(v, 0.05), np.nan),
            cmap="viridis_r",
            norm=norm,
            aspect="auto",
            origin="lower",
        )
        for (i, j), val in np.ndenumerate(v):
            ax.text(
                j,
                i,
                "-" if not np.isfinite(val) else (f"{val:.1f}" if val < 100 else f"{val:.0f}"),
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if np.isfinite(val) and val > 5 else "black",
            )
        ax.set_xticks(range(t.shape[1]), [f"{c:g}" for c in t.columns])
        ax.set_yticks(range(t.shape[0]), [str(int(k)) for k in t.index])
        ax.set_xlabel("fraction of training used")
        ax.set_ylabel("k smallest models fitted")
        ax.set_title(f"{group or 'mean over groups'}: {'ARE %' if value == 'are' else value}", fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.85)
    return fig
