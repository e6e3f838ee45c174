"""``scalinglab transfer SCRATCH [FINETUNED]``: effective data transferred (Hernandez et al. 2021)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FIGURE_SUFFIXES,
    DuplicatesOption,
    FormatOption,
    IntervalOption,
    JsonOption,
    MapOption,
    ReaderOption,
    check_level,
    check_output,
    cli_errors,
    emit,
    load_runs_for_cli,
    n_resamples_option,
    save_figure_of,
)


def register(app: typer.Typer) -> None:
    @app.command("transfer")
    def transfer_command(
        scratch: str = typer.Argument(
            ...,
            metavar="SCRATCH",
            help="From-scratch runs on the target data (or one transfer-sweep table with a "
            "'stage' column, or a bundled dataset name such as tinylm-transfer).",
        ),
        finetuned: Optional[str] = typer.Argument(
            None, metavar="[FINETUNED]", help="Fine-tuned runs: params, tokens (= D_F) and loss."
        ),
        law: str = typer.Option("kaplan", "--law", "-l", help="From-scratch law L(N, D): kaplan or chinchilla."),
        interval: float = IntervalOption,
        n_resamples: int = n_resamples_option(200),
        maps: Optional[list[str]] = MapOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        figure: Optional[Path] = typer.Option(
            None, "--figure", help="Save the three-panel figure here (.png/.svg/.pdf)."
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """D_E by inverting the from-scratch law, D_T = D_E - D_F, the fit D_T = k D_F^alpha N^beta, ossification."""
        import warnings

        from scalinglab.analyze.transfer import transfer

        with cli_errors(json_output):
            check_level(interval)
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            sc = load_runs_for_cli(Path(scratch), maps, None, duplicates, file_format, reader_options=reader_options)
            ft = (
                load_runs_for_cli(Path(finetuned), maps, None, duplicates, file_format, reader_options=reader_options)
                if finetuned
                else None
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the scratch fit's diagnostics are in the summary
                result = transfer(sc, ft, law=law, interval=interval, n_resamples=n_resamples)
            payload = result.to_dict()
            emit(payload, json_output, result.summary() + save_figure_of(result, figure, payload))
