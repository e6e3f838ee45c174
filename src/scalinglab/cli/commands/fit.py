"""``scalinglab fit``: fit a law to a runs table, print the summary, optionally save it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    EXIT_CHECK_FAILED,
    BorrowScaleOption,
    DuplicatesOption,
    FinalOnlyOption,
    FormatOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    ReaderOption,
    StrictOption,
    UnitOption,
    WindowOption,
    XOption,
    YOption,
    check_output,
    checkpoint_rule,
    cli_errors,
    emit,
    load_runs_for_cli,
    parse_groups,
    parse_pairs,
    parse_window,
    progress_line,
    target_column,
)
from scalinglab.errors import DataError

__all__ = ["register", "parse_x", "parse_window"]  # parse_window lives in cli._common; re-exported for plot/report


def parse_x(values: Optional[list[str]]):
    """``--x flops`` -> "flops"; ``--x N=params --x D=tokens`` -> mapping."""
    if not values:
        return None
    if len(values) == 1 and "=" not in values[0]:
        return values[0]
    return parse_pairs(values, "--x")


def register(app: typer.Typer) -> None:
    @app.command("fit")
    def fit_command(
        data: Path = typer.Argument(..., help="Runs table: CSV, JSON Lines or Parquet."),
        law: str = typer.Option("chinchilla", "--law", "-l", help="Law name (see `scalinglab laws`) or module:object."),
        x: Optional[list[str]] = XOption,
        y: str = YOption,
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = WindowOption,
        final_only: bool = FinalOnlyOption,
        loss: str = typer.Option("huber", "--loss", help="huber or squared."),
        delta: float = typer.Option(1e-3, "--delta", help="Huber threshold (log-loss units)."),
        space: str = typer.Option(
            "log", "--space", help="Residuals on log(y) (log) or on y (linear: accuracy and other bounded metrics)."
        ),
        fix: Optional[list[str]] = typer.Option(None, "--fix", help="Hold a parameter fixed: E=1.69 (repeatable)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Save the fit as JSON here."),
        by: Optional[str] = typer.Option(
            None, "--by", help="Fit each group of this column separately (e.g. family): one summary table."
        ),
        borrow_from: Optional[str] = typer.Option(
            None,
            "--borrow-from",
            metavar="GROUPS",
            help="With --by: a group whose own runs cannot set the size term (one model size, or A or alpha "
            "at a bound) borrows it from these groups' fits (comma-separated, or 'others').",
        ),
        borrow_when: str = typer.Option(
            "undetermined",
            "--borrow-when",
            help="With --borrow-from: undetermined (only such groups) | always (every group).",
        ),
        borrow_scale: str = BorrowScaleOption,
        strict: bool = StrictOption,
        decompose: bool = typer.Option(
            False,
            "--decompose",
            help="Irreducible (floor) and reducible loss at the fitted points, with intervals (laws with a floor).",
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """Fit a scaling law to runs and print the summary.

        The summary says which parameters the data cannot pin down; --strict makes that exit 1.
        """
        import warnings

        from scalinglab.fit import fit

        with cli_errors(json_output):
            if space not in ("log", "linear"):
                raise typer.BadParameter(f"--space must be log or linear; got {space!r}", param_hint="'--space'")
            check_output(output, (".json",))
            y = target_column(y, maps)
            try:
                runs = load_runs_for_cli(
                    data, maps, units, duplicates, file_format, required=(y,), reader_options=reader_options
                )
            except DataError as exc:
                if exc.kind == "missing-column" and exc.column == y:  # the target: the flag is --y
                    cols = str(exc).split("Fix:")[0].strip().split("(columns: ")[-1].rstrip(")")
                    raise DataError(
                        f"target column '{y}' is not in the table (columns: {cols})",
                        source=exc.source,
                        column=y,
                        kind="missing-column",
                        hint=f"choose the target with --y <column> (or --map {y}=<column>)",
                    ) from None
                raise
            runs = checkpoint_rule(min_tokens, window, final_only).apply(runs)
            with (
                warnings.catch_warnings(record=True) as caught,
                progress_line(f"fitting {law} to {len(runs)} rows...", json_output),
            ):
                warnings.simplefilter("always")  # diagnostics are printed with the summary
                result = fit(
                    runs,
                    law,
                    x=parse_x(x),
                    y=y,
                    loss=loss,
                    delta=delta,
                    space=space,
                    fixed=parse_pairs(fix, "--fix", numeric=True) or None,
                    by=by,
                    borrow_from=parse_groups(borrow_from),
                    borrow_when=borrow_when,
                    borrow_scale=borrow_scale,
                )
                summary = None if by is not None else result.summary()  # the run bootstrap: before any write
            pooled = [str(w.message) for w in caught if type(w.message).__name__ == "PooledFamiliesWarning"]
            if by is not None:  # a set of fits: one table; --output saves every fit in one JSON file
                payload = result.to_dict()
                if output is not None:  # one file; `scalinglab predict FILE --group NAME` reads it
                    result.save(output)
                    payload["saved_to"] = str(output)
                emit(payload, json_output, result.summary() + (f"\n\nSaved to {output}" if output else ""))
                if strict and not result.trusted:
                    if not json_output:
                        bad = list(result.warnings) + [g for g in result.failures if g not in result.warnings]
                        typer.echo(
                            f"--strict: {len(bad)} of {len(result.groups)} group fits cannot be trusted or failed "
                            f"({', '.join(bad)}; diagnostics above)",
                            err=True,
                        )
                    raise typer.Exit(EXIT_CHECK_FAILED)
                return
            payload = {k: v for k, v in result.to_dict().items() if k not in ("data", "cov", "start_objectives")}
            payload["summary"] = summary.as_dict()
            payload["trusted"] = summary.trusted
            if output is not None:  # written last: an interrupted command leaves no complete-looking file
                result.save(output)
                payload["saved_to"] = str(output)
            text = summary.as_text() + (f"\n\nSaved to {output}" if output else "")
            if pooled:
                payload["warnings_pooled"] = pooled
                text = f"warning: {pooled[0]}\n\n" + text
            if decompose:
                parts = result.decompose()
                payload["decomposition"] = parts.to_dict()
                text += "\n\n" + parts.summary()
            emit(payload, json_output, text)
        if strict and not summary.trusted:
            if not json_output:
                typer.echo(
                    f"--strict: the fit cannot be trusted ({len(summary.warnings)} diagnostic(s) above)", err=True
                )
            raise typer.Exit(EXIT_CHECK_FAILED)
