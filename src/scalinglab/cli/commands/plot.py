"""``scalinglab plot KIND DATA --law LAW -o fig.svg``: one figure as PNG, SVG or PDF (thin layer over make_figure)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    DuplicatesOption,
    FinalOnlyOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    ReaderOption,
    UnitOption,
    WindowOption,
    YOption,
    check_output,
    cli_errors,
    emit,
    load_runs_for_cli,
    parse_groups,
)


def register(app: typer.Typer) -> None:
    @app.command("plot")
    def plot_command(
        kind: str = typer.Argument(
            ...,
            help="loss, compare, parity, residuals, frontier, backtest or "
            "backtest-grid (track-B heatmap; --group picks one group of --by).",
        ),
        data: Path = typer.Argument(..., help="Runs table: CSV, JSON Lines or Parquet."),
        law: Optional[list[str]] = typer.Option(None, "--law", "-l", help="Law to fit (repeatable for compare)."),
        output: Path = typer.Option(..., "--output", "-o", help="Figure file: .png, .svg or .pdf."),
        axis: Optional[str] = typer.Option(
            None, "--axis", "-a", help="x axis: tokens, params or flops (backtest: fraction or scale)."
        ),
        target: Optional[str] = typer.Option(
            None, "--target", "-t", help="'largest', a run id (held out), or params=..,tokens=.."
        ),
        fit_file: Optional[list[Path]] = typer.Option(
            None, "--fit", help="Use a saved fit (scalinglab fit -o) instead of fitting (repeatable)."
        ),
        x: Optional[list[str]] = typer.Option(None, "--x", help="Law input column(s): 'flops' or N=params."),
        y: str = YOption,
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        reader_options: Optional[list[str]] = ReaderOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        interval: float = typer.Option(0.9, "--interval", help="Band level, e.g. 0.9."),
        method: str = typer.Option("delta", "--method", help="Band: delta or bootstrap."),
        by: str = typer.Option("family", "--by", help="backtest-grid: column of the groups."),
        group: Optional[str] = typer.Option(None, "--group", help="backtest-grid: one group (default: the mean)."),
        borrow_from: Optional[str] = typer.Option(
            None,
            "--borrow-from",
            metavar="GROUPS",
            help="backtest-grid: borrow the size term from these groups (comma-separated, or 'others') "
            "where a cell's own fit cannot set it (--borrow-when undetermined, as in backtest).",
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """Draw one figure (loss curves, parity, residuals, comparison, frontier, backtest) to PNG, SVG or PDF."""
        from scalinglab.cli.commands.fit import parse_window, parse_x
        from scalinglab.cli.commands.report import parse_target
        from scalinglab.fit import load_fit
        from scalinglab.report import make_figure, save_figure

        with cli_errors(json_output):
            check_output(output, (".png", ".svg", ".pdf"))
            runs = load_runs_for_cli(data, maps, units, duplicates, reader_options=reader_options)
            fits = [load_fit(p) for p in fit_file] if fit_file else None
            if kind == "backtest-grid":  # track B of the Hitchhiker's Guide (scalinglab.evaluate.backtest_grid)
                from scalinglab.evaluate import backtest_grid, plot_backtest_grid

                borrow = {}
                if borrow_from is not None:
                    borrow = {"borrow_from": parse_groups(borrow_from), "borrow_when": "undetermined"}
                grid = backtest_grid(runs, (law or ["chinchilla"])[0], interval=None, by=by, y=y, **borrow)
                path = save_figure(plot_backtest_grid(grid, group=group), output)
                emit(
                    {"kind": kind, "output": str(path), "bytes": path.stat().st_size},
                    json_output,
                    f"wrote {path} ({kind})",
                )
                return
            fig = make_figure(
                kind,
                runs,
                list(law or ["chinchilla"]),
                target=parse_target(target),
                x=axis,
                inputs=parse_x(x),
                y=y,
                min_tokens=min_tokens,
                window=parse_window(window),
                final_only=final_only,
                interval=interval,
                method=method,
                fits=fits,
            )
            path = save_figure(fig, output)
            emit(
                {"kind": kind, "output": str(path), "bytes": path.stat().st_size}, json_output, f"wrote {path} ({kind})"
            )
