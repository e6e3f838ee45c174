"""``scalinglab plan FIT``: compute-optimal allocation, budget for a loss, inference-aware and over-trained runs,
the split of a parameter total among a law's parts."""

from __future__ import annotations

from typing import Optional

import typer

from scalinglab.cli._common import (
    IntervalOption,
    JsonOption,
    cli_errors,
    emit,
    hidden_alias,
    n_resamples_option,
    resolve_alias,
)


def _load_model(source: str):
    """A saved fit (path) or a published entry (``hoffmann2022`` or ``published:hoffmann2022``)."""
    from pathlib import Path

    from scalinglab.fit import load_fit
    from scalinglab.published import get as published_law

    key = source.split(":", 1)[1] if source.startswith("published:") else source
    if Path(source).exists() or not key.replace("_", "").isalnum():
        return load_fit(source)
    return published_law(key)


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan_command(
        ctx: typer.Context,
        fit_path: str = typer.Argument(
            ..., metavar="FIT", help="A saved fit (JSON) or a published key, e.g. hoffmann2022."
        ),
        flops: Optional[list[float]] = typer.Option(None, "--flops", help="Training budget(s) in FLOPs (repeatable)."),
        loss: Optional[float] = typer.Option(None, "--loss", help="Target loss: compute needed to reach it."),
        params_total: Optional[list[float]] = typer.Option(
            None,
            "--params",
            help="Total parameter budget(s) to split among a law's parts (e.g. encoder/decoder; repeatable).",
        ),
        reducible_loss: Optional[float] = typer.Option(
            None,
            "--reducible-loss",
            help="Target reducible loss (loss above the fit's floor): the N or C needed to reach it.",
        ),
        served_tokens: Optional[float] = typer.Option(
            None, "--served-tokens", help="Tokens served at inference (2N FLOPs each)."
        ),
        ratio: Optional[list[float]] = typer.Option(
            None, "--ratio", help="Over-train at these tokens/parameter (with --flops)."
        ),
        interval: float = IntervalOption,
        method: str = typer.Option("bootstrap", "--method", help="Interval method: bootstrap (over runs) or delta."),
        n_resamples: int = n_resamples_option(1000),
        json_output: bool = JsonOption,
        n_draws: Optional[int] = hidden_alias("--n-draws", "--n-resamples"),
    ) -> None:
        """Compute-optimal N*, D* and loss at --flops; the budget for --loss; --served-tokens / --ratio; --params split."""
        from scalinglab.errors import InvalidParameterError
        from scalinglab.plan import budget_for_loss, compute_optimal, inference_optimal, overtrain, split_params

        n_resamples = resolve_alias(ctx, "n_resamples", n_resamples, "--n-draws", n_draws)
        with cli_errors(json_output):
            model = _load_model(fit_path)
            opts = dict(interval=interval or None, method=method, n_resamples=n_resamples)  # plan API keyword today
            if reducible_loss is not None:
                from scalinglab.fit import Fit, needed_for_reducible

                if not isinstance(model, Fit):
                    raise InvalidParameterError(
                        "plan --reducible-loss needs a saved fit with a floor",
                        hint="scalinglab fit runs.csv --law power_floor -o fit.json",
                    )
                result = needed_for_reducible(
                    model, reducible_loss, interval=interval or 0.9, method=method, n_draws=min(n_resamples, 1000)
                )
            elif params_total:
                if flops or loss is not None or served_tokens is not None or ratio:
                    raise InvalidParameterError(
                        "plan: --params (split a parameter total) cannot be combined with --flops/--loss/"
                        "--served-tokens/--ratio",
                        hint="run one plan per question",
                    )
                result = split_params(model, params_total, **opts)
            elif served_tokens is not None:
                result = inference_optimal(model, served_tokens, flops=flops[0] if flops else None, loss=loss, **opts)
            elif ratio:
                if not flops:
                    raise InvalidParameterError("plan: --ratio needs --flops (the budget to over-train at)")
                result = overtrain(model, ratio, flops=flops[0], **opts)
            elif loss is not None:
                result = budget_for_loss(model, loss, **opts)
            elif flops:
                result = compute_optimal(model, flops, **opts)
            else:
                raise InvalidParameterError(
                    "plan: give --flops C (allocation), --loss L (budget for a loss) or --params B (split a "
                    "parameter total among a law's parts)"
                )
            emit(result.to_dict(), json_output, str(result.summary()))
