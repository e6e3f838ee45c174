"""``scalinglab multilingual DATA``: effective parameters of multilingual mixtures (Fernandes et al. 2023)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FIGURE_SUFFIXES,
    DuplicatesOption,
    FigureOption,
    FormatOption,
    IntervalOption,
    JsonOption,
    MapOption,
    check_level,
    check_output,
    cli_errors,
    emit,
    load_runs_for_cli,
    n_resamples_option,
    save_figure_of,
)


def register(app: typer.Typer) -> None:
    @app.command("multilingual")
    def multilingual_command(
        data: Path = typer.Argument(
            ..., metavar="DATA", help="Runs: one row per (model, pair): pair, mixture_weight, params, loss, run."
        ),
        form: str = typer.Option(
            "power", "--form", help="Effective-fraction form f(w): power (w^gamma), hyperbolic or proportional."
        ),
        exponent: str = typer.Option(
            "pair", "--exponent", help="pair: one exponent per pair (shared by its mixtures); shared: one for all."
        ),
        pair: str = typer.Option("pair", "--pair", help="Column naming the language pair."),
        weight: str = typer.Option("mixture_weight", "--weight", help="Column of the pair's mixture weight (0, 1]."),
        y: str = typer.Option("loss", "--y", help="Loss column."),
        weights: Optional[list[float]] = typer.Option(
            None, "--at-weight", help="Report f(w) and f(w) N at these weights (repeatable)."
        ),
        params: Optional[float] = typer.Option(None, "--params", help="N for the effective parameters."),
        predict: Optional[list[str]] = typer.Option(
            None, "--predict", help="Loss of PAIR at weight W and size N: PAIR,W,N (repeatable)."
        ),
        no_test: bool = typer.Option(False, "--no-test", help="Skip the shared-exponent test."),
        n_null: int = typer.Option(99, "--n-null", help="Null data sets calibrating the test."),
        interval: float = IntervalOption,
        n_resamples: int = n_resamples_option(200),
        maps: Optional[list[str]] = MapOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        figure: Optional[Path] = FigureOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Joint fit L_i = beta_i (f_i(w) N)^-alpha_i + L_inf,i; effective parameters; does w change only the factor?"""
        from scalinglab.analyze.multilingual import multilingual
        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            check_level(interval)
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            if n_null < 9:
                raise InvalidParameterError(f"--n-null must be >= 9, got {n_null}", hint="e.g. --n-null 99")
            requests = []
            for text in predict or []:
                parts = text.split(",")
                try:
                    requests.append((parts[0], float(parts[1]), float(parts[2])))
                except (IndexError, ValueError):
                    raise InvalidParameterError(
                        f"--predict expects PAIR,W,N; got {text!r}", hint="e.g. --predict en-de,0.25,1e9"
                    ) from None
            runs = load_runs_for_cli(data, maps, None, duplicates, file_format, required=())
            result = multilingual(
                runs,
                form=form,
                exponent=exponent,
                pair=pair,
                weight=weight,
                y=y,
                weights=weights or None,
                params=params,
                test=not no_test,
                n_null=n_null,
                interval=interval,
                n_resamples=n_resamples,
            )
            payload = result.to_dict()
            text = result.summary()
            if requests:
                import pandas as pd

                table = pd.concat([result.predict(p, w, n) for p, w, n in requests], ignore_index=True)
                payload["predictions"] = [
                    {k: (v if isinstance(v, str) else float(v)) for k, v in r.items()} for r in table.to_dict("records")
                ]
                text += "\n\nPredictions:\n" + table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
            text += save_figure_of(result, figure, payload)
            emit(payload, json_output, text)
