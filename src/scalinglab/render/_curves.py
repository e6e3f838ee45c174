"""Loss curves: the runs, the fitted law, its extrapolation band to a target, and several laws compared."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._validation import check_fraction, check_options
from scalinglab.errors import ExtrapolationWarning, InvalidParameterError
from scalinglab.render._format import si
from scalinglab.render._runs import AXES, Target, as_frame, final_rows, fitted_mask, law_path, resolve_target
from scalinglab.render._style import figure_context, label_for, new_figure, run_colors, set_scale

__all__ = ["plot_loss", "plot_compare"]

LAW_COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


def _frame_for(fit, runs) -> pd.DataFrame:
    return fit.data.drop(columns=["_weight"], errors="ignore") if runs is None else as_frame(runs)


def _check_x(x: str, frame: pd.DataFrame, owner: str) -> None:
    check_options(x, "x", AXES, owner)
    if x not in frame:
        raise InvalidParameterError(
            f"{owner}(): the data has no '{x}' column to plot against; pass runs= with "
            f"that column or choose x from {[c for c in AXES if c in frame]}"
        )


def _predict_band(fit, path: pd.DataFrame, interval: float, kind: str, method: str) -> pd.DataFrame | None:
    if any(c not in path for c in fit.columns.values()):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExtrapolationWarning)
        return fit.predict(path, interval=interval, kind=kind, method=method, warn=False)


def _run_order(frame: pd.DataFrame) -> list[str]:
    last = final_rows(frame)
    key = "params" if "params" in last else ("flops" if "flops" in last else None)
    last = last.sort_values([key, "run"] if key else ["run"], kind="stable")
    return [str(r) for r in last["run"]]


def _colour_runs(ax, fig, frame: pd.DataFrame, max_legend: int):
    """Colours per run; a colorbar over N when there are too many runs for a legend."""
    order = _run_order(frame)
    if len(order) <= max_legend or "params" not in frame:
        return run_colors(order), None
    import matplotlib
    from matplotlib.colors import LogNorm

    last = final_rows(frame).set_index(frame.loc[final_rows(frame).index, "run"].astype(str))
    norm = LogNorm(
        vmin=float(frame["params"].min()), vmax=max(float(frame["params"].max()), float(frame["params"].min()) * 1.01)
    )
    cmap = matplotlib.colormaps["viridis"]
    colors = {r: cmap(0.9 * float(norm(last.loc[r, "params"]))) for r in order}
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=matplotlib.colors.ListedColormap(cmap(np.linspace(0, 0.9, 256))))
    cb = fig.colorbar(sm, ax=ax, pad=0.01, fraction=0.05)
    cb.set_label(label_for("params"))
    return colors, cb


def plot_loss(
    fit,
    runs: Any = None,
    *,
    x: str = "tokens",
    target: Any = None,
    interval: float = 0.9,
    kind: str = "new",
    method: str = "delta",
    max_legend: int = 10,
    title: str | None = None,
):
    """Loss against N, D or C: runs, fitted law, extrapolation band to the target and the actual target.

    Each run is drawn in its own colour (checkpoints joined by a line, small to large
    models from dark to light); checkpoints the fit used are filled, the others hollow.
    The fitted law is dashed in the run's colour (runs with two or more checkpoints).
    Along the path to the target (see :func:`scalinglab.render.law_path`) the law is
    drawn in black with its ``interval`` prediction band (``kind="new"``: for one new
    run; ``kind="mean"``: for the mean law), and the target's prediction and, when
    known, its observed value.

    Parameters
    ----------
    fit : Fit
    runs : RunsTable or DataFrame, optional
        All runs to draw (default: the rows the fit used).  Runs named by ``target``
        are drawn as the actual target.
    x : {"tokens", "params", "flops"}
    target : run id, "largest", mapping or Target, optional
        Where to extrapolate to, e.g. ``"largest"`` or ``{"params": 7e10, "tokens": 1.4e12}``.
    interval : float
        Coverage of the band (0.9 = 90%).
    kind, method : str
        Passed to :meth:`Fit.predict` (``method="bootstrap"`` resamples runs).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd, scalinglab as sl
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8], 4); D = np.tile([2e8, 6e8, 2e9, 6e9], 4) * N / 1e7
    >>> runs = sl.read_runs(pd.DataFrame({"run": [f"n{n:.0e}" for n in N], "params": N, "tokens": D,
    ...                                   "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28}))
    >>> f = sl.fit(runs.frame[runs.frame["params"] < 3e8], "chinchilla")   # hold out the largest size
    >>> fig = plot_loss(f, runs, x="tokens", target="largest")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_xscale()
    ('Training tokens D', 'log')
    """
    check_fraction(interval, "interval", "plot_loss")
    frame = _frame_for(fit, runs)
    _check_x(x, frame, "plot_loss")
    tgt = resolve_target(target, frame, y=fit.target)
    held = frame["run"].astype(str).isin(tgt.runs) if tgt is not None else np.zeros(len(frame), bool)
    shown = frame[~np.asarray(held)]
    used = fitted_mask(fit, shown)
    with figure_context():
        fig, axes = new_figure(width=7.4, height=4.3)
        ax = axes[0, 0]
        colors, cbar = _colour_runs(ax, fig, shown, max_legend)
        xs, ys = [shown[x].to_numpy(float)], [shown[fit.target].to_numpy(float)]
        fit_x = frame.loc[fitted_mask(fit, frame), x].to_numpy(float) if x in frame else np.array([])
        run_handles = []
        n_curves = 0
        pts = {True: [[], [], []], False: [[], [], []]}  # used / not used: x, y, colour (one scatter each)
        from matplotlib.lines import Line2D

        for r in _run_order(shown):
            sel = (shown["run"].astype(str) == r).to_numpy()
            order = np.argsort(shown.loc[sel, x].to_numpy(), kind="stable")
            rows = shown[sel].iloc[order]
            u = used[sel][order]
            c = colors[r]
            xv, yv = rows[x].to_numpy(float), rows[fit.target].to_numpy(float)
            for flag in (True, False):
                m = u if flag else ~u
                pts[flag][0].append(xv[m])
                pts[flag][1].append(yv[m])
                pts[flag][2] += [c] * int(m.sum())
            if len(rows) > 1:
                ax.plot(xv, yv, "-", color=c, lw=1.0, alpha=0.85, zorder=2)
            if u.sum() > 1 and all(col in rows for col in fit.columns.values()):
                # the law over the checkpoints it was fitted to (outside them it answers another question)
                span = (xv >= xv[u].min()) & (xv <= xv[u].max())
                ax.plot(xv[span], fit.predict(rows[span], warn=False), "--", color=c, lw=1.0, alpha=0.9, zorder=2)
                n_curves += 1
            if cbar is None:
                run_handles.append(Line2D([], [], marker="o", ls="", color=c, ms=4, label=_run_label(rows)))
        for flag in (True, False):
            xv, yv, cs = np.concatenate(pts[flag][0]), np.concatenate(pts[flag][1]), pts[flag][2]
            if xv.size and flag:
                ax.scatter(xv, yv, s=14, c=cs, zorder=3)
            elif xv.size:
                ax.scatter(xv, yv, s=14, facecolors="none", edgecolors=cs, lw=0.8, zorder=3)
        multi = bool(shown.groupby("run").size().max() > 1)
        style = _style_handles(ax, used.any(), (~used).any(), n_curves > 0, "checkpoint" if multi else "point")
        if tgt is not None:
            style += _draw_target(
                ax, fit, frame, x, tgt, interval, kind, method, xs, ys, start=float(fit_x.min()) if fit_x.size else None
            )
        elif not any(len(g) > 1 for _, g in shown.groupby("run")):
            path = law_path(frame, x)
            if all(c in path for c in fit.columns.values()):
                (h,) = ax.plot(
                    path[x],
                    fit.predict(path, warn=False),
                    "-",
                    color="k",
                    lw=1.3,
                    label="fitted law along the runs' trend",
                )
                style.append(h)
        set_scale(ax, "x", np.concatenate(xs), force_log=True)  # N, D, C: always log
        yall = np.concatenate(ys)
        yscale = set_scale(ax, "y", yall)
        ax.set_ylim(*_padded(yall, yscale))
        ax.set_xlabel(label_for(x))
        ax.set_ylabel(label_for(fit.target))
        ax.set_title(
            title
            or f"{fit.law.name} fitted to {fit.n_points} points of {fit.data['run'].nunique()} runs"
            + (f"\n{tgt.label}" if tgt is not None else "")
        )
        handles = style + (run_handles if cbar is None else [])
        fig.legend(handles=handles, loc="outside right upper", fontsize=7.5, handlelength=1.8)
    return fig


def _padded(values: np.ndarray, scale: str, pad: float = 0.05) -> tuple[float, float]:
    """Axis limits around the finite values, padded; never NaN or inf (a value such as 1e300 is clipped
    to what a float axis can show)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if scale == "log":
        v = v[v > 0]
        if v.size:  # a wild value (a loss of 1e300) is left off the axis rather than squashing the rest
            med = np.median(v)
            v = v[(v >= med / 1e6) & (v <= med * 1e6)]
        if v.size == 0:
            return 0.1, 10.0
        lo, hi = np.log(v.min()), np.log(v.max())
        d = (hi - lo) * pad or 0.05
        lo, hi = max(lo - d, np.log(1e-300)), min(hi + d, np.log(1e300))
        return float(np.exp(lo)), float(np.exp(hi))
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    with np.errstate(over="ignore", invalid="ignore"):
        d = (hi - lo) * pad or 0.05 * max(abs(hi), 1e-12)
        out = (lo - d, hi + d)
    if not all(np.isfinite(out)):
        out = (max(lo, -1e300), min(hi, 1e300))
    return out


def _run_label(rows: pd.DataFrame) -> str:
    r = str(rows["run"].iloc[0])
    if "params" in rows:
        n = float(rows["params"].iloc[0])
        size = si(n)
        return r if size in r else f"{r} (N={size})"
    return r


def _style_handles(ax, has_used: bool, has_unused: bool, has_curves: bool, what: str) -> list:
    from matplotlib.lines import Line2D

    out = []
    if has_used:
        out.append(Line2D([], [], marker="o", ls="", color="0.35", ms=4, label=f"{what} used in the fit"))
    if has_unused:
        out.append(Line2D([], [], marker="o", ls="", mfc="none", color="0.35", ms=4, label=f"{what} not used"))
    if has_curves:
        out.append(Line2D([], [], ls="--", color="0.35", label="fitted law (per run)"))
    return out


def _draw_target(ax, fit, frame, x, tgt: Target, interval, kind, method, xs, ys, start=None) -> list:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    path = law_path(frame, x, target=tgt)
    if x == "tokens" and start is not None:  # from the first fitted checkpoint on, not from the first evaluation
        path = law_path(frame[frame["tokens"] >= start], x, target=tgt) if (frame["tokens"] >= start).any() else path
    band = _predict_band(fit, path, interval, kind, method)
    if band is not None:
        ax.fill_between(path[x], band["lower"], band["upper"], color="k", alpha=0.12, lw=0, zorder=1)
        ax.plot(path[x], band["estimate"], "-", color="k", lw=1.3, zorder=4)
        handles += [
            Line2D([], [], color="k", lw=1.3, label="fitted law, extrapolated"),
            Patch(
                color="k",
                alpha=0.12,
                label=f"{interval:.0%} {'prediction' if kind == 'new' else 'confidence'} band ({method})",
            ),
        ]
        xs.append(path[x].to_numpy(float))
        ys.append(band["estimate"].to_numpy(float)[-1:])
    point = pd.DataFrame({c: [v] for c, v in tgt.point.items()})
    if all(c in point for c in fit.columns.values()) and x in point:
        p = _predict_band(fit, point, interval, kind, method)
        est, lo, hi = float(p["estimate"][0]), float(p["lower"][0]), float(p["upper"][0])
        ax.errorbar(
            [tgt.point[x]],
            [est],
            yerr=[[est - lo], [hi - est]],
            fmt="D",
            color="k",
            mec="white",
            mew=0.6,
            ms=5,
            capsize=3,
            zorder=8,
        )
        handles.append(Line2D([], [], marker="D", color="k", ls="", ms=5, label=f"predicted at target: {est:.4g}"))
        ys.append(np.array([lo, hi]))
    if len(tgt.frame):
        rows = tgt.frame.sort_values(x)
        for _, g in rows.groupby("run"):
            ax.plot(g[x], g[fit.target], "-", color="#b8860b", lw=1.1, alpha=0.9, zorder=5)
        xs.append(rows[x].to_numpy(float))
        ys.append(rows[fit.target].to_numpy(float))
    if tgt.actual is not None and x in tgt.point:
        ax.plot([tgt.point[x]], [tgt.actual], "*", color="#b8860b", ms=12, mec="k", mew=0.6, zorder=7)
        handles.append(
            Line2D(
                [],
                [],
                marker="*",
                color="#b8860b",
                mec="k",
                ms=10,
                ls="-" if len(tgt.frame) else "",
                label=f"actual target: {tgt.actual:.4g}",
            )
        )
    return handles


def plot_compare(
    fits: Sequence,
    runs: Any = None,
    *,
    x: str = "flops",
    target: Any = None,
    labels: Sequence[str] | None = None,
    interval: float = 0.9,
    kind: str = "new",
    method: str = "delta",
    title: str | None = None,
):
    """Several fitted laws (or families) on one figure, each with its band along the path to the target.

    When all fits saw the same data, the runs are drawn once in grey; otherwise each
    fit's points take its law's colour (one family per fit).  The legend gives each
    law's RMSE of log residuals and its prediction at the target.

    Parameters
    ----------
    fits : sequence of Fit
    runs : RunsTable or DataFrame, optional
        Data to draw and to build the path from (default: the union of the fits' data).
    x : {"flops", "params", "tokens"}
    target, interval, kind, method
        As in :func:`plot_loss`.
    labels : sequence of str, optional
        Legend names (default: law names, with the family when the data differ).

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
    >>> g = fit(runs[runs["params"] < 1e9], "power_law", x="params")
    >>> fig = plot_compare([f, g], runs, x="params", target="largest")
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_xscale()
    ('Parameters N', 'log')
    """
    fits = list(fits)
    if not fits:
        raise InvalidParameterError("plot_compare(): 'fits' must hold at least one Fit")
    check_fraction(interval, "interval", "plot_compare")
    if labels is not None and len(labels) != len(fits):
        raise InvalidParameterError(f"plot_compare(): got {len(labels)} labels for {len(fits)} fits")
    run_sets = [set(f.data["run"].astype(str)) for f in fits]
    same = len({f.fingerprint for f in fits}) == 1 or all(run_sets[0] & r for r in run_sets[1:])
    frame = (
        as_frame(runs)
        if runs is not None
        else pd.concat(
            [f.data.drop(columns=["_weight"], errors="ignore") for f in fits], ignore_index=True
        ).drop_duplicates()
    )
    _check_x(x, frame, "plot_compare")
    tgt = resolve_target(target, frame, y=fits[0].target)
    names = list(labels) if labels is not None else _default_labels(fits, same, frame)
    per_family = not same and target == "largest" and "family" in frame
    if per_family:  # each family is extrapolated to its own largest size
        tgts = [
            resolve_target(
                "largest",
                frame[frame["family"].isin(frame.loc[frame["run"].astype(str).isin(r), "family"].unique())],
                y=f.target,
            )
            for f, r in zip(fits, run_sets)
        ]
    else:
        tgts = [tgt] * len(fits)
    with figure_context():
        fig, axes = new_figure(width=7.4, height=4.3)
        ax = axes[0, 0]
        xs, ys, handles = [], [], []
        from matplotlib.lines import Line2D

        held_ids = {r for t in tgts if t is not None for r in t.runs}
        held = frame["run"].astype(str).isin(held_ids)
        shown = frame[~held.to_numpy()]
        if same:
            for _, g in shown.groupby("run"):
                g = g.sort_values(x)
                ax.plot(g[x], g[fits[0].target], "-o", color="0.6", ms=2.5, lw=0.7, alpha=0.8, zorder=2)
            xs.append(shown[x].to_numpy(float))
            ys.append(shown[fits[0].target].to_numpy(float))
            handles.append(Line2D([], [], marker="o", color="0.6", ms=3, lw=0.7, label="runs (checkpoints)"))
        for i, (f, name) in enumerate(zip(fits, names)):
            c = LAW_COLORS[i % len(LAW_COLORS)]
            own = shown[shown["run"].astype(str).isin(run_sets[i])]
            if not same:  # one family per fit: its runs in its law's colour
                for _, g in own.groupby("run"):
                    g = g.sort_values(x)
                    ax.plot(g[x], g[f.target], "-o", color=c, ms=2.5, lw=0.7, alpha=0.6, zorder=3)
                xs.append(own[x].to_numpy(float))
                ys.append(own[f.target].to_numpy(float))
            t_i = tgts[i]
            base = frame if same else pd.concat([own, frame[frame["run"].astype(str).isin(t_i.runs if t_i else ())]])
            if x not in base or base.empty:
                continue
            path = law_path(base, x, target=t_i)
            band = _predict_band(f, path, interval, kind, method)
            if band is None:
                continue
            ax.fill_between(path[x], band["lower"], band["upper"], color=c, alpha=0.13, lw=0, zorder=1)
            ax.plot(path[x], band["estimate"], "-", color=c, lw=1.5, zorder=4)
            xs.append(path[x].to_numpy(float))
            ys.append(band["estimate"].to_numpy(float))
            extra = ""
            if t_i is not None:
                est = float(band["estimate"].iloc[-1])
                extra = f", at target {est:.4g} [{band['lower'].iloc[-1]:.4g}, {band['upper'].iloc[-1]:.4g}]"
                ys.append(np.array([band["lower"].iloc[-1], band["upper"].iloc[-1]]))
            handles.append(Line2D([], [], color=c, lw=1.5, label=f"{name}: RMSE(log) {f.rmse_log:.3g}{extra}"))
        drawn = []
        for i, t_i in enumerate(tgts):
            if t_i is None or t_i.actual is None or x not in t_i.point or any(t_i is d for d in drawn):
                continue
            drawn.append(t_i)
            c = LAW_COLORS[i % len(LAW_COLORS)] if per_family else "#b8860b"
            for _, g in t_i.frame.groupby("run") if len(t_i.frame) else []:
                g = g.sort_values(x)
                ax.plot(g[x], g[fits[i].target], "-", color="#b8860b", lw=1.0, zorder=5)
            ax.plot([t_i.point[x]], [t_i.actual], "*", color=c, mec="k", mew=0.6, ms=12, zorder=7)
            who = f" ({names[i]})" if per_family else ""
            handles.append(
                Line2D(
                    [], [], marker="*", color=c, mec="k", ms=10, ls="", label=f"actual target{who}: {t_i.actual:.4g}"
                )
            )
            ys.append(np.array([t_i.actual]))
        set_scale(ax, "x", np.concatenate(xs), force_log=True)
        set_scale(ax, "y", np.concatenate(ys))
        ax.set_xlabel(label_for(x))
        ax.set_ylabel(label_for(fits[0].target))
        ax.set_title(
            title
            or (
                ("Laws compared" if same else "Families compared")
                + f" ({interval:.0%} bands)"
                + (
                    "\ntarget: the largest size of each family"
                    if per_family
                    else (f"\n{tgt.label}" if tgt is not None else "")
                )
            )
        )
        fig.legend(handles=handles, loc="outside lower center", ncols=1, fontsize=7.5)
    return fig


def _default_labels(fits, same: bool, frame: pd.DataFrame) -> list[str]:
    out = []
    for f in fits:
        name = f.law.name
        if not same and "family" in frame:
            rows = frame[frame["run"].astype(str).isin(set(f.data["run"].astype(str)))]
            fams = sorted(map(str, rows["family"].unique()))
            if fams:
                name += f" ({', '.join(fams[:2])})"
        out.append(name)
    if len(set(out)) < len(out):
        out = [f"{n} #{i + 1}" for i, n in enumerate(out)]
    return out
