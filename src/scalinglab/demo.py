"""The demo: fit the bundled tiny-LM ladder and predict its largest model before "training" it.

Protocol (Hoffmann et al. 2022, approach 3): the final checkpoint of every run
except those of the largest model size is fitted with the Chinchilla law; the
largest model's final loss is then predicted, with a 90% interval for a new run,
and compared with the loss it actually reached.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalinglab.data import RunsTable, read_runs, select_checkpoints
from scalinglab.fit import Fit, fit

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    """The demo's fit and its prediction for the held-out largest model."""

    fit: Fit
    runs: RunsTable
    target: pd.DataFrame  # one row per held-out run: params, tokens, actual, predicted, lower, upper, rel_error

    def to_dict(self) -> dict:
        summary = self.fit.summary()
        return {
            "fit": {k: v for k, v in self.fit.to_dict().items() if k not in ("data", "cov", "start_objectives")},
            "trusted": summary.trusted,
            "warnings": summary.warnings,
            "explanation": self.explanation(summary),
            "target": self.target.to_dict(orient="records"),
            "mean_abs_rel_error": float(self.target["rel_error"].abs().mean()),
        }

    def explanation(self, summary=None) -> str:
        """Plain words on what this fit can and cannot tell, from its diagnostics ('' when it can be trusted)."""
        summary = summary or self.fit.summary()
        if summary.trusted:
            return ""
        f = self.fit
        n = f.data[f.columns["N"]] if "N" in f.columns else None
        span = f" over {np.log10(n.max() / n.min()):.1f} decades of model size" if n is not None else ""
        floor = next((d for d in f.diagnostics if d.kind == "at-bound" and "E" in d.params), None)
        weak = [r["param"] for r in summary.table if "NOT IDENTIFIED" in r["note"]]
        parts = []
        if floor is not None:
            parts.append(
                f"The floor E is not identifiable from this ladder: its {f.data['run'].nunique()} runs{span} "
                "are all far above any floor, so the fit puts E on its bound and lets the other terms absorb it."
            )
        if weak:
            parts.append(
                f"{', '.join(weak)} cannot be pinned down separately (see NOT IDENTIFIED above): read the "
                "law as a whole, not its parameters one by one."
            )
        parts.append(
            "What this ladder does support is the prediction below, checked against the held-out largest "
            "model; use `scalinglab fit --strict` to refuse such fits in scripts."
        )
        return " ".join(parts)

    def as_text(self) -> str:
        summary = self.fit.summary()
        why = self.explanation(summary)
        lines = (
            [summary.as_text(), ""]
            + ([f"What this fit can tell: {why}", ""] if why else [])
            + [
                "Prediction for the held-out largest model (final checkpoint; calibrated 90% interval for a new run: "
                "run bootstrap widened by the extrapolation error measured on the smaller sizes):"
            ]
        )
        for row in self.target.itertuples():
            inside = "inside" if row.lower <= row.actual <= row.upper else "OUTSIDE"
            lines.append(
                f"  {row.run}: N={row.params:.3g} D={row.tokens:.3g}  predicted {row.predicted:.4f} "
                f"[{row.lower:.4f}, {row.upper:.4f}]  actual {row.actual:.4f}  "
                f"error {row.rel_error:+.2%} ({inside} the interval)"
            )
        return "\n".join(lines)


def run_demo(data: pd.DataFrame | None = None, *, law: str = "chinchilla") -> DemoResult:
    """Fit all but the largest model of a ladder and score the prediction for the largest.

    Parameters
    ----------
    data : DataFrame, optional
        A runs table with checkpoints; defaults to the bundled ``tinylm`` ladder.
    law : str
        Law to fit (inputs params and tokens).

    Examples
    --------
    ``print(run_demo().as_text())`` fits the bundled ladder and prints the fit and the
    prediction (about half a minute: the calibrated interval runs nested backtests).
    """
    if data is None:
        from scalinglab.datasets import load

        data = load("tinylm")
    runs = read_runs(data)
    finals = select_checkpoints(runs, final_only=True)
    frame = finals.frame
    largest = frame["params"].max()
    train = finals.with_frame(frame[frame["params"] < largest], "largest model size held out")
    held = frame[frame["params"] == largest]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = fit(train, law)
        pred = fitted.predict(held, interval=0.9, kind="new", method="calibrated")
    target = pd.DataFrame(
        {
            "run": held["run"].to_numpy(),
            "params": held["params"].to_numpy(),
            "tokens": held["tokens"].to_numpy(),
            "actual": held["loss"].to_numpy(),
            "predicted": pred["estimate"].to_numpy(),
            "lower": pred["lower"].to_numpy(),
            "upper": pred["upper"].to_numpy(),
        }
    )
    target["rel_error"] = (target["predicted"] - target["actual"]) / target["actual"]
    return DemoResult(fit=fitted, runs=runs, target=target)
