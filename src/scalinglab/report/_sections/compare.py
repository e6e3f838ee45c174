"""Section "Laws compared": every law on one figure with its band along the path to the target."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from scalinglab.render import FigureRenderer, Section, Target, plot_compare, register_section
from scalinglab.report._context import axis_name

__all__ = ["section_compare"]


def section_compare(
    fits: Sequence, runs: pd.DataFrame, target: Target | None, *, interval: float, method: str, render: FigureRenderer
) -> Section:
    """All laws on one figure with their bands along the path to the target."""
    x = next(c for c in ("flops", "params", "tokens") if c in runs)
    fig = plot_compare(fits, runs, x=x, target=target, interval=interval, method=method)
    fid = "fig-compare"
    body = render(
        fig,
        fid,
        f"The {len(fits)} laws against {axis_name(x)}, each with its {interval:.0%} "
        "prediction band; legend: RMSE of log residuals and prediction at the target.",
    )
    return Section("compare", "Laws compared", body, figures=(fid,))


@register_section("compare", title="Laws compared", order=50, weight=lambda ctx: int(len(ctx.laws) > 1))
def _provide(ctx) -> Section | None:
    if len(ctx.laws) < 2:
        return None
    ctx.step("comparison figure")
    return section_compare(ctx.fits, ctx.frame, ctx.target, interval=ctx.interval, method=ctx.method, render=ctx.render)
