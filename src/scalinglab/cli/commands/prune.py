"""``scalinglab prune``: data pruning (Sorscher et al. 2022, "Beyond neural scaling laws").

``prune laws DATA``      does error fall faster than a power law in kept data size? (power, exponential,
                         broken laws compared by backtest and AICc; :func:`scalinglab.analyze.pruning`)
``prune scores EMB``     self-supervised prototype scores from embeddings and a class-balanced keep-mask
                         for your data loader (:func:`scalinglab.analyze.prototype_scores`)
``prune simulate``       the teacher-student perceptron's pruning table, to try ``prune laws`` on
                         (:func:`scalinglab.sweep.perceptron.simulate_pruning`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import (
    FIGURE_SUFFIXES,
    FigureOption,
    FormatOption,
    JsonOption,
    check_output,
    cli_errors,
    emit,
    save_figure_of,
)

__all__ = ["register"]


def _numbers(text: str, flag: str) -> list[float]:
    from scalinglab.errors import InvalidParameterError

    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidParameterError(
            f"{flag} must be comma-separated numbers; got {text!r}", hint=f"e.g. {flag} 1,2,4,8"
        ) from None
    if not values:
        raise InvalidParameterError(f"{flag} is empty", hint=f"e.g. {flag} 1,2,4,8")
    return values


def _fraction(value: float, flag: str = "--fraction") -> float:
    from scalinglab.errors import InvalidParameterError

    if not 0 < value <= 1:
        raise InvalidParameterError(
            f"{flag} (share of examples kept) must lie in (0, 1]; got {value:g}", hint=f"e.g. {flag} 0.7 keeps 70%"
        )
    return value


def register(app: typer.Typer) -> None:
    prune = typer.Typer(
        name="prune",
        no_args_is_help=True,
        help="Data pruning (Sorscher et al. 2022): does a metric beat power-law scaling; prototype keep-masks.",
    )

    @prune.command("laws")
    def laws_command(
        data: Path = typer.Argument(
            ...,
            metavar="DATA",
            help="Runs on pruned data (CSV/JSONL/Parquet): one row per run with its kept data size and test error.",
        ),
        x: str = typer.Option("kept", "--x", help="Column of the kept (pruned) data set size."),
        y: str = typer.Option("error", "--y", help="Column of the test error (> 0; fitted in log space)."),
        by: Optional[str] = typer.Option(
            None, "--by", help="Columns compared separately, comma-separated (e.g. metric or metric,keep)."
        ),
        law: Optional[list[str]] = typer.Option(
            None,
            "--law",
            "-l",
            help="Candidate law (repeatable; default power_law, power_floor, exp_decay, exp_floor, bnsl).",
        ),
        holdout: int = typer.Option(2, "--holdout", help="Largest kept sizes the backtest predicts."),
        file_format: Optional[str] = FormatOption,
        figure: Optional[Path] = FigureOption,
        json_output: bool = JsonOption,
    ) -> None:
        """Fit error vs kept data with power-law, exponential and broken laws; compare by backtest and AICc."""
        from scalinglab.analyze.pruning import pruning
        from scalinglab.data import read_runs
        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            if holdout < 1:
                raise InvalidParameterError(f"--holdout must be >= 1; got {holdout}", hint="e.g. --holdout 2")
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            runs = read_runs(data, format=file_format, required=())
            cols = [c.strip() for c in by.split(",") if c.strip()] if by else None
            result = pruning(runs, x=x, y=y, by=cols, laws=law or None, holdout=holdout)
            payload = result.to_dict()
            text = result.summary()
            text += save_figure_of(result, figure, payload)
            emit(payload, json_output, text)

    @prune.command("scores")
    def scores_command(
        embeddings: Path = typer.Argument(
            ..., metavar="EMB", help="Embeddings, one row per example: .npy (n x d), .csv or .parquet."
        ),
        out: Path = typer.Option(
            ..., "--out", "-o", help="Keep-mask to write: .npy (boolean, numpy.load it) or .csv (kept indices)."
        ),
        fraction: float = typer.Option(..., "--fraction", "-f", help="Share of examples kept, in (0, 1]."),
        keep: str = typer.Option("hard", "--keep", help="hard (far from prototypes; abundant data) or easy."),
        labels: Optional[Path] = typer.Option(
            None, "--labels", help="Class labels (.npy/.csv/.parquet): keep the same fraction of every class."
        ),
        k: Optional[int] = typer.Option(
            None, "--k", help="k-means clusters (default: number of classes with --labels, else 30)."
        ),
        seed: int = typer.Option(0, "--seed", help="k-means seed."),
        scores_out: Optional[Path] = typer.Option(
            None, "--scores-out", help="Also write every example's score and cluster here (.csv)."
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """Self-supervised prototype scores (k-means, cosine distance to the nearest centroid) and a keep-mask."""
        from scalinglab.analyze.pruning import prototype_scores, write_mask
        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            _fraction(fraction)
            if keep not in ("hard", "easy"):
                raise InvalidParameterError(f"--keep must be hard or easy; got {keep!r}", hint="e.g. --keep hard")
            if k is not None and k < 1:
                raise InvalidParameterError(f"--k must be >= 1; got {k}", hint="e.g. --k 30")
            check_output(out, (".npy", ".csv"))
            if scores_out is not None:
                check_output(scores_out, (".csv",))
            inputs = tuple(p for p in (embeddings, labels) if p is not None)
            for target in (out, scores_out):
                if target is not None and any(Path(target).resolve() == Path(p).resolve() for p in inputs):
                    raise InvalidParameterError(
                        f"{target} is an input file; inputs are never overwritten", hint="choose another --out"
                    )
            res = prototype_scores(embeddings, k=k, labels=labels, seed=seed)
            mask = res.keep_mask(fraction, keep=keep)
            write_mask(mask, out, protect=inputs, scores=res.scores)
            payload = {
                **res.to_dict(),
                "fraction": fraction,
                "keep": keep,
                "class_balanced": labels is not None,
                "kept": int(mask.sum()),
                "out": str(out),
            }
            if scores_out is not None:
                from scalinglab._io import write_atomic

                write_atomic(scores_out, res.to_frame().to_csv(index=False))
                payload["scores_out"] = str(scores_out)
            q = payload["score_quantiles"]
            text = (
                f"prototype scores: {payload['examples']} examples, d = {payload['dimensions']}, k = {res.k} "
                f"(seed {seed}); cosine distance to the nearest centroid: median {q['median']:.4g}, "
                f"range [{q['min']:.4g}, {q['max']:.4g}]\n"
                f"kept {payload['kept']} of {payload['examples']} ({keep} examples, fraction {fraction:g}"
                + (", the same fraction of every class" if labels is not None else ", no labels: not class-balanced")
                + f")\nmask written to {out}"
                + (f"\nscores written to {scores_out}" if scores_out is not None else "")
            )
            emit(payload, json_output, text)

    @prune.command("simulate")
    def simulate_command(
        out: Path = typer.Option(..., "--out", "-o", help="Runs table to write (.csv)."),
        n_dim: int = typer.Option(50, "--n-dim", help="Dimension N of the perceptron."),
        alpha_tot: str = typer.Option("1,2,4,8,16", "--alpha-tot", help="Pool sizes P_tot / N, comma-separated."),
        fractions: str = typer.Option("1,0.6,0.4,0.2,0.1", "--fractions", help="Kept shares f, comma-separated."),
        keep: str = typer.Option("hard,easy", "--keep", help="Keep rules: hard, easy, random (comma-separated)."),
        probe_angle: float = typer.Option(
            0.0, "--probe-angle", help="Degrees between the pruning probe and the teacher (0 = perfect)."
        ),
        trials: int = typer.Option(8, "--trials", help="Data sets per cell."),
        seed: int = typer.Option(0, "--seed", help="Random seed."),
        pareto: bool = typer.Option(False, "--pareto", help="Write only the best f per pool size (Pareto envelope)."),
        json_output: bool = JsonOption,
    ) -> None:
        """Teacher-student perceptron trained on pruned data: a runs table (kept, error) for ``prune laws``."""
        from scalinglab._io import write_atomic
        from scalinglab.errors import InvalidParameterError
        from scalinglab.sweep.perceptron import KEEP_RULES, pareto_envelope, simulate_pruning

        with cli_errors(json_output):
            check_output(out, (".csv",))
            for f in _numbers(fractions, "--fractions"):
                _fraction(f, "--fractions")
            rules = [r.strip() for r in keep.split(",") if r.strip()]
            bad = [r for r in rules if r not in KEEP_RULES]
            if bad or not rules:
                raise InvalidParameterError(
                    f"--keep: unknown rule(s) {bad or keep!r}; use {', '.join(KEEP_RULES)}",
                    hint="e.g. --keep hard,easy",
                )
            df = simulate_pruning(
                n_dim,
                _numbers(alpha_tot, "--alpha-tot"),
                _numbers(fractions, "--fractions"),
                keep=rules,
                probe_angle=probe_angle,
                trials=trials,
                seed=seed,
            )
            if pareto:
                df = pareto_envelope(df)
            write_atomic(out, df.to_csv(index=False))
            emit(
                {"rows": len(df), "out": str(out), "pareto": pareto},
                json_output,
                f"{len(df)} rows written to {out}; next: scalinglab prune laws {out} --by keep"
                + ("" if pareto else ",fraction"),
            )

    app.add_typer(prune, name="prune")
