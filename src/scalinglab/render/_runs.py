"""Data plumbing shared by the figures and the report: runs frames, the extrapolation target, law paths."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalinglab.errors import DataError, InvalidParameterError

__all__ = ["Target", "as_frame", "resolve_target", "fitted_mask", "law_path", "flops_per_nd", "final_rows", "AXES"]

#: The x axes the loss figures support.
AXES = ("params", "tokens", "flops")


def as_frame(runs: Any) -> pd.DataFrame:
    """The runs-table DataFrame of a RunsTable, DataFrame or path (validated by :func:`read_runs`)."""
    from scalinglab.data import RunsTable, read_runs

    if isinstance(runs, RunsTable):
        return runs.frame
    return read_runs(runs, required=()).frame


def flops_per_nd(frame: pd.DataFrame) -> float:
    """Median ``flops / (params * tokens)`` of the data (6 when it cannot be measured): C = k N D."""
    if {"params", "tokens", "flops"} <= set(frame):
        k = (frame["flops"] / (frame["params"] * frame["tokens"])).to_numpy(dtype=float)
        k = k[np.isfinite(k) & (k > 0)]
        if k.size:
            return float(np.median(k))
    return 6.0


def final_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The last checkpoint of every run."""
    order = [c for c in ("tokens", "step") if c in frame][:1]
    f = frame.sort_values(["run"] + order, kind="stable") if order else frame
    return f.groupby("run", sort=False).tail(1)


@dataclass(frozen=True)
class Target:
    """The point a law is extrapolated to, and what was actually observed there (if known).

    Attributes
    ----------
    point : dict
        ``params``, ``tokens``, ``flops`` of the target (all three, derived with C = k N D).
    label : str
        How the target is named in figures and the report.
    actual : float or None
        Observed target value (final checkpoint of the held-out run), when known.
    runs : tuple of str
        Held-out run ids (their checkpoints are drawn as the actual target curve).
    frame : DataFrame
        The held-out rows (empty when the target is only a point).
    """

    point: dict[str, float]
    label: str
    actual: float | None = None
    runs: tuple[str, ...] = ()
    frame: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"point": dict(self.point), "label": self.label, "actual": self.actual, "runs": list(self.runs)}


def resolve_target(target: Any, frame: pd.DataFrame, *, y: str = "loss") -> Target | None:
    """Turn ``target`` into a :class:`Target`.

    ``target`` may be ``None``; a :class:`Target`; ``"largest"`` (the runs with the
    largest ``params`` are held out; when they have several token budgets the target
    point is the longest one's final checkpoint); a run id present in ``frame``; or a
    mapping of inputs such as
    ``{"params": 7e10, "tokens": 1.4e12}`` (with an optional observed ``loss``).
    Missing inputs follow from C = k N D, with k measured on the data (6 by default).

    Examples
    --------
    >>> import pandas as pd
    >>> t = resolve_target({"params": 7e10, "tokens": 1.4e12}, pd.DataFrame({"run": ["a"], "params": [1e9]}))
    >>> t.point["flops"], t.actual
    (5.88e+23, None)
    """
    if target is None or isinstance(target, Target):
        return target
    k = flops_per_nd(frame)
    if isinstance(target, str):
        if target == "largest":
            if "params" not in frame:
                raise DataError(
                    "target='largest' needs a 'params' column",
                    column="params",
                    kind="missing-column",
                    hint="name the target run instead, or give a point such as params=...,tokens=...",
                )
            ids = tuple(sorted(frame.loc[frame["params"] == frame["params"].max(), "run"].astype(str).unique()))
        elif target in set(frame["run"].astype(str)):
            ids = (target,)
        else:
            runs = sorted(frame["run"].astype(str).unique())
            raise InvalidParameterError(
                f"target {target!r} is neither 'largest' nor a run id of the data (runs: {runs[:8]}"
                f"{' ...' if len(runs) > 8 else ''}); give a run id, 'largest', or a point like "
                "params=7e10,tokens=1.4e12"
            )
        rows = frame[frame["run"].astype(str).isin(ids)]
        last = final_rows(rows)
        if "tokens" in last and last["tokens"].nunique() > 1:
            # several budgets at this size: the target is the longest run (its seeds); the others stay held out
            last = last[np.isclose(last["tokens"], last["tokens"].max(), rtol=1e-9)]
        point = {c: float(last[c].mean()) for c in AXES if c in last}
        actual = float(last[y].mean()) if y in last else None
        n_final = len(last)
        label = (
            ids[0]
            if len(ids) == 1
            else (
                f"largest size ({len(ids)} runs)"
                if n_final == len(ids)
                else f"largest size, longest run ({n_final} of {len(ids)} runs)"
            )
        )
        return Target(
            point=_complete(point, k),
            label=f"target: {label}",
            actual=actual,
            runs=ids,
            frame=rows.reset_index(drop=True),
        )
    if isinstance(target, Mapping):
        point = {str(c): float(v) for c, v in target.items()}
        actual = point.pop(y, None)
        unknown = set(point) - set(AXES)
        if unknown:
            raise InvalidParameterError(f"target: unknown input(s) {sorted(unknown)}; use params=, tokens=, flops=")
        if not point:
            raise InvalidParameterError(
                "target needs inputs, e.g. params=7e10,tokens=1.4e12 (or flops=... for a one-input law)"
            )
        if any(not (v > 0 and np.isfinite(v)) for v in point.values()):
            raise InvalidParameterError(f"target values must be finite and > 0; got {point}")
        full = _complete(point, k)
        desc = ", ".join(f"{SYM.get(c, c)}={v:.3g}" for c, v in full.items())
        return Target(point=full, label=f"target: {desc}", actual=actual)
    raise InvalidParameterError(f"target must be a run id, 'largest' or a mapping of inputs; got {target!r}")


SYM = {"params": "N", "tokens": "D", "flops": "C"}


def _complete(point: dict[str, float], k: float) -> dict[str, float]:
    p = dict(point)
    if "params" in p and "tokens" in p and "flops" not in p:
        p["flops"] = k * p["params"] * p["tokens"]
    elif "params" in p and "flops" in p and "tokens" not in p:
        p["tokens"] = p["flops"] / (k * p["params"])
    elif "tokens" in p and "flops" in p and "params" not in p:
        p["params"] = p["flops"] / (k * p["tokens"])
    return {c: p[c] for c in AXES if c in p}


def fitted_mask(fit, frame: pd.DataFrame) -> np.ndarray:
    """Which rows of ``frame`` the fit used (matched on run and input columns)."""
    keys = ["run"] + [c for c in dict.fromkeys(fit.columns.values()) if c in frame and c in fit.data]
    if any(c not in frame for c in keys):
        return np.zeros(len(frame), dtype=bool)
    used = fit.data[keys].copy()
    used["run"] = used["run"].astype(str)
    probe = frame[keys].copy()
    probe["run"] = probe["run"].astype(str)
    for c in keys[1:]:
        used[c] = np.round(np.log(used[c].astype(float)), 9)
        probe[c] = np.round(np.log(probe[c].astype(float)), 9)
    merged = probe.merge(used.drop_duplicates().assign(_hit=True), on=keys, how="left")
    return merged["_hit"].fillna(False).to_numpy(dtype=bool)


def law_path(
    frame: pd.DataFrame, x: str, *, target: Target | None = None, n: int = 160, extend: float = 0.0
) -> pd.DataFrame:
    """Points (``params``, ``tokens``, ``flops``) along which a law is drawn against ``x``.

    * ``x="tokens"``: the target's model size with D growing up to the target's D
      (or the largest run's size when there is no target);
    * ``x="params"`` / ``"flops"``: a straight line in log space from the final
      checkpoint of the smallest run to the target (the scaling path of the ladder);
      without a target, the log-log trend of the runs' final checkpoints over their range.

    ``extend`` widens the path by that many decades past the data on the right.
    """
    if x not in AXES:
        raise InvalidParameterError(f"x must be one of {', '.join(AXES)}; got {x!r}")
    k = flops_per_nd(frame)
    have = [c for c in AXES if c in frame]
    last = final_rows(frame)
    lo = float(frame[x].min()) if x in frame else None
    if x == "tokens":
        size = target.point["params"] if target is not None else float(last["params"].max())
        hi = target.point["tokens"] if target is not None else float(frame["tokens"].max())
        lo = lo if lo is not None else hi / 1e3
        D = np.geomspace(min(lo, hi), hi * 10**extend, n)
        return pd.DataFrame({"params": size, "tokens": D, "flops": k * size * D})
    if not {"params", "tokens"} <= set(have):
        # one-input data (e.g. compute only): the path is x itself
        hi = target.point[x] if target is not None else float(frame[x].max())
        return pd.DataFrame({x: np.geomspace(lo, hi * 10**extend, n)})
    lx = np.log(last[x].to_numpy(dtype=float))
    if target is not None:
        start = last.loc[last[x].idxmin()]
        a = {c: np.log(float(start[c])) for c in ("params", "tokens")}
        b = {c: np.log(target.point[c]) for c in ("params", "tokens")}
        t0, t1 = np.log(float(start[x])), np.log(target.point[x])
        hi_x = target.point[x]
        if abs(t1 - t0) < 1e-12:
            raise InvalidParameterError(f"the target has the same {x} as the smallest run; plot against another x")

        def at(t):
            s = (t - t0) / (t1 - t0)
            return {c: np.exp(a[c] + s * (b[c] - a[c])) for c in a}
    else:
        coefs = {}
        for c in ("params", "tokens"):
            ly = np.log(last[c].to_numpy(dtype=float))
            coefs[c] = np.polyfit(lx, ly, 1) if np.ptp(lx) > 0 else np.array([0.0, ly.mean()])
        hi_x = float(frame[x].max())

        def at(t):
            return {c: np.exp(np.polyval(coefs[c], t)) for c in coefs}

    # start where the ladder's final checkpoints start (the smallest run's end), not at its first checkpoint
    lo_x = float(last[x].min())
    t = np.linspace(np.log(min(lo_x, hi_x)), np.log(hi_x) + extend * np.log(10), n)
    pts = at(t)
    out = pd.DataFrame({"params": pts["params"], "tokens": pts["tokens"]})
    out["flops"] = k * out["params"] * out["tokens"]
    return out
