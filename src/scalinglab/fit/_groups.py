"""Group-wise fits: one law per family of runs, and the warning for a pooled multi-family table.

``fit(runs, law, by="family")`` fits every group (the rows sharing a value of
``by``) separately through :func:`~scalinglab.fit.fit_many` and returns a
:class:`FitSet`: the fits by group, the groups that could not be fitted with
their reason, and one summary table.  A table that holds several families and
is fitted as one (``by=None``) is usually a mistake: :func:`pooled_warning`
names the column and the ``by=`` / ``--by`` fix.

With ``borrow_from=`` a group whose own runs cannot set the size term (one model
size, or a size parameter at its bound) is refitted with it borrowed from the
other groups' fits (single-model transfer, Choshen et al. 2024, App. A;
:func:`~scalinglab.fit._borrow.borrow_size_term`), and its predictions carry the
lenders' disagreement (:meth:`FitSet.predict`).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalinglab._io import sha256_bytes, write_atomic
from scalinglab._validation import check_options
from scalinglab.data._families import GROUP_COLUMNS
from scalinglab.errors import DataError, InvalidParameterError, ScalingLabError, ScalingLabWarning
from scalinglab.fit._borrow import (
    BORROW_SCALES,
    BORROW_WHEN,
    borrow_size_term,
    combine_params,
    size_coupled,
    size_symbol,
    undetermined_size_term,
    widen_by_lenders,
)
from scalinglab.fit._result import SET_FORMAT, Fit, is_fit_set

__all__ = ["FitSet", "fit_groups", "load_fitset", "pooled_warning", "GROUP_COLUMNS", "PooledFamiliesWarning"]


#: Median relative gap between two same-size curves (no seed column) above which they count as different families.
CURVE_GAP = 0.03


class PooledFamiliesWarning(ScalingLabWarning):
    """A table that holds several families is being fitted as one."""


def _groupable(frame: pd.DataFrame, by: str, owner: str) -> list[tuple[str, pd.DataFrame]]:
    if by not in frame:
        cols = [c for c in frame.columns if not c.startswith("_")]
        raise DataError(
            f"{owner}(): by='{by}' is not a column of the runs table",
            column=by,
            kind="missing-column",
            hint=f"use one of {cols}, or map yours with --map {by}=<column>",
        )
    if frame[by].isna().any():
        n = int(frame[by].isna().sum())
        raise DataError(
            f"{owner}(): column '{by}' is empty in {n} row(s); every row needs a group",
            column=by,
            kind="missing-value",
            hint=f"fill or drop those rows before grouping by '{by}'",
        )
    return [(str(k), g) for k, g in frame.groupby(by, sort=False)]


def _sizes_with_two_runs(frame: pd.DataFrame):
    """The params values with at least two runs of >= 3 rows each."""
    size_code, sizes = pd.factorize(frame["params"])
    run_code, runs = pd.factorize(frame["run"])
    if (size_code < 0).any() or (run_code < 0).any():  # missing keys: as pandas' groupby counts them
        rows_per_run = frame.groupby(["params", "run"], sort=False).size()
        runs_per_size = (rows_per_run >= 3).groupby(level=0, sort=False).sum()
        return runs_per_size.index[runs_per_size.to_numpy() >= 2]
    pairs, rows = np.unique(size_code * len(runs) + run_code, return_counts=True)
    per_size = np.bincount(pairs[rows >= 3] // len(runs), minlength=len(sizes))
    return sizes[per_size >= 2]


def pooled_warning(frame: pd.DataFrame, *, by_flag: str = "by=") -> str | None:
    """Why ``frame`` looks like several families fitted as one, or ``None``.

    Two signs: a family-like column (:data:`GROUP_COLUMNS`) with more than one
    value, or runs of the same size (no ``seed`` column to say they are replicates)
    whose loss curves disagree by more than :data:`CURVE_GAP` where their token
    ranges overlap.  Runs of one size trained to different budgets (one checkpoint
    each) do not count.

    Examples
    --------
    >>> df = pd.DataFrame({"family": ["a", "a", "b"], "run": ["x", "y", "z"], "loss": [3.0, 2.9, 2.5]})
    >>> pooled_warning(df)
    "the table holds 2 values of 'family' (a, b) fitted as one law; fit each with by='family' (CLI: --by family)"
    """
    for col in GROUP_COLUMNS:
        if col in frame and frame[col].nunique(dropna=True) > 1:
            values = [str(v) for v in pd.unique(frame[col].dropna())]
            shown = ", ".join(values[:4]) + (", ..." if len(values) > 4 else "")
            return (
                f"the table holds {len(values)} values of '{col}' ({shown}) fitted as one law; fit each with "
                f"{by_flag}'{col}' (CLI: --by {col})"
                + ("" if col == "family" else f", or test their difference with scalinglab compare DATA --by {col}")
            )
    if "seed" in frame or not {"run", "params", "tokens", "loss"} <= set(frame.columns):
        return None
    # only sizes with two or more runs of >= 3 rows can disagree: found in one pass (a table of a million
    # one-row runs would otherwise loop over a million groups)
    candidates = _sizes_with_two_runs(frame)
    if len(candidates) == 0:
        return None
    frame = frame[frame["params"].isin(candidates)]
    for size, g in frame.groupby("params", sort=False):
        runs = [r for _, r in g.groupby("run", sort=False) if len(r) >= 3]
        if len(runs) < 2:
            continue
        a, b = runs[0].sort_values("tokens"), runs[1].sort_values("tokens")
        lo, hi = max(a["tokens"].min(), b["tokens"].min()), min(a["tokens"].max(), b["tokens"].max())
        if not hi > lo:
            continue
        grid = np.geomspace(lo, hi, 16)
        la = np.interp(np.log(grid), np.log(a["tokens"].to_numpy(float)), a["loss"].to_numpy(float))
        lb = np.interp(np.log(grid), np.log(b["tokens"].to_numpy(float)), b["loss"].to_numpy(float))
        gap = float(np.median(np.abs(la - lb) / np.minimum(la, lb)))
        if gap > CURVE_GAP:
            return (
                f"runs '{a['run'].iloc[0]}' and '{b['run'].iloc[0]}' have the same size ({size:.3g}) but their "
                f"loss curves differ by {gap:.0%}: the table may hold several families fitted as one law; add a "
                f"'family' column and fit each with {by_flag}'family' (CLI: --by family), or a 'seed' column "
                "if they are replicates"
            )
    return None


@dataclass(frozen=True)
class FitSet:
    """Fits of one law, one per group (immutable).

    Attributes
    ----------
    by : str
        The grouping column.
    fits : dict
        Group value -> :class:`~scalinglab.fit.Fit`, for the groups that were fitted.
    failures : dict
        Group value -> one-line reason, for the groups that could not be fitted.
    borrowed : dict
        With ``borrow_from=``: group -> what it borrowed (``values``, ``reason``,
        ``lenders``, ``not_lending``, ``terms``: the lending families' size terms at
        its inputs, ``lender_values``); its fit in :attr:`fits` holds those values fixed.
    not_borrowed : dict
        Group -> why a group whose size term was undetermined borrowed nothing.
    lender_fits : dict
        Group -> its refits with each lending family's own values (for :meth:`predict`).
    """

    by: str
    fits: dict
    failures: dict = field(default_factory=dict)
    borrowed: dict = field(default_factory=dict)
    not_borrowed: dict = field(default_factory=dict)
    lender_fits: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.fits)

    def __iter__(self) -> Iterator[str]:
        return iter(self.fits)

    def __getitem__(self, group: str):
        return self.fits[group]

    def items(self):
        return self.fits.items()

    def predict(
        self,
        group: str,
        data: pd.DataFrame | Mapping | None = None,
        *,
        interval: float | None = None,
        kind: str = "mean",
        method: str = "delta",
        warn: bool = True,
        **inputs: Any,
    ):
        """Predict with one group's fit (:meth:`scalinglab.fit.Fit.predict`).

        For a group that borrowed its size term, the interval also carries how far apart
        the lending families put the prediction (:func:`~scalinglab.fit._borrow.widen_by_lenders`;
        the fit alone holds the borrowed values at their median and knows nothing of that).
        """
        if group not in self.fits:
            known = ", ".join(map(str, self.fits)) or "none"
            why = f" (its fit failed: {self.failures[group]})" if group in self.failures else ""
            raise InvalidParameterError(
                f"FitSet.predict(): no fit for group {group!r}{why}", hint=f"fitted groups: {known}"
            )
        f = self.fits[group]
        out = f.predict(data, interval=interval, kind=kind, method=method, warn=warn, **inputs)
        lenders = self.lender_fits.get(group, ())
        if interval is None or group not in self.borrowed:
            return out
        if len(lenders) < 2:
            n = len(self.borrowed[group].get("lender_values", ()))
            why = f"from {n} lending family" if n < 2 else "but the refits with its lenders' own values failed"
            warnings.warn(
                f"group {group!r} borrowed its size term {why}: how far families disagree is unknown, so this "
                "interval (the fit's own) understates the uncertainty; borrow from more groups (borrow_from='others')",
                ScalingLabWarning,
                stacklevel=2,
            )
            out = out.copy()
            out["method"] = out["method"].astype(str) + "+one lender"
            return out
        logs = np.vstack(
            [np.log(np.atleast_1d(np.asarray(g.predict(data, warn=False, **inputs), dtype=float))) for g in lenders]
        )
        out = out.copy()
        out["lower"], out["upper"], sd = widen_by_lenders(out["estimate"], out["lower"], out["upper"], logs, interval)
        out["lender_sd"] = sd
        out["method"] = out["method"].astype(str) + "+lenders"
        return out

    def save(self, path: str | Path) -> Path:
        """Write the set of fits as JSON, atomically (every fit with its checksum; :func:`load_fitset`)."""
        payload = {
            "format": SET_FORMAT,
            "by": self.by,
            "fits": {str(g): f.to_dict() for g, f in self.fits.items()},
            "failures": {str(g): str(v) for g, v in self.failures.items()},
            "borrowed": {str(g): v for g, v in self.borrowed.items()},
            "not_borrowed": {str(g): str(v) for g, v in self.not_borrowed.items()},
            "lender_fits": {str(g): [f.to_dict() for f in fs] for g, fs in self.lender_fits.items()},
        }
        payload["checksum"] = _set_checksum(payload)
        return write_atomic(path, json.dumps(payload, allow_nan=True))

    @classmethod
    def from_dict(cls, payload: Any, *, source: str = "<dict>") -> FitSet:
        """The set of fits a :meth:`save` payload describes, after checking it (see :func:`load_fitset`)."""
        if is_fit_set(payload) and payload.get("format") != SET_FORMAT:  # the earlier form: {group: fit}
            return cls(by="group", fits={g: Fit.from_dict(v, source=f"{source} [{g}]") for g, v in payload.items()})

        def bad(message: str, key: str) -> DataError:
            return DataError(f"set of fits: {message}", source=source, column=key, kind="invalid-fit", hint=_RESAVE)

        if not is_fit_set(payload):
            got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
            raise bad(f"not a set of fits (format {got!r}, expected {SET_FORMAT!r})", "format")
        if payload.get("checksum") != _set_checksum(payload):
            raise bad(
                "the content does not match its checksum: the file was edited or damaged after it was saved",
                "checksum",
            )
        for key in ("fits", "failures", "borrowed", "not_borrowed", "lender_fits"):
            if not isinstance(payload.get(key), dict):
                raise bad(f"field '{key}' must be an object", key)
        for g, b in payload["borrowed"].items():
            ok = isinstance(b, dict) and isinstance(b.get("values"), dict) and isinstance(b.get("terms"), dict)
            if not ok or not isinstance(b.get("lenders"), list) or g not in payload["fits"]:
                raise bad(f"field 'borrowed.{g}' is not what a saved set holds", f"borrowed.{g}")
        for g, vs in payload["lender_fits"].items():
            if not isinstance(vs, list) or g not in payload["borrowed"]:
                raise bad(
                    f"field 'lender_fits.{g}' must be a list of fits of a group that borrowed", f"lender_fits.{g}"
                )
        return cls(
            by=str(payload.get("by", "group")),
            fits={g: Fit.from_dict(v, source=f"{source} [fits.{g}]") for g, v in payload["fits"].items()},
            failures=dict(payload["failures"]),
            borrowed=dict(payload["borrowed"]),
            not_borrowed=dict(payload["not_borrowed"]),
            lender_fits={
                g: tuple(Fit.from_dict(v, source=f"{source} [lender_fits.{g}]") for v in vs)
                for g, vs in payload["lender_fits"].items()
            },
        )

    @property
    def warnings(self) -> dict[str, list[str]]:
        """Group -> the diagnostics of its fit (at a bound, not converged, a parameter the data do not
        set...), for the groups that have any; as each group's own ``fit(...).summary()`` lists them."""
        out = {}
        for g, f in self.fits.items():
            msgs = list(dict.fromkeys(d.message for d in getattr(f, "diagnostics", ())))
            if msgs:
                out[g] = msgs
        return out

    @property
    def trusted(self) -> bool:
        """Every group fitted, none with a diagnostic: what ``scalinglab fit --by COLUMN --strict`` requires."""
        return not self.failures and not self.warnings

    @property
    def groups(self) -> list[str]:
        """Every group, fitted or failed, in table order."""
        return list(self.fits) + [g for g in self.failures if g not in self.fits]

    def table(self) -> pd.DataFrame:
        """One row per group: runs, points, parameters, RMSE of log-loss, converged, number of
        diagnostics (:attr:`warnings`), error."""
        rows, warned = [], self.warnings
        for g in self.groups:
            f = self.fits.get(g)
            if f is None:
                rows.append(
                    {
                        self.by: g,
                        "runs": np.nan,
                        "points": np.nan,
                        "rmse_log": np.nan,
                        "converged": False,
                        "diagnostics": 0,
                        "borrowed": None,
                        "error": self.failures[g],
                    }
                )
                continue
            runs = int(f.data["run"].nunique()) if "run" in f.data else f.n_points
            rows.append(
                {
                    self.by: g,
                    "runs": runs,
                    "points": f.n_points,
                    **f.params,
                    "rmse_log": f.rmse_log,
                    "converged": bool(f.converged),
                    "diagnostics": len(warned.get(g, ())),
                    "borrowed": ", ".join(self.borrowed[g]["values"]) if g in self.borrowed else None,
                    "error": None,
                }
            )
        return pd.DataFrame(rows)

    def params_frame(self) -> pd.DataFrame:
        """Fitted parameters, one row per fitted group."""
        return pd.DataFrame({g: f.params for g, f in self.fits.items()}).T.rename_axis(self.by)

    def summary(self) -> str:
        """The summary table as text, failures listed with their reason."""
        t = self.table()
        law = next(iter(self.fits.values())).law.name if self.fits else "?"
        params = list(next(iter(self.fits.values())).law.params) if self.fits else []
        head = f"{self.by:<18} {'runs':>4} {'points':>6} " + " ".join(f"{p:>10}" for p in params) + f" {'rmse_log':>9}"
        lines = [
            f"Fits of {law} by '{self.by}': {len(self.fits)} fitted, {len(self.failures)} failed",
            "",
            head,
            "-" * len(head),
        ]
        for r in t.to_dict(orient="records"):
            if r["error"]:
                lines.append(f"{str(r[self.by]):<18} FAILED: {r['error']}")
                continue
            lines.append(
                f"{str(r[self.by]):<18} {r['runs']:>4} {r['points']:>6} "
                + " ".join(f"{r[p]:>10.4g}" for p in params)
                + f" {r['rmse_log']:>9.4f}"
                + ("" if r["converged"] else "  (not converged)")
                + (f"  ({r['diagnostics']} warning{'s' if r['diagnostics'] > 1 else ''})" if r["diagnostics"] else "")
                + (f"  (borrowed {r['borrowed']})" if isinstance(r["borrowed"], str) else "")
            )
        lines += self._borrow_lines()
        warned = self.warnings
        if warned:
            lines += ["", "Warnings (each group's own fit; a group's full summary: fit that group alone):"]
            for g in warned:
                lines.append(f"  {g}:")
                lines += [f"    ! {m}" for m in _by_kind(self.fits[g].diagnostics)]
        elif self.fits:
            lines += ["", "Diagnostics: no problems found in any group's fit."]
        return "\n".join(lines)

    __str__ = summary

    def to_dict(self) -> dict[str, Any]:
        def clean(v):
            if isinstance(v, (float, np.floating)):
                return float(v) if math.isfinite(v) else None
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "by": self.by,
            "groups": [{k: clean(v) for k, v in r.items()} for r in self.table().to_dict(orient="records")],
            "failures": dict(self.failures),
            "warnings": self.warnings,
            "trusted": self.trusted,
            "borrowed": {str(g): v for g, v in self.borrowed.items()},
            "not_borrowed": {str(g): str(v) for g, v in self.not_borrowed.items()},
        }

    def _borrow_lines(self) -> list[str]:
        """Who borrowed what from whom; groups fitted on one size that could borrow and did not."""
        lines = []
        if self.borrowed:
            lines += ["", "Borrowed size parameters (each group refitted with them fixed; the others' fits lent):"]
            for g, b in self.borrowed.items():
                values = ", ".join(f"{k}={v:.4g}" for k, v in b["values"].items())
                terms = "; ".join(f"lenders' {c}-term here {lo:.3g} to {hi:.3g}" for c, (lo, hi) in b["terms"].items())
                lines.append(
                    f"  {g}: {values} ({'' if b['reason'].startswith('every group') else 'own fit: '}{b['reason']}); "
                    f"lent by {', '.join(b['lenders'])}"
                    + (f"; {terms}" if terms else "")
                    + (
                        "; one lending family: its intervals cannot carry how far families disagree"
                        if len(self.lender_fits.get(g, ())) < 2
                        else ""
                    )
                )
            lines.append("  Their prediction intervals (FitSet.predict) carry the lenders' disagreement.")
        if self.not_borrowed:
            lines += ["", "Kept their own fits (nothing to borrow):"]
            lines += [f"  {g}: {why}" for g, why in self.not_borrowed.items()]
        one = [
            g for g, f in self.fits.items() if g not in self.borrowed and g not in self.not_borrowed and _one_size(f)
        ]
        if one:
            lines += [
                "",
                f"Fitted on one model size: {', '.join(one)}. Their size term is arbitrary (any A, alpha fit one "
                "size), so their predictions at another size are too; borrow it from the other groups "
                "(borrow_from='others'; CLI: --borrow-from others).",
            ]
        return lines

    def __repr__(self) -> str:
        return f"FitSet(by={self.by!r}, fitted={len(self.fits)}, failed={len(self.failures)})"


def _one_size(f) -> bool:
    size = size_symbol(f.law, f.columns)
    return size is not None and f.columns[size] in f.data and f.data[f.columns[size]].nunique() < 2


def _by_kind(diagnostics) -> list[str]:
    """One line per kind of diagnostic: the first message, and the other parameters it also concerns."""
    first: dict = {}
    for d in diagnostics:
        first.setdefault(d.kind, []).append(d)
    out = []
    for ds in first.values():
        more = [p for d in ds[1:] for p in d.params]
        out.append(ds[0].message + (f" (the same for {', '.join(dict.fromkeys(more))})" if more else ""))
    return out


@dataclass(frozen=True)
class _GroupJob:
    fit_fn: Any
    data: pd.DataFrame
    law: Any
    options: Mapping[str, Any]
    label: str


def _run_group(job: _GroupJob):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return job.fit_fn(job.data, job.law, **dict(job.options))


def fit_groups(
    frame: pd.DataFrame,
    law: Any,
    by: str,
    options: Mapping[str, Any] | None = None,
    *,
    fit_fn: Any = None,
    backend: str = "serial",
    workers: int | None = None,
    borrow_from: str | Sequence[str] | None = None,
    borrow_when: str = "undetermined",
    borrow_scale: str = "relative",
) -> FitSet:
    """Fit ``law`` to each group of ``frame`` (rows sharing a value of column ``by``) as one batch.

    The groups run through :func:`scalinglab.batch.run_batch` (the layer under
    :func:`~scalinglab.fit.fit_many`, same backends) with ``fit_fn`` (default
    :func:`scalinglab.fit.fit`; passed in so this module stays below the front door).

    A group that cannot be fitted (too few points, a failed solve) is recorded in
    :attr:`FitSet.failures` with its reason; the others are still fitted.

    ``borrow_from`` (``"others"`` or group names): a group whose own fit could not set
    the size term (``borrow_when="undetermined"``: one model size, or a size parameter
    at its bound, :func:`~scalinglab.fit._borrow.undetermined_size_term`; ``"always"``:
    every group) is refitted with it borrowed from the named groups' fits, itself left
    out (:func:`~scalinglab.fit._borrow.borrow_size_term`, ``borrow_scale`` as there).

    Examples
    --------
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> a = pd.DataFrame({"family": "a", "params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28})
    >>> b = a.assign(family="b", loss=2.0 + 300 / N**0.30 + 410 / D**0.28)
    >>> fs = fit_groups(pd.concat([a, b]), "chinchilla", "family")
    >>> {g: round(f.params["E"], 2) for g, f in fs.items()}
    {'a': 1.7, 'b': 2.0}
    """
    from scalinglab.batch import run_batch

    if fit_fn is None:
        import importlib

        fit_fn = importlib.import_module("scalinglab.fit").fit
    if not isinstance(by, str) or not by:
        raise InvalidParameterError(f"fit(): 'by' must be a column name; got {by!r}", hint="e.g. by='family'")
    groups = _groupable(frame, by, "fit")
    jobs = [_GroupJob(fit_fn, g.reset_index(drop=True), law, dict(options or {}), name) for name, g in groups]
    fits, failures = {}, {}
    outcomes = run_batch(_run_group, jobs, backend=backend, workers=workers)
    for job, out in zip(jobs, outcomes):
        if out.ok:
            fits[job.label] = out.value
        else:
            failures[job.label] = out.error
    if borrow_from is None:
        return FitSet(by=by, fits=fits, failures=failures)
    check_options(borrow_when, "borrow_when", BORROW_WHEN, "fit")
    check_options(borrow_scale, "borrow_scale", BORROW_SCALES, "fit")
    known = [name for name, _g in groups]
    sources = known if borrow_from == "others" else [borrow_from] if isinstance(borrow_from, str) else borrow_from
    sources = [str(v) for v in sources]
    unknown = [v for v in sources if v not in known]
    if unknown:
        raise InvalidParameterError(
            f"fit(): borrow_from names group(s) {unknown} that column '{by}' does not have",
            hint=f"groups: {known} (or borrow_from='others')",
            cli_hint=f"groups: {', '.join(known)} (or --borrow-from others)",
        )
    data = {job.label: job.data for job in jobs}
    borrowed, not_borrowed, lender_fits = {}, {}, {}
    own = dict(fits)  # lenders lend their own fits, not refits with borrowed values
    for g, f in own.items():
        X = {sym: f.data[col].to_numpy(dtype=float) for sym, col in f.columns.items()}
        # which parameters carry the size term: read off the other groups' fits (a degenerate own fit,
        # e.g. A = 0 on one size, would say none)
        peers = [o.params for s, o in own.items() if s != g and s in sources] or [f.params]
        names = list(size_coupled(f.law, combine_params(peers, list(f.law.params)), X, f.columns))
        why = (
            "every group borrows: borrow_when='always'"
            if borrow_when == "always" and names
            else undetermined_size_term(f, names)
        )
        if why is None:
            continue
        others = {s: own.get(s, failures.get(s, "not fitted")) for s in sources if s != g}
        loan = borrow_size_term(f.law, others, data[g], names=names, scale=borrow_scale)
        if isinstance(loan, str):
            not_borrowed[g] = f"{why}; nothing borrowed: {loan}"
            continue
        fixed = dict((options or {}).get("fixed") or {})
        try:
            refit = _run_group(
                _GroupJob(fit_fn, data[g], law, {**dict(options or {}), "fixed": {**fixed, **loan.values}}, g)
            )
        except ScalingLabError as exc:
            not_borrowed[g] = f"{why}; the refit with borrowed values failed: {str(exc).splitlines()[0]}"
            continue
        fits[g] = refit
        borrowed[g] = {**loan.to_dict(), "reason": why}
        lender_fits[g] = tuple(_lender_refits(fit_fn, data[g], law, options, fixed, loan.lender_values))
    return FitSet(
        by=by, fits=fits, failures=failures, borrowed=borrowed, not_borrowed=not_borrowed, lender_fits=lender_fits
    )


def _lender_refits(fit_fn, data, law, options, fixed, lender_values) -> list:
    """The group refitted with each lending family's own values (their spread widens its intervals)."""
    out = []
    for v in lender_values:
        try:
            out.append(_run_group(_GroupJob(fit_fn, data, law, {**dict(options or {}), "fixed": {**fixed, **v}}, "")))
        except ScalingLabError:
            continue  # values this group cannot be fitted with add no spread
    return out


_RESAVE = "save the set again with fit(..., by=COLUMN).save(path) (CLI: scalinglab fit DATA --by COLUMN -o FITS.json)"


def _set_checksum(payload: Mapping[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "checksum"}
    return sha256_bytes(json.dumps(body, sort_keys=True, allow_nan=True).encode("utf-8"))


def load_fitset(path: str | Path) -> FitSet:
    """Load a set of fits saved with :meth:`FitSet.save`.

    Nothing in the file is trusted: the set's content must match its checksum, its fields
    their shapes, and every fit is checked as :func:`~scalinglab.fit.load_fit` checks one.

    Examples
    --------
    >>> import tempfile, os
    >>> N = np.repeat([1e7, 3e7, 1e8, 3e8, 1e9], 4); D = np.tile([1e9, 3e9, 1e10, 3e10], 5)
    >>> a = pd.DataFrame({"family": "a", "params": N, "tokens": D, "loss": 1.7 + 400 / N**0.34 + 410 / D**0.28})
    >>> fs = fit_groups(pd.concat([a, a.assign(family="b", loss=a["loss"] + 0.3)]), "chinchilla", "family")
    >>> back = load_fitset(fs.save(os.path.join(tempfile.mkdtemp(), "fits.json")))
    >>> list(back.fits), back["b"].params == fs["b"].params
    (['a', 'b'], True)
    """
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"fit file not found: {path}", source=str(path), kind="file-not-found", hint=_RESAVE) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(
            f"not a set of fits: {str(exc)[:120]}", source=str(path), kind="malformed-fit", hint=_RESAVE
        ) from None
    return FitSet.from_dict(payload, source=str(path))
