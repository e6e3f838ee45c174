"""``scalinglab predict``: predictions (with intervals) from a saved fit."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from scalinglab.cli._common import IntervalOption, JsonOption, cli_errors, emit, parse_point, read_points


def register(app: typer.Typer) -> None:
    @app.command("predict")
    def predict_command(
        fit_path: Path = typer.Argument(..., metavar="FIT", help="A fit saved with `scalinglab fit -o FIT.json`."),
        at: Optional[list[str]] = typer.Option(None, "--at", help="A point: params=7e10,tokens=1.4e12 (repeatable)."),
        points: Optional[Path] = typer.Option(None, "--points", help="CSV of points, one column per input."),
        interval: float = IntervalOption,
        kind: str = typer.Option("mean", "--kind", help="mean (the law) or new (a new run, adds seed noise)."),
        method: str = typer.Option("delta", "--method", help="Interval method: delta (fast) or bootstrap (over runs)."),
        json_output: bool = JsonOption,
    ) -> None:
        """Predict the target at new points from a saved fit."""
        import pandas as pd

        from scalinglab.errors import InvalidParameterError
        from scalinglab.fit import load_fit

        with cli_errors(json_output):
            fitted = load_fit(fit_path)
            if points is not None:
                frame = read_points(points)
            elif at:
                frame = pd.DataFrame([parse_point(a) for a in at])
            else:
                raise InvalidParameterError(
                    "predict: no points given", hint="give --at params=7e10,tokens=1.4e12 or --points FILE.csv"
                )
            if at and points is not None:
                raise InvalidParameterError(
                    "predict: give --at or --points, not both", hint="put every point in the --points file"
                )
            level = interval if interval else None
            pred = fitted.predict(frame, interval=level, kind=kind, method=method)
            est = pred if level is None else pred["estimate"].to_numpy()
            import numpy as np

            if not np.all(np.isfinite(np.asarray(est, dtype=float))):
                raise InvalidParameterError(
                    "predict: the law gives no finite prediction at some points (the inputs overflow the law)",
                    hint="check the values of the points (units?)",
                )
            out = frame.copy()
            if level is None:
                out[fitted.target] = pred
            else:
                out[fitted.target] = pred["estimate"].to_numpy()
                out["lower"], out["upper"] = pred["lower"].to_numpy(), pred["upper"].to_numpy()
            label = (
                f"{int(level * 100)}% interval for the {'mean law' if kind == 'mean' else 'loss of a new run'} "
                f"({method})"
                if level
                else "no interval"
            )
            emit(
                {
                    "law": fitted.law.name,
                    "interval": level,
                    "kind": kind,
                    "method": method,
                    "predictions": out.to_dict(orient="records"),
                },
                json_output,
                f"{fitted.law.name}: {label}\n" + out.to_string(index=False, float_format=lambda v: f"{v:.6g}"),
            )
