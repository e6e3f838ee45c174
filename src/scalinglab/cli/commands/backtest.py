"""``scalinglab backtest DATA --law LAW``: hold out the largest models, predict them, score the extrapolation."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    BorrowScaleOption,
    DuplicatesOption,
    FinalOnlyOption,
    FormatOption,
    IntervalOption,
    JsonOption,
    MapOption,
    MinTokensOption,
    NResamplesOption,
    ReaderOption,
    UnitOption,
    YOption,
    cli_errors,
    deprecated_flag,
    emit,
    hidden_alias,
    load_runs_for_cli,
    parse_groups,
    parse_window,
    progress_line,
    resolve_alias,
)

_METHODS = "delta | bootstrap | calibrated | auto (= calibrated: bootstrap widened by measured extrapolation error)"


def _fit_window(window: Optional[str], fraction: Optional[float], skip_fraction: Optional[float]):
    """``--window``, or the window the deprecated ``--skip-fraction``/``--fraction`` spell (one stderr line)."""
    if fraction is None and skip_fraction is None:
        return parse_window(window)
    if window is not None:
        raise typer.BadParameter(
            "give --window or the deprecated --fraction/--skip-fraction, not both", param_hint="'--window'"
        )
    lo = 0.2 if skip_fraction is None else skip_fraction  # the default policy's cut, as before
    hi = 1.0 if fraction is None else fraction
    given = [flag for flag, v in (("--skip-fraction", skip_fraction), ("--fraction", fraction)) if v is not None]
    deprecated_flag(" and ".join(given), f"--window {lo:g},{hi:g}")
    return lo, hi


def register(app: typer.Typer) -> None:
    @app.command("backtest")
    def backtest_command(
        ctx: typer.Context,
        data: Path = typer.Argument(
            ..., metavar="DATA", help="Runs table (CSV/JSONL/Parquet): run, params, tokens, loss."
        ),
        law: Optional[list[str]] = typer.Option(None, "--law", help="Law to backtest (repeatable: a leaderboard)."),
        maps: Optional[list[str]] = MapOption,
        units: Optional[list[str]] = UnitOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        reader_options: Optional[list[str]] = ReaderOption,
        y: str = YOption,
        holdout: str = typer.Option("largest", "--holdout", help="largest | largest:K | compute>C (FLOPs)."),
        fit_models: str = typer.Option(
            "all", "--fit-models", help="all | smallest:K | window:K (sizes below the held-out)."
        ),
        min_tokens: Optional[float] = MinTokensOption,
        window: Optional[str] = typer.Option(
            None,
            "--window",
            metavar="LO,HI",
            help="Fit checkpoints within this fraction of each run's training; "
            "default 0.2,1 (the first 20% dropped), 0,1 keeps all.",
        ),
        final_only: bool = FinalOnlyOption,
        target: str = typer.Option("last30", "--target", help="last30 | last:F | final."),
        interval: float = IntervalOption,
        method: str = typer.Option("auto", "--method", help=f"Interval method: {_METHODS}."),
        n_resamples: int = NResamplesOption,
        by: Optional[str] = typer.Option(
            None,
            "--by",
            help="Score each group of this column (e.g. family, "
            "scaled_set) separately; a group that cannot be scored is listed as failed.",
        ),
        borrow_from: Optional[str] = typer.Option(
            None,
            "--borrow-from",
            metavar="GROUPS",
            help="Single-model transfer: hold the size parameters at the median "
            "of fits on these groups (comma-separated, or 'others'); "
            "use with --fit-models window:1.",
        ),
        borrow_scale: str = BorrowScaleOption,
        borrow_when: str = typer.Option(
            "always",
            "--borrow-when",
            help="With --borrow-from: always (single-model transfer) | undetermined (only groups whose "
            "own fit could not set the size term: one model size, or A or alpha at a bound).",
        ),
        seeds: str = typer.Option(
            "separate", "--seeds", help="With a seed column: separate | mean (average replicate fit runs)."
        ),
        json_output: bool = JsonOption,
        fraction: Optional[float] = hidden_alias("--fraction", "--window LO,HI"),
        skip_fraction: Optional[float] = hidden_alias("--skip-fraction", "--window LO,HI"),
        interval_method: Optional[str] = hidden_alias("--interval-method", "--method"),
    ) -> None:
        """Backtest one or more laws: fit the smaller models, score predictions of the held-out ones.

        Coverage is scored for the --interval prediction interval (0 for none).
        """
        from scalinglab.evaluate import Policy, backtest

        method = resolve_alias(ctx, "method", method, "--interval-method", interval_method)
        with cli_errors(json_output):
            runs = load_runs_for_cli(data, maps, units, duplicates, file_format, reader_options=reader_options)
            policy = Policy.from_options(
                holdout,
                fit_models,
                target,
                min_tokens=min_tokens,
                window=_fit_window(window, fraction, skip_fraction),
                final_only=final_only,
            )
            bf = parse_groups(borrow_from)
            with progress_line(f"backtesting {', '.join(law or ['chinchilla'])}", json_output) as progress:
                bt = backtest(
                    runs,
                    law or ["chinchilla"],
                    policy,
                    y=y,
                    interval=interval or None,
                    method=method,
                    n_resamples=n_resamples,
                    by=by or "family",
                    borrow_from=bf,
                    borrow_scale=borrow_scale,
                    borrow_when=borrow_when,
                    seeds=seeds,
                    progress=progress,
                )
            failed = bt.scores["error"].notna() if "error" in bt.scores else None
            if failed is not None and failed.all():
                from scalinglab.errors import FitError

                if not json_output:
                    emit({}, False, bt.summary())
                first = str(bt.scores["error"].dropna().iloc[0])
                raise FitError(
                    f"backtest: every fit failed ({int(failed.sum())} of {len(failed)}); the first: {first}",
                    hint="check the data and the policy (--holdout, --fit-models, --window)",
                )
            emit(bt.to_dict(), json_output, bt.summary())
            if not json_output:
                _warn_untrusted(bt, by or "family")
            if failed is not None and failed.any() and not json_output:
                typer.echo(f"warning: {int(failed.sum())} of {len(failed)} fits failed (FAILED rows above)", err=True)


#: Diagnostics after which a backtest's fit "cannot be trusted" (its parameters are not the data's).
_UNTRUSTED = ("constant-target", "not-identified", "zero-width-interval", "singular-curvature")


def _warn_untrusted(bt, by: str) -> None:
    """One warning per fit whose parameters the data do not set; one line for all of them when there are
    more than three (a pooled table of many groups)."""
    bad = []
    for key, f in bt.fits.items():
        fam, name = key[0], key[1]
        msgs = [d.message for d in getattr(f, "diagnostics", ()) if d.kind in _UNTRUSTED]
        if msgs:
            bad.append((fam, name, msgs))
    if len(bad) <= 3:
        for fam, name, msgs in bad:
            typer.echo(
                f"warning: the fit of {name} on {fam or '(all)'} cannot be trusted: {msgs[0]}"
                + (f" (and {len(msgs) - 1} more)" if len(msgs) > 1 else ""),
                err=True,
            )
        return
    fam, name, msgs = bad[0]
    first = msgs[0].rstrip() if msgs[0].rstrip().endswith(".") else msgs[0].rstrip() + "."
    groups = ", ".join(dict.fromkeys(str(b[0]) or "(all)" for b in bad))
    typer.echo(
        f"warning: {len(bad)} of {len(bt.fits)} fits cannot be trusted (a parameter the data do not set, or a "
        f"flat direction): {groups}. The first, {name} on {fam}: {first} "
        f"Fix: read each group's diagnostics with `scalinglab fit DATA --by {by}`.",
        err=True,
    )
