"""Section "Backtest": the leaderboard under the default policy and ARE against training used / scale-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from scalinglab.errors import ScalingLabError
from scalinglab.render import FigureRenderer, Section, kv_html, register_section, table_html
from scalinglab.report._context import missing_section, skipped_section

__all__ = ["section_backtest"]


def section_backtest(backtests: Sequence, sweeps: Mapping[str, Sequence], *, render: FigureRenderer) -> Section:
    """Backtest leaderboard (default policy) and ARE against training used / scale-up."""
    from scalinglab.evaluate import backtest_curve
    from scalinglab.report._backtest import plot_backtest

    main = backtests[0]
    lb = main.leaderboard().reset_index()
    keys = {(i, "are"): f"backtest-are:{law}" for i, law in enumerate(lb["law"])}
    pct = {
        c: (lambda v: "–" if v is None or not np.isfinite(v) else f"{100 * v:.2f}%")
        for c in ("are", "signed_error", "coverage", "baseline_are")
    }
    body = kv_html(
        [
            ("policy", main.policy.describe()),
            (
                "interval",
                f"{main.options.get('interval'):.0%} for a new run ({main.options.get('method')})"
                if main.options.get("interval")
                else "none",
            ),
            ("best law", main.best),
        ]
    ) + table_html(lb, keys=keys, formats=pct, caption="Leaderboard (mean over families, lowest ARE first)")
    ids = []
    for over, results in sweeps.items():
        if len(results) < 2:
            continue
        fig = plot_backtest(results, x=over)
        fid = f"fig-backtest-{over}"
        ids.append(fid)
        what = (
            "fraction of each fitted run's training used"
            if over == "fraction"
            else "scale-up factor (held-out size / largest fitted size)"
        )
        body += render(
            fig,
            fid,
            f"ARE of each law on the held-out checkpoints against the {what}; dashed: the best-loss-seen baseline.",
        )
        tab = backtest_curve(results, over).drop(columns=["policy"])
        if tab["coverage"].isna().all():
            tab = tab.drop(columns=["coverage"])
        body += table_html(
            tab,
            formats={c: pct["are"] for c in ("are", "baseline_are", "coverage")},
            caption=f"Backtest sweep over {over}",
        )
    return Section("backtest", "Backtest", body, figures=tuple(ids))


def _settings(ctx) -> dict[str, int]:
    """Backtest settings per sweep (one progress step each)."""
    n = {"fraction": 4, "scale": min(5, max(int(ctx.frame["params"].nunique()) - 2, 0))}
    return {o: n[o] for o in ctx.options.get("backtest_over", ())}


def _weight(ctx) -> int:
    if not ctx.options.get("backtest", True):
        return 0
    return 2 + (sum(_settings(ctx).values()) if ctx.have("scalinglab.evaluate") else 0)


@register_section("backtest", title="Backtest", order=70, weight=_weight)
def _provide(ctx) -> Section:
    if not ctx.options.get("backtest", True):
        return skipped_section("backtest", "Backtest", "backtest=False / --no-backtest")
    ctx.step("backtest (default policy)")
    if not ctx.have("scalinglab.evaluate"):
        ctx.step("backtest sweeps")
        return missing_section("backtest", "Backtest", "scalinglab.evaluate", "the backtest leaderboard")
    from scalinglab.evaluate import DEFAULT_POLICY, backtest, backtest_sweep

    # the same checkpoint rule as the fits (the default policy's 20% cut when no window is given)
    policy = DEFAULT_POLICY.replace(checkpoints=ctx.policy_checkpoints(DEFAULT_POLICY.checkpoints))
    out = ctx.results.setdefault("backtests", [])
    try:
        main = backtest(
            ctx.runs,
            ctx.laws,
            policy,
            x=ctx.x,
            y=ctx.y,
            interval=ctx.interval,
            method=ctx.method,
            fit_options=ctx.fit_options,
        )
    except ScalingLabError as exc:
        return Section(
            "backtest",
            "Backtest",
            "",
            status="error",
            note=f"Left out: the backtest could not run on this data ({str(exc).splitlines()[0]}).",
        )
    out.append(main)
    sweeps = {}
    for over in _settings(ctx):
        # the sweeps only draw ARE: no intervals needed
        sweeps[over] = backtest_sweep(
            ctx.runs,
            ctx.laws,
            over=over,
            x=ctx.x,
            y=ctx.y,
            interval=None,
            fit_options=ctx.fit_options,
            policy=policy,
            progress=lambda o=over: ctx.step(f"backtest sweep over {o}"),
        )
        out.extend(sweeps[over])
    ctx.step("backtest sweeps")
    return section_backtest([main], sweeps, render=ctx.render)
