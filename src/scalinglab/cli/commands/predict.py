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
        group: Optional[str] = typer.Option(
            None, "--group", help="With a set of fits (`scalinglab fit DATA --by COLUMN -o FITS.json`): which group."
        ),
        json_output: bool = JsonOption,
    ) -> None:
        """Predict the target at new points from a saved fit (or one group of a saved set of fits)."""
        import pandas as pd

        from scalinglab.errors import InvalidParameterError

        with cli_errors(json_output):
            fitted, fitset = _load(fit_path, group)
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
            if fitset is not None:
                pred = fitset.predict(group, frame, interval=level, kind=kind, method=method)
            else:
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
            if level is not None and "lender_sd" in pred:
                out["lender_sd"] = pred["lender_sd"].to_numpy()
            emit(
                {
                    "law": fitted.law.name,
                    "group": group,
                    "interval": level,
                    "kind": kind,
                    "method": method,
                    "predictions": out.to_dict(orient="records"),
                },
                json_output,
                f"{fitted.law.name}{f' ({group})' if group is not None else ''}: {label}"
                + (" with the lending families' disagreement" if "lender_sd" in out else "")
                + "\n"
                + out.to_string(index=False, float_format=lambda v: f"{v:.6g}"),
            )


def _load(path: Path, group: Optional[str]):
    """``(Fit, FitSet or None)``: a saved fit, or the ``group`` of a saved set of fits (the file read once)."""
    import json

    from scalinglab.errors import InvalidParameterError
    from scalinglab.fit import Fit, FitSet, load_fit
    from scalinglab.fit._result import is_fit_set

    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return load_fit(path), None  # it says what is wrong with the file
    if not is_fit_set(payload):
        if group is not None:
            raise InvalidParameterError(
                f"predict: --group {group} needs a set of fits; {path} holds one fit",
                hint="drop --group, or save a set with scalinglab fit DATA --by COLUMN -o FITS.json",
            )
        return Fit.from_dict(payload, source=str(path)), None
    fitset = FitSet.from_dict(payload, source=str(path))
    if group is None or group not in fitset.fits:
        known = ", ".join(map(str, fitset.fits))
        why = (
            f"--group {group} is not a fitted group of it"
            + (f" (its fit failed: {fitset.failures[group]})" if group in fitset.failures else "")
            if group is not None
            else "pick one with --group"
        )
        raise InvalidParameterError(
            f"predict: {path} holds fits of {len(fitset.fits)} groups; {why}", hint=f"groups: {known}"
        )
    return fitset[group], fitset
