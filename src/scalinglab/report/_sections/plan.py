"""Section "Compute-optimal planning": the allocation with intervals, the frontier and isoFLOP valleys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalinglab.errors import ScalingLabError
from scalinglab.render import FigureRenderer, Section, final_rows, kv_html, note_html, register_section, table_html
from scalinglab.report._context import default_budgets, looks_isoflop, missing_section, skipped_section

__all__ = ["section_plan"]


def section_plan(fit, allocation, isoflop_result, runs: pd.DataFrame, *, render: FigureRenderer) -> Section:
    """Compute-optimal allocation with intervals and the frontier figure (plus isoFLOP valleys if available)."""
    from scalinglab.report._frontier import plot_frontier

    tab = allocation.table
    cols = [
        c
        for c in (
            "flops",
            "params",
            "params_lower",
            "params_upper",
            "tokens",
            "tokens_lower",
            "tokens_upper",
            "tokens_per_param",
            "loss",
            "loss_lower",
            "loss_upper",
        )
        if c in tab
    ]
    keys = {(i, "params"): f"plan-params:{i}" for i in range(len(tab))}
    s = allocation.summary()
    body = kv_html(list(s.header)) + table_html(
        tab[cols], keys=keys, caption="Compute-optimal N*, D* and loss per budget (lower/upper: interval)"
    )
    if allocation.warnings:
        body += "".join(note_html(w, "warning") for w in allocation.warnings)
    fig = plot_frontier(fit, allocation, runs=runs, isoflop=isoflop_result)
    fid = "fig-frontier"
    body += render(
        fig,
        fid,
        "Iso-loss contours of the fitted law in (N, D), iso-FLOP lines of the budgets, the "
        "compute-optimal allocation with its interval band"
        + (", and isoFLOP valleys with their minima (approach 2)." if isoflop_result is not None else "."),
    )
    if isoflop_result is not None:
        body += table_html(
            isoflop_result.estimates(), caption="IsoFLOP frontier exponents (approach 2): N* ∝ C^a, D* ∝ C^b"
        )
        body += "".join(note_html(w, "warning") for w in isoflop_result.warnings)
    return Section("plan", "Compute-optimal planning", body, figures=(fid,))


@register_section(
    "plan", title="Compute-optimal planning", order=80, weight=lambda ctx: int(bool(ctx.options.get("plan", True)))
)
def _provide(ctx) -> Section:
    if not ctx.options.get("plan", True):
        return skipped_section("plan", "Compute-optimal planning", "plan=False / --no-plan")
    ctx.step("compute-optimal planning")
    if not ctx.have("scalinglab.plan"):
        return missing_section("plan", "Compute-optimal planning", "scalinglab.plan", "compute-optimal planning")
    from scalinglab.plan import compute_optimal, isoflop

    fit = ctx.fits[0]
    if not {"params", "tokens"} <= set(fit.columns.values()):
        return Section(
            "plan",
            "Compute-optimal planning",
            "",
            status="error",
            note=f"Left out: law '{fit.law.name}' is not a function of both N (params) and D (tokens), so "
            "it cannot split compute between them; put a two-input law such as chinchilla first.",
        )
    flops = ctx.options.get("flops")
    if flops is None:
        flops = default_budgets(ctx.fit_table.frame, ctx.target)
    try:
        allocation = compute_optimal(fit, np.asarray(flops, dtype=float), interval=ctx.interval, method=ctx.method)
    except ScalingLabError as exc:
        return Section(
            "plan",
            "Compute-optimal planning",
            "",
            status="error",
            note=f"Left out: compute_optimal failed ({str(exc).splitlines()[0]}).",
        )
    iso, points = None, final_rows(ctx.frame)
    if looks_isoflop(points):
        try:
            iso = isoflop(points, estimator="parabola", interval=ctx.interval, n_boot=200)
        except ScalingLabError:
            iso = None
    ctx.results["allocation"], ctx.results["isoflop"] = allocation, iso
    return section_plan(fit, allocation, iso, ctx.frame, render=ctx.render)
