"""Checkpoint selection rules used in the scaling-law literature.

* drop early checkpoints (``min_tokens``): the "first 10B tokens" rule of
  Choshen et al. 2024 (A Hitchhiker's Guide to Scaling Law Estimation);
* keep a window of each run's training (``window=(0.7, 1.0)`` = the last 30%);
* keep only the final checkpoint of each run (``final_only``), as in
  Hoffmann et al. 2022 approach 3.
"""

from __future__ import annotations

import pandas as pd

from scalinglab.data._runs import RunsTable, read_runs
from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["select_checkpoints"]


def select_checkpoints(
    runs: RunsTable | pd.DataFrame,
    *,
    min_tokens: float | None = None,
    window: tuple[float, float] | None = None,
    final_only: bool = False,
    runs_subset: list[str] | None = None,
) -> RunsTable:
    """Keep the checkpoints a fit should see; every rule applied is recorded in ``notes``.

    Parameters
    ----------
    runs : RunsTable or DataFrame
    min_tokens : float, optional
        Drop checkpoints with fewer tokens seen (e.g. ``1e10`` for the first-10B rule).
    window : (lo, hi), optional
        Keep checkpoints whose fraction of the run's training (tokens / the run's
        final tokens, or ``token_budget`` when that column exists) lies in ``[lo, hi]``.
    final_only : bool
        Keep only the last checkpoint of each run.
    runs_subset : list of str, optional
        Keep only these run ids.

    Returns
    -------
    RunsTable

    Raises
    ------
    DataError
        If nothing is left after selection.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"run": ["a"] * 4, "params": 1e6, "tokens": [1e8, 2e8, 3e8, 4e8],
    ...                    "loss": [4.0, 3.5, 3.3, 3.2]})
    >>> len(select_checkpoints(df, window=(0.7, 1.0)))
    2
    """
    table = read_runs(runs)
    frame = table.frame
    steps: list[str] = []
    if runs_subset is not None:
        frame = frame[frame["run"].isin([str(r) for r in runs_subset])]
        steps.append(f"runs restricted to {len(runs_subset)} id(s)")
    if min_tokens is not None:
        if "tokens" not in frame:
            raise DataError("min_tokens needs a 'tokens' column", column="tokens", kind="missing-column",
                            hint="map your token column with tokens='...'")
        if not min_tokens >= 0:
            raise InvalidParameterError(f"select_checkpoints(): 'min_tokens' must be >= 0; got {min_tokens!r}.")
        frame = frame[frame["tokens"] >= min_tokens]
        steps.append(f"checkpoints with tokens < {min_tokens:.3g} dropped")
    if window is not None:
        lo, hi = (float(w) for w in window)
        if not (0 <= lo <= hi <= 1):
            raise InvalidParameterError(
                f"select_checkpoints(): 'window' must satisfy 0 <= lo <= hi <= 1; got {window!r}.")
        frac = training_fraction(frame)
        frame = frame[(frac >= lo - 1e-12) & (frac <= hi + 1e-12)]
        steps.append(f"window {lo:.0%}-{hi:.0%} of each run's training kept")
    if final_only:
        order = "tokens" if "tokens" in frame else ("step" if "step" in frame else None)
        frame = frame.sort_values(["run", order]) if order else frame
        frame = frame.groupby("run", sort=False).tail(1)
        steps.append("final checkpoint of each run only")
    if frame.empty:
        raise DataError(
            "no checkpoints left after selection (" + "; ".join(steps) + ")", source=table.source,
            kind="empty-selection", hint="relax the selection: lower min_tokens or widen the window")
    note = "; ".join(steps) if steps else None
    return table.with_frame(frame, note)


def training_fraction(frame: pd.DataFrame) -> pd.Series:
    """Fraction of its run's training at each checkpoint (tokens / final tokens of the run)."""
    if "tokens" not in frame:
        raise DataError("selecting a window of training needs a 'tokens' column", column="tokens",
                        kind="missing-column", hint="map your token column with tokens='...'")
    if "token_budget" in frame:
        total = frame["token_budget"].astype(float)
    else:
        total = frame.groupby("run")["tokens"].transform("max")
    return (frame["tokens"] / total).clip(upper=1.0).astype(float)

