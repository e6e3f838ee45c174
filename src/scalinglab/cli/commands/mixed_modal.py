"""``scalinglab mixed-modal DATA --modalities code,text``: unimodal laws, the interaction law, the barrier.

Aghajanyan et al. 2023: each modality's Chinchilla law, then the bimodal law with
synergy and competition terms on the joint runs (a run bootstrap through both
stages), and the competition barrier N*(D) above which joint training wins.
"""

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
    @app.command("mixed-modal")
    def mixed_modal_command(
        data: str = typer.Argument(
            ...,
            metavar="DATA",
            help="Runs with params, tokens_<m> per modality (0 where unseen) and loss or loss_<m>; "
            "or a bundled dataset name such as tinylm-mixed.",
        ),
        modalities: Optional[str] = typer.Option(
            None,
            "--modalities",
            "-m",
            help="The two modalities, e.g. code,text (default: the two tokens_<m> columns).",
        ),
        unimodal_law: str = typer.Option(
            "chinchilla", "--unimodal-law", help="Unimodal law per modality: chinchilla or kaplan."
        ),
        comparison: str = typer.Option(
            "same-size",
            "--comparison",
            help="Barrier against unimodal models of the same size (same-size, the paper's) or of half "
            "the size each (same-total).",
        ),
        barrier_at: Optional[list[str]] = typer.Option(
            None, "--barrier-at", help="Also report the barrier at these total tokens (repeatable; 1e7 or 10M)."
        ),
        terms_at: Optional[list[str]] = typer.Option(
            None,
            "--terms",
            help="Synergy and competition terms at N,D_i,D_j (repeatable; e.g. 1e6,5e5,5e5 or 1M,512K,512K).",
        ),
        interval: float = IntervalOption,
        n_resamples: int = n_resamples_option(200),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        maps: Optional[list[str]] = MapOption,
        duplicates: str = DuplicatesOption,
        file_format: Optional[str] = FormatOption,
        figure: Optional[Path] = FigureOption,
        save: Optional[Path] = typer.Option(
            None, "--save", help="Write the result as JSON here (reload with scalinglab.analyze.load_mixed_modal)."
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """Unimodal laws per modality, the bimodal interaction law and the competition barrier, with intervals."""
        from scalinglab.analyze.mixed_modal import mixed_modal
        from scalinglab.errors import InvalidParameterError
        from scalinglab.sweep.config import parse_tokens

        with cli_errors(json_output):
            check_level(interval)
            check_output(figure, FIGURE_SUFFIXES, "--figure")
            check_output(save, (".json",), "--save")
            totals = []
            for text in barrier_at or []:
                try:
                    totals.append(float(parse_tokens(text, "--barrier-at")))
                except Exception as e:  # ConfigError: reword for this flag
                    raise InvalidParameterError(
                        f"--barrier-at: cannot read {text!r} as a token count", hint="e.g. --barrier-at 1e7 or 10M"
                    ) from e
            points = []
            for text in terms_at or []:
                parts = [p.strip() for p in text.split(",")]
                try:
                    if len(parts) != 3:
                        raise ValueError
                    points.append([float(parse_tokens(p, "--terms")) for p in parts])
                except Exception as e:  # ValueError or ConfigError: reword for this flag
                    raise InvalidParameterError(
                        f"--terms: cannot read {text!r} as N,D_i,D_j", hint="e.g. --terms 1e6,5e5,5e5"
                    ) from e
            runs = load_runs_for_cli(Path(data), maps, None, duplicates, file_format, required=())
            result = mixed_modal(
                runs,
                modalities,
                unimodal_law=unimodal_law,
                interval=interval,
                n_resamples=n_resamples,
                seed=seed,
                comparison=comparison,
            )
            payload = result.to_dict()
            text = result.summary()
            if totals:
                b = result.barrier(totals)
                payload["barrier_at"] = [
                    {k: (None if v != v else ("inf" if v == float("inf") else float(v))) for k, v in row.items()}
                    for row in b.to_dict(orient="records")
                ]
                text += "\n  barrier at the requested totals:\n" + "\n".join(
                    f"    D = {r.D_total:.4g}: N* = {r.N_barrier:.4g} [{r.lower:.4g}, {r.upper:.4g}] "
                    f"(finite in {r.p_exists:.0%} of draws)"
                    for r in b.itertuples()
                )
            if points:
                N, Di, Dj = zip(*points)
                t = result.terms(list(N), list(Di), list(Dj))
                payload["terms"] = [{k: float(v) for k, v in row.items()} for row in t.to_dict(orient="records")]
                text += "\n  interaction terms (synergy C, capacity A/N^alpha, data B/D^beta; net > 0: joint wins):\n"
                text += "\n".join(
                    f"    N={r.params:.4g} D_i={r.D_i:.4g} D_j={r.D_j:.4g}: synergy {r.synergy:.4g} "
                    f"[{r.synergy_lower:.4g}, {r.synergy_upper:.4g}], capacity {r.capacity:.4g} "
                    f"[{r.capacity_lower:.4g}, {r.capacity_upper:.4g}], data {r.data:.4g} "
                    f"[{r.data_lower:.4g}, {r.data_upper:.4g}], net {r.net:+.4g} [{r.net_lower:+.4g}, {r.net_upper:+.4g}]"
                    for r in t.itertuples()
                )
            text += save_figure_of(result, figure, payload)
            if save is not None:
                result.save(save)
                text += f"\nResult saved to {save}"
            emit(payload, json_output, text)
