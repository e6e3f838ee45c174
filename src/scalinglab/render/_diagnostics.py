"""Fit diagnostics: parity (predicted vs observed) and residuals against each input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scalinglab.render._runs import Target, as_frame, fitted_mask, resolve_target
from scalinglab.render._style import figure_context, label_for, new_figure, set_scale

__all__ = ["plot_parity", "plot_residuals"]


def _observed(fit) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    data = fit.data.drop(columns=["_weight"], errors="ignore")
    y = data[fit.target].to_numpy(dtype=float)
    yhat = np.asarray(fit.predict(data, warn=False), dtype=float)
    return data, y, yhat


def _held_out(fit, runs: Any, target: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Observed and predicted target values at the held-out checkpoints comparable with the fitted ones.

    Only checkpoints at least as far into their run's training as the earliest fitted
    checkpoint count (a law fitted to final checkpoints says nothing about the start
    of a run's learning-rate schedule).
    """
    if runs is None or target is None:
        return None
    frame = as_frame(runs)
    tgt = resolve_target(target, frame, y=fit.target)
    if not isinstance(tgt, Target) or not len(tgt.frame) or any(c not in tgt.frame for c in fit.columns.values()):
        return None
    rows = tgt.frame
    if "tokens" in frame and "run" in frame:
        from scalinglab.data._checkpoints import training_fraction

        used = fitted_mask(fit, frame)
        if used.any():
            first = float(training_fraction(frame)[used].min())
            rows = rows[training_fraction(rows).to_numpy() >= first - 1e-9]
    if rows.empty:
        return None
    return rows[fit.target].to_numpy(dtype=float), np.asarray(fit.predict(rows, warn=False), dtype=float)


def plot_parity(fit, runs: Any = None, *, target: Any = None, title: str | None = None):
    """Predicted against observed target values, with the identity line and the robust residual band.

    Points the fit used are coloured by model size (or grey); held-out target
    checkpoints (``target`` naming runs of ``runs``; those at least as far into their
    run as the earliest fitted checkpoint) are drawn as gold stars, so the picture
    shows in-sample fit and extrapolation at once.  The band is
    ``y = yhat * exp(+-2 s)`` with ``s`` the fit's robust residual scale.

    Parameters
    ----------
    fit : Fit
    runs, target : optional
        Runs table and target (run id or ``"largest"``) to add held-out points.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> N = np.geomspace(1e6, 1e9, 7)
    >>> runs = pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2 + 50 * N ** -0.3})
    >>> f = fit(runs[runs["params"] < 1e9], "power_floor", x="params")   # the largest run held out
    >>> fig = plot_parity(f, runs, target="largest")   # save_figure(fig, "parity.png") writes it
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('Predicted loss (nats/token)', 'Observed loss (nats/token)')
    """
    data, y, yhat = _observed(fit)
    held = _held_out(fit, runs, target)
    with figure_context():
        fig, axes = new_figure(width=4.8, height=4.4)
        ax = axes[0, 0]
        allv = [y, yhat] + ([held[0], held[1]] if held else [])
        finite = np.concatenate([np.asarray(v, dtype=float) for v in allv])
        finite = finite[np.isfinite(finite)]
        if finite.size and finite.min() > 0:  # a wild value (a loss of 1e300) stays off the axis
            med = np.median(finite)
            finite = finite[(finite >= med / 1e6) & (finite <= med * 1e6)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.1, 10.0)
        pad = (hi / lo) ** 0.04 if lo > 0 else 1.0
        grid = np.geomspace(lo / pad, hi * pad, 50) if lo > 0 else np.linspace(lo, hi, 50)
        s = fit.residual_scale if np.isfinite(fit.residual_scale) else 0.0
        ax.fill_between(
            grid,
            grid * np.exp(-2 * s),
            grid * np.exp(2 * s),
            color="0.5",
            alpha=0.15,
            lw=0,
            label=f"±2 robust residual scale ({2 * s:.2%})",
        )
        ax.plot(grid, grid, "-", color="0.3", lw=1.0, label="predicted = observed")
        if "params" in data and data["params"].nunique() > 1:
            from matplotlib.colors import LogNorm

            sc = ax.scatter(
                yhat,
                y,
                c=data["params"],
                cmap="viridis",
                norm=LogNorm(),
                s=14,
                zorder=3,
                label=f"fitted points ({len(y)})",
            )
            cb = fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.05)
            cb.set_label(label_for("params"))
        else:
            ax.scatter(yhat, y, color="#1f77b4", s=14, zorder=3, label=f"fitted points ({len(y)})")
        if held:
            are = float(np.mean(np.abs(held[1] - held[0]) / held[0]))
            ax.scatter(
                held[1],
                held[0],
                marker="*",
                s=70,
                color="#b8860b",
                edgecolors="k",
                linewidths=0.5,
                zorder=4,
                label=f"held-out target ({len(held[0])}; ARE {are:.2%})",
            )
        scale = set_scale(ax, "x", np.concatenate(allv))
        set_scale(ax, "y", np.concatenate(allv), force_log=scale == "log")
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(grid[0], grid[-1])
        ax.set_aspect("equal", adjustable="box")
        ax.set_xlabel(f"Predicted {label_for(fit.target)[0].lower()}{label_for(fit.target)[1:]}")
        ax.set_ylabel(f"Observed {label_for(fit.target)[0].lower()}{label_for(fit.target)[1:]}")
        ax.set_title(title or f"Parity: {fit.law.name} (RMSE(log) {fit.rmse_log:.3g}, R² {fit.r2:.4f})")
        from matplotlib.lines import Line2D

        handles, labels = ax.get_legend_handles_labels()
        handles = [
            Line2D([], [], marker="o", ls="", color="#3b528b", ms=4) if lab.startswith("fitted points") else h
            for h, lab in zip(handles, labels)
        ]  # a neutral marker, not one colour of the map
        ax.legend(handles, labels, loc="upper left", fontsize=7.5)
    return fig


def plot_residuals(fit, *, title: str | None = None):
    """Log residuals ``log(observed / predicted)`` against each input of the law (one panel per input).

    A good fit scatters evenly around zero inside the ``±2 s`` band at every scale;
    a trend against an input (e.g. residuals rising with N) means the law's shape
    is wrong there and extrapolation along that input is suspect.  A running median
    (over bins of the input) makes trends visible in dense data.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> N = np.geomspace(1e6, 1e9, 7)
    >>> runs = pd.DataFrame({"run": [f"n{i}" for i in range(7)], "params": N, "loss": 2 + 50 * N ** -0.3})
    >>> f = fit(runs[runs["params"] < 1e9], "power_floor", x="params")   # the largest run held out
    >>> fig = plot_residuals(f)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['Parameters N']
    """
    data = fit.data.drop(columns=["_weight"], errors="ignore")
    r = fit.residuals()
    cols = list(dict.fromkeys(fit.columns.values()))
    if "flops" in data and "flops" not in cols and len(cols) > 1:
        cols.append("flops")
    s = fit.residual_scale if np.isfinite(fit.residual_scale) else 0.0
    with figure_context():
        fig, axes = new_figure(ncols=len(cols), sharey=True, width=max(4.6, 3.3 * len(cols)), height=3.2)
        for j, col in enumerate(cols):
            ax = axes[0, j]
            x = data[col].to_numpy(dtype=float)
            ax.axhspan(-2 * s, 2 * s, color="0.5", alpha=0.15, lw=0)
            ax.axhline(0.0, color="0.3", lw=0.9)
            ax.scatter(x, r, s=10, color="#1f77b4", alpha=0.75, zorder=3)
            xs, med = _running_median(x, r)
            if xs.size > 2:
                ax.plot(xs, med, "-", color="#d62728", lw=1.4, zorder=4)
            set_scale(ax, "x", x, force_log=bool(np.all(x > 0)))  # inputs are sizes: log
            ax.set_xlabel(label_for(col))
            if j == 0:
                ax.set_ylabel("Log residual  log(observed / predicted)")
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [
            Line2D([], [], marker="o", ls="", color="#1f77b4", ms=4, label="fitted point"),
            Line2D([], [], color="#d62728", label="running median"),
            Patch(color="0.5", alpha=0.15, label=f"±2 robust residual scale (±{2 * s:.3g})"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=7.5)
        fig.suptitle(title or f"Residuals of {fit.law.name} against each input", fontsize=10.5)
    return fig


def _running_median(x: np.ndarray, r: np.ndarray, bins: int = 8) -> tuple[np.ndarray, np.ndarray]:
    lx = np.log(x)
    if np.ptp(lx) <= 0 or x.size < 12:
        return np.array([]), np.array([])
    edges = np.linspace(lx.min(), lx.max(), bins + 1)
    idx = np.clip(np.digitize(lx, edges) - 1, 0, bins - 1)
    centres, meds = [], []
    for b in range(bins):
        sel = idx == b
        if sel.sum() >= 3:
            centres.append(np.exp(np.median(lx[sel])))
            meds.append(np.median(r[sel]))
    return np.array(centres), np.array(meds)
