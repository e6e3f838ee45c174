"""Compute-optimal frontier: iso-loss contours in (N, D), the optimal allocation with its band, isoFLOP valleys."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scalinglab.errors import InvalidParameterError
from scalinglab.render import as_frame, figure_context, final_rows, flops_per_nd, label_for, new_figure, set_scale, si

__all__ = ["plot_frontier", "plot_isoflop"]


def _nd_columns(fit) -> tuple[str, str]:
    cols = set(fit.columns.values())
    if not {"params", "tokens"} <= cols:
        raise InvalidParameterError(
            f"plot_frontier(): law '{fit.law.name}' has inputs {dict(fit.columns)}; iso-loss contours in (N, D) "
            "need a law of both 'params' and 'tokens' (e.g. 'chinchilla')"
        )
    return "params", "tokens"


def plot_frontier(
    fit, allocation: Any = None, *, runs: Any = None, isoflop: Any = None, levels: int = 9, title: str | None = None
):
    """Iso-loss contours of a fitted L(N, D), iso-FLOP lines, and the compute-optimal allocation with its band.

    Contours are the fitted law on a log grid covering the data and the planned
    budgets.  The optimal line is ``allocation`` (a
    :class:`scalinglab.plan.Allocation` from ``compute_optimal(fit, flops=...)``): the
    marked points are N*(C), D*(C), and the shaded band spans each budget's
    interval of N* along its iso-FLOP line (N* high goes with D* low).  Dotted
    lines are the iso-FLOP curves ``C = k N D`` of those budgets.  With an
    ``isoflop`` result (approach 2) a second panel shows the valleys.

    Parameters
    ----------
    fit : Fit
        A law of N (``params``) and D (``tokens``).
    allocation : Allocation, optional
        Compute-optimal allocation; without it only contours and data are drawn.
    runs : RunsTable or DataFrame, optional
        Runs to mark (final checkpoints; default: the fitted rows).
    isoflop : IsoFLOPResult, optional
        Result of ``scalinglab.plan.isoflop`` on ``runs``, drawn beside (see :func:`plot_isoflop`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglab.fit import fit
    >>> from scalinglab.plan import compute_optimal
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8], 3); D = np.tile([0.3, 0.6, 1.0], 4) * 20 * N
    >>> f = fit(pd.DataFrame({"run": [f"n{n:.0e}" for n in N], "params": N, "tokens": D,
    ...                       "loss": 1.7 + 400 / N ** 0.34 + 410 / D ** 0.28}), "chinchilla")
    >>> fig = plot_frontier(f, compute_optimal(f, np.geomspace(1e18, 1e22, 5)))
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('Parameters N', 'Training tokens D')
    """
    _nd_columns(fit)
    frame = fit.data if runs is None else as_frame(runs)
    pts = final_rows(frame) if "tokens" in frame else frame
    k = flops_per_nd(frame)
    Ns, Ds = [pts["params"].to_numpy(float)], [pts["tokens"].to_numpy(float)]
    tab = None
    if allocation is not None:
        tab = allocation.table
        for q in ("params", "params_lower", "params_upper"):
            if q in tab:
                Ns.append(tab[q].to_numpy(float))
        for q in ("tokens", "tokens_lower", "tokens_upper"):
            if q in tab:
                Ds.append(tab[q].to_numpy(float))
    N_all, D_all = np.concatenate(Ns), np.concatenate(Ds)
    N_all, D_all = N_all[np.isfinite(N_all)], D_all[np.isfinite(D_all)]
    nlo, nhi = N_all.min() / 2.5, N_all.max() * 2.5
    dlo, dhi = D_all.min() / 2.5, D_all.max() * 2.5
    gN, gD = np.meshgrid(np.geomspace(nlo, nhi, 160), np.geomspace(dlo, dhi, 160))
    inputs = pd.DataFrame({"params": gN.ravel(), "tokens": gD.ravel()})
    L = np.asarray(fit.predict(inputs, warn=False), dtype=float).reshape(gN.shape)
    ncols = 2 if isoflop is not None else 1
    with figure_context():
        fig, axes = new_figure(ncols=ncols, width=7.0 if ncols == 1 else 11.5, height=4.6)
        ax = axes[0, 0]
        lv = _levels(L, pts[fit.target].to_numpy(float) if fit.target in pts else None, levels)
        cs = ax.contour(gN, gD, L, levels=lv, cmap="viridis_r", linewidths=0.9)
        ax.clabel(cs, fmt=lambda v: f"{v:.3g}", fontsize=7, inline=True, inline_spacing=2)
        ax.scatter(
            pts["params"],
            pts["tokens"],
            s=12,
            color="0.35",
            zorder=3,
            label=f"runs ({'final checkpoints' if 'tokens' in frame and len(pts) < len(frame) else 'points'})",
        )
        if tab is not None:
            C = tab["flops"].to_numpy(float)
            nn = np.geomspace(nlo, nhi, 200)
            for i, c in enumerate(C):
                dd = c / (k * nn)
                ok = (dd >= dlo) & (dd <= dhi)
                ax.plot(
                    nn[ok],
                    dd[ok],
                    ":",
                    color="0.55",
                    lw=0.8,
                    zorder=1,
                    label="iso-FLOP lines (C = k N D)" if i == 0 else None,
                )
            if {"params_lower", "params_upper", "tokens_lower", "tokens_upper"} <= set(tab):
                lower = np.column_stack([tab["params_lower"], tab["tokens_upper"]])
                upper = np.column_stack([tab["params_upper"], tab["tokens_lower"]])[::-1]
                poly = np.vstack([lower, upper])
                if np.all(np.isfinite(poly)):
                    lvl = f"{allocation.level:.0%} " if getattr(allocation, "level", None) else ""
                    ax.fill(
                        poly[:, 0],
                        poly[:, 1],
                        color="#d62728",
                        alpha=0.18,
                        lw=0,
                        zorder=2,
                        label=f"{lvl}interval of N*, D* ({allocation.method})",
                    )
            ax.plot(
                tab["params"],
                tab["tokens"],
                "-o",
                color="#d62728",
                ms=4,
                lw=1.6,
                zorder=4,
                label="compute-optimal N*(C), D*(C)",
            )
            if "tokens_per_param" in tab and len(tab):
                last = tab.iloc[-1]
                ax.annotate(
                    f"C={last['flops']:.2g}: N*={si(last['params'])}, D/N={last['tokens_per_param']:.3g}",
                    (last["params"], last["tokens"]),
                    xytext=(-8, 8),
                    textcoords="offset points",
                    ha="right",
                    fontsize=7.5,
                    color="#a01c1c",
                )
        if isoflop is not None:  # approach 2's minima on the same axes as approach 3's optimum
            b = getattr(isoflop, "budgets", None)
            if isinstance(b, pd.DataFrame) and {"params", "tokens"} <= set(b):
                ok = b[np.isfinite(b["params"].astype(float)) & np.isfinite(b["tokens"].astype(float))]
                ax.plot(
                    ok["params"],
                    ok["tokens"],
                    "*",
                    color="k",
                    mfc="white",
                    ms=10,
                    mew=1.0,
                    zorder=5,
                    label="isoFLOP valley minima (approach 2)",
                )
        set_scale(ax, "x", [nlo, nhi], force_log=True)
        set_scale(ax, "y", [dlo, dhi], force_log=True)
        ax.set_xlim(nlo, nhi)
        ax.set_ylim(dlo, dhi)
        ax.set_xlabel(label_for("params"))
        ax.set_ylabel(label_for("tokens"))
        ax.set_title(title or f"Iso-{fit.target} contours of the fitted {fit.law.name} law")
        fig.legend(loc="outside lower center", ncols=2, fontsize=7.5)
        if isoflop is not None:
            _draw_isoflop(axes[0, 1], isoflop, pts)
    return fig


def _levels(L: np.ndarray, observed: np.ndarray | None, n: int) -> np.ndarray:
    finite = L[np.isfinite(L)]
    lo, hi = np.percentile(finite, [2, 90])
    if observed is not None and observed.size:
        lo, hi = min(lo, observed.min()), max(min(hi, observed.max() * 1.15), lo * 1.01)
    return np.unique(np.round(np.geomspace(lo, hi, n), 3))


def _isoflop_points(result: Any, runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The valleys' points (``budget``, ``params``, ``loss``) and per-budget minima of an isoFLOP result."""
    budgets = getattr(result, "budgets", None)
    if not isinstance(budgets, pd.DataFrame) or not {"budget", "params", "loss", "curvature"} <= set(budgets):
        raise InvalidParameterError(
            "plot_isoflop(): expected a scalinglab.plan.isoflop result (its 'budgets' "
            "table has budget, params, loss, curvature)"
        )
    pts = runs.copy()
    if "budget" in pts:
        pts["_budget"] = pts["budget"].astype(float)
    else:
        raw = (
            pts["flops"].to_numpy(float)
            if "flops" in pts
            else 6 * pts["params"].to_numpy(float) * pts["tokens"].to_numpy(float)
        )
        b = budgets["budget"].to_numpy(float)
        pts["_budget"] = b[np.argmin(np.abs(np.log(raw)[:, None] - np.log(b)[None, :]), axis=1)]
    return pts, budgets


def _draw_isoflop(ax, result: Any, runs: pd.DataFrame) -> None:
    import matplotlib
    from matplotlib.colors import LogNorm
    from matplotlib.lines import Line2D

    pts, budgets = _isoflop_points(result, runs)
    valid = budgets[np.isfinite(budgets["params"].astype(float)) & (budgets["curvature"].astype(float) > 0)]
    order = sorted(valid["budget"].astype(float))
    if not order:
        raise InvalidParameterError("plot_isoflop(): no budget has a valley with a minimum to draw")
    norm = LogNorm(vmin=order[0], vmax=max(order[-1], order[0] * 1.01))
    cmap = matplotlib.colormaps["plasma"]
    for b in order:
        c = cmap(0.85 * float(norm(b)))
        g = pts[np.isclose(pts["_budget"], b)].sort_values("params")
        row = valid[np.isclose(valid["budget"].astype(float), b)].iloc[0]
        ax.scatter(g["params"], g["loss"], s=10, color=c, zorder=3, alpha=0.85)
        nn = np.geomspace(g["params"].min(), g["params"].max(), 80) if len(g) else np.array([row["params"]])
        ax.plot(
            nn,
            row["loss"] + row["curvature"] * (np.log10(nn) - np.log10(row["params"])) ** 2,
            "-",
            color=c,
            lw=1.0,
            zorder=2,
        )
    ax.plot(valid["params"], valid["loss"], "*", color="k", mfc="white", ms=10, mew=1.0, zorder=5)
    shown = pts[np.isin(np.round(np.log(pts["_budget"].to_numpy(float)), 9), np.round(np.log(np.asarray(order)), 9))]
    set_scale(ax, "x", shown["params"].to_numpy(float), force_log=True)
    set_scale(ax, "y", shown["loss"].to_numpy(float))
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=matplotlib.colors.ListedColormap(cmap(np.linspace(0, 0.85, 256))))
    cb = ax.figure.colorbar(sm, ax=ax, pad=0.01, fraction=0.05)
    cb.set_label("Budget C (FLOPs)")
    ax.set_xlabel(label_for("params"))
    ax.set_ylabel(label_for("loss"))
    ax.set_title(f"IsoFLOP valleys: {len(order)} budgets (parabola in log N)")
    ax.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color="0.4", ms=4, label="runs at one budget"),
            Line2D([], [], color="0.4", label="fitted valley"),
            Line2D([], [], marker="*", ls="", color="k", mfc="white", ms=9, label="valley minimum N*(C)"),
        ],
        loc="upper right",
        fontsize=7.5,
    )


def plot_isoflop(result: Any, runs: Any, *, title: str | None = None):
    """IsoFLOP valleys: loss against N at each compute budget, the fitted parabola and its minimum.

    Parameters
    ----------
    result : IsoFLOPResult
        From ``scalinglab.plan.isoflop(runs)``.
    runs : RunsTable or DataFrame
        The points the result was computed from.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``plot_isoflop(isoflop(runs), runs)`` for isoFLOP sweeps (several sizes at each of
    several compute budgets); the estimate's bootstrap takes a few seconds.
    """
    frame = as_frame(runs)
    with figure_context():
        fig, axes = new_figure(width=6.4, height=4.3)
        _draw_isoflop(axes[0, 0], result, frame)
        if title:
            axes[0, 0].set_title(title)
    return fig
