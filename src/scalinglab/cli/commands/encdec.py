"""``scalinglab encdec DATA``: the encoder/decoder split of Ghorbani et al. 2021 and the loss -> BLEU link."""

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


def _pair(text: str) -> tuple[float, float]:
    from scalinglab.errors import InvalidParameterError

    parts = text.split(",")
    try:
        ne, nd = (float(p) for p in parts)
    except ValueError:
        raise InvalidParameterError(
            f"--at expects NE,ND (two numbers); got {text!r}", hint="e.g. --at 3e8,5e8"
        ) from None
    if not (ne > 0 and nd > 0):
        raise InvalidParameterError(f"--at needs positive sizes; got {text!r}", hint="e.g. --at 3e8,5e8")
    return ne, nd


def register(app: typer.Typer) -> None:
    @app.command("encdec")
    def encdec_command(
        data: Path = typer.Argument(..., metavar="DATA", help="Runs: encoder_params, decoder_params, loss."),
        params: Optional[list[float]] = typer.Option(
            None, "--params", help="Parameter total(s) to split (repeatable; default: largest fitted and 10x)."
        ),
        at: Optional[list[str]] = typer.Option(None, "--at", help="Loss at NE,ND with its interval (repeatable)."),
        metric: Optional[str] = typer.Option(
            None, "--metric", help="Score column (e.g. bleu): fit the loss -> score link and check it for a stall."
        ),
        link: str = typer.Option("exponential", "--link", help="Second-step link: exponential or sigmoid."),
        interval: float = IntervalOption,
        n_resamples: int = n_resamples_option(200),
        maps: Optional[list[str]] = MapOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        figure: Optional[Path] = FigureOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Fit L = A Ne^-pe Nd^-pd + L_inf; best split N_e/N_d = pe/pd, pe + pd, loss anywhere, BLEU link."""
        from scalinglab.analyze.encdec import encdec
        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            check_level(interval)
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            if link not in ("exponential", "sigmoid"):
                raise InvalidParameterError(
                    f"--link must be exponential or sigmoid; got {link!r}", hint="--link exponential"
                )
            runs = load_runs_for_cli(data, maps, None, duplicates, file_format)
            at_frame = None
            if at:
                import pandas as pd

                pairs = [_pair(a) for a in at]
                at_frame = pd.DataFrame(pairs, columns=["encoder_params", "decoder_params"])
            result = encdec(
                runs,
                params=params or None,
                at=at_frame,
                metric=metric,
                link=link,
                interval=interval,
                n_resamples=n_resamples,
            )
            payload = result.to_dict()
            emit(payload, json_output, result.summary() + save_figure_of(result, figure, payload))
