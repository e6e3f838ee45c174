"""Sections "Figures: LAW": loss curves with the fitted law and its band, parity and residuals, one per law."""

from __future__ import annotations

import pandas as pd

from scalinglab.render import FigureRenderer, Section, Target, plot_loss, plot_parity, plot_residuals, register_section
from scalinglab.report._context import axis_name

__all__ = ["section_figures"]


def section_figures(
    fit,
    runs: pd.DataFrame,
    target: Target | None,
    *,
    interval: float,
    method: str,
    render: FigureRenderer,
    max_loss_figures: int = 3,
) -> Section:
    """Loss curves with the fitted law and extrapolation band, parity and residuals for one fit.

    Loss is drawn against D and C for runs with checkpoints (N and C otherwise), and
    against N too when there is a target, up to ``max_loss_figures``.
    """
    figs, ids = [], []
    multi = runs.groupby("run").size().max() > 1
    axes = [x for x in (("tokens", "flops") if multi else ("params", "flops")) if x in runs]
    if target is not None and "params" in runs and "params" not in axes:
        axes.append("params")
    for x in axes[:max_loss_figures]:
        fig = plot_loss(fit, runs, x=x, target=target, interval=interval, method=method)
        fid = f"fig-loss-{fit.law.name}-{x}"
        per_run = bool(fit.data.groupby("run").size().max() > 1)  # dashed law curves need >= 2 fitted checkpoints
        what = (
            "each run in its own colour (checkpoints joined; hollow = not used in the fit)"
            + (f", the fitted {fit.law.name} law dashed per run over its fitted checkpoints" if per_run else "")
            if multi
            else "each point a run, coloured by model size"
        )
        if target is not None:
            what += f"; the law's extrapolation to the target with its {interval:.0%} prediction band" + (
                " and the actual target (gold)"
                if target.actual is not None
                else " (the actual value there is not known)"
            )
        figs.append(render(fig, fid, f"Loss against {axis_name(x)}: {what}."))
        ids.append(fid)
    fig = plot_parity(fit, runs, target=target if target is not None and len(target.frame) else None)
    figs.append(
        render(
            fig,
            f"fig-parity-{fit.law.name}",
            "Predicted against observed loss; the grey band is "
            "±2 robust residual scales; gold stars are held-out target checkpoints.",
        )
    )
    ids.append(f"fig-parity-{fit.law.name}")
    fig = plot_residuals(fit)
    figs.append(
        render(
            fig,
            f"fig-residuals-{fit.law.name}",
            "Log residuals against each input with a running "
            "median: a trend means the law's shape is off along that input.",
        )
    )
    ids.append(f"fig-residuals-{fit.law.name}")
    return Section(f"figures-{fit.law.name}", f"Figures: {fit.law.name}", "".join(figs), figures=tuple(ids))


@register_section("figures", title="Figures", order=40, weight=lambda ctx: len(ctx.laws))
def _provide(ctx) -> list[Section]:
    sections = []
    for i, f in enumerate(ctx.fits):  # the main law against every axis; the others against one (see compare)
        ctx.step(f"figures for {f.law.name}")
        sections.append(
            section_figures(
                f,
                ctx.frame,
                ctx.target,
                interval=ctx.interval,
                method=ctx.method,
                render=ctx.render,
                max_loss_figures=3 if i == 0 else 1,
            )
        )
    return sections
