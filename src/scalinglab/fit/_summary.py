"""One summary of a fit, rendered as text (console), dict (JSON) or HTML (report, notebook)."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

from scalinglab.fit._uncertainty import MIN_RUNS_FOR_BOOTSTRAP, resolve_method

__all__ = ["Summary", "MIN_RUNS_FOR_BOOTSTRAP"]


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    a = abs(v)
    return f"{v:.4e}" if (a >= 1e5 or (0 < a < 1e-3)) else f"{v:.5g}"


#: A parameter is not pinned down by the data when its standard error exceeds this multiple of its value,
#: or its interval spans more than ``MAX_DECADES`` decades; an interval narrower than ``ZERO_WIDTH`` (relative)
#: means the uncertainty could not be measured (the fit passes exactly through the points).
MAX_REL_STDERR = 1.0
MAX_DECADES = 2.0
ZERO_WIDTH = 1e-6


def identifiability(table: list[dict[str, Any]], linear=()) -> list[tuple[str, str]]:
    """``(param, message)`` for every free parameter the intervals show the data cannot pin down.

    Examples
    --------
    >>> identifiability([{"param": "A", "value": 63.8, "stderr": 2.3e6, "lower": 1.7, "upper": 51172.0, "note": ""}])[0][1][:52]
    "parameter 'A' is not identified by this data: stderr"
    """
    out = []
    for r in table:
        if r.get("note") == "fixed" or r.get("lower") is None:
            continue
        p, v, se, lo, hi = r["param"], r["value"], r["stderr"], r["lower"], r["upper"]
        why = []
        if se is not None and math.isfinite(se) and v != 0 and se > MAX_REL_STDERR * abs(v):
            why.append(f"stderr {_fmt(se)} is {se / abs(v):.3g}x its value {_fmt(v)}")
        if lo is not None and hi is not None and lo > 0 and hi > 0 and math.log10(hi / lo) > MAX_DECADES:
            why.append(f"its interval [{_fmt(lo)}, {_fmt(hi)}] spans {math.log10(hi / lo):.1f} decades")
        if why:
            out.append(
                (
                    p,
                    f"parameter '{p}' is not identified by this data: "
                    + "; ".join(why)
                    + ". Do not extrapolate with it: widen the range of the inputs, add runs, or fix it "
                    "(fixed= in Python, --fix on the CLI)",
                )
            )
            continue
        zero = (
            lo is not None
            and hi is not None
            and math.isfinite(lo)
            and math.isfinite(hi)
            and (hi - lo) <= ZERO_WIDTH * max(abs(v), 1e-12)
        )
        if zero or (se is not None and math.isfinite(se) and v != 0 and se <= 1e-9 * abs(v)):
            out.append(
                (
                    p,
                    f"parameter '{p}' has a zero-width interval [{_fmt(lo)}, {_fmt(hi)}] (stderr "
                    f"{se:.2g}): its uncertainty could not be measured (the law passes through the points "
                    "exactly, or every resample gave the same value); do not read it as certainty",
                )
            )
    return out


def _convention(fit) -> str:
    """How the parameter count N is meant: the law's declared convention (Kaplan et al. count
    non-embedding parameters) beside the column the fit read."""
    declared = getattr(fit.law, "params_convention", "") or ""
    col = fit.columns.get("N") or next((c for c in fit.columns.values() if c == "params"), None)
    if col is None:
        return "the law has no parameter-count input"
    law = {
        "non-embedding": "the law's source counts non-embedding parameters",
        "total": "the law's source counts all parameters, embeddings included",
    }.get(declared, "the law's source does not say whether N includes embeddings")
    return f"N = column '{col}' as given; {law}; give the same convention (see the data's notes)"


@dataclass(frozen=True)
class Summary:
    header: list[tuple[str, str]]
    table: list[dict[str, Any]]
    warnings: list[str]
    title: str

    @classmethod
    def from_fit(cls, fit, interval: float = 0.9, method: str = "auto", n_resamples: int = 200) -> Summary:
        """Build the summary; ``method="auto"`` uses the run bootstrap when the fit has at least
        ``MIN_RUNS_FOR_BOOTSTRAP`` runs (the delta method understates uncertainty), else the delta method
        (:func:`~scalinglab.fit._uncertainty.resolve_method` with ``purpose="parameters"``)."""
        method = resolve_method(method, fit, "parameters")
        label = method
        try:
            ci = fit.conf_int(
                interval, method=method, **({"n_resamples": n_resamples} if method == "bootstrap" else {})
            )
        except Exception:  # a bootstrap that cannot run (e.g. every resample failed): say so, use the delta method
            ci, label = fit.conf_int(interval, method="delta"), "delta (bootstrap failed)"
        by = "runs" if fit.data["run"].nunique() < fit.n_points else "points (one row per run)"
        how = (
            f"run bootstrap, {n_resamples} resamples over {by}" if label == "bootstrap" else "delta method, approximate"
        )
        o = fit.options
        obj_name = f"{o['loss']}(delta={o['delta']:g})" if o["loss"] == "huber" else o["loss"]
        header = [
            ("law", f"{fit.law.name}:  {fit.law.formula}"),
            ("source", fit.law.reference or "user-defined"),
            ("params count", _convention(fit)),
            (
                "data",
                f"{fit.n_points} points, {fit.data['run'].nunique()} runs; inputs "
                + ", ".join(f"{s}={c}" for s, c in fit.columns.items())
                + f"; target {fit.target}",
            ),
        ]
        for note in fit.notes:
            header.append(("note", note))
        header += [
            ("objective", f"sum {obj_name} on {o['space']} residuals = {fit.objective:.6e}"),
            (
                "fit quality",
                f"RMSE(log) = {fit.rmse_log:.4g}, R^2 = {fit.r2:.4f}, "
                f"residual scale (dof-corrected) = {fit.residual_scale:.3g}",
            ),
            (
                "search",
                f"{'converged' if fit.converged else 'NOT CONVERGED'} after {fit.n_iter} iterations; "
                f"{fit.n_starts} starts refined from {fit.n_grid} grid points",
            ),
        ]
        table = []
        for p, spec in fit.law.params.items():
            fixed = p in o.get("fixed", {})
            se = float(ci.loc[p, "se"]) if (not fixed and "se" in ci.columns) else fit.stderr.get(p, float("nan"))
            row = {
                "param": p,
                "value": fit.params[p],
                "stderr": se,
                "lower": None if fixed else float(ci.loc[p, "lower"]),
                "upper": None if fixed else float(ci.loc[p, "upper"]),
                "bounds": f"[{spec.lower:g}, {spec.upper:g}]",
                "note": "fixed" if fixed else ("linear" if p in fit.law.linear else ""),
            }
            table.append(row)
        unidentified = identifiability(table, fit.law.linear)
        for p, msg in unidentified:
            row = next(r for r in table if r["param"] == p)
            flag = "NOT IDENTIFIED" if "not identified" in msg else "NO UNCERTAINTY"
            row["note"] = (row["note"] + ", " if row["note"] else "") + flag
        trust = [m for _, m in unidentified]
        kept = [d.message for d in fit.diagnostics if d.kind not in ("not-identified", "zero-width-interval")]
        return cls(
            header=header,
            table=table,
            warnings=kept + trust,
            title=f"Fit of '{fit.law.name}' ({int(interval * 100)}% intervals: {how})",
        )

    def as_text(self) -> str:
        width = max(len(k) for k, _ in self.header)
        lines = [self.title, "=" * len(self.title)]
        lines += [f"{k.ljust(width)}  {v}" for k, v in self.header]
        cols = ["param", "value", "stderr", "lower", "upper", "bounds", "note"]
        rows = [
            [
                str(r["param"]),
                _fmt(r["value"]),
                _fmt(r["stderr"]),
                _fmt(r["lower"]),
                _fmt(r["upper"]),
                r["bounds"],
                r["note"],
            ]
            for r in self.table
        ]
        widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
        lines.append("")
        lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in rows]
        lines.append("")
        if self.warnings:
            lines.append("Warnings:")
            lines += [f"  ! {w}" for w in self.warnings]
        else:
            lines.append(
                "Diagnostics: no problems found (no parameter at a bound, curvature well conditioned, every "
                "parameter pinned down by the data, no row alone setting the fit)."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    __repr__ = __str__

    @property
    def trusted(self) -> bool:
        """No diagnostic: what ``scalinglab fit --strict`` requires to exit 0."""
        return not self.warnings

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "header": dict(self.header),
            "params": self.table,
            "warnings": self.warnings,
            "trusted": self.trusted,
        }

    def as_html(self) -> str:
        e = html.escape
        head = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in self.header)
        cols = ["param", "value", "stderr", "lower", "upper", "bounds", "note"]
        body = "".join(
            "<tr>"
            + "".join(
                f"<td>{e(_fmt(r[c]) if c in ('value', 'stderr', 'lower', 'upper') else str(r[c]))}</td>" for c in cols
            )
            + "</tr>"
            for r in self.table
        )
        warn = "".join(f"<li>{e(w)}</li>" for w in self.warnings)
        return (
            f"<div class='fit-summary'><h3>{e(self.title)}</h3><table class='kv'>{head}</table>"
            f"<table class='params'><thead><tr>{''.join(f'<th>{c}</th>' for c in cols)}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
            + (f"<ul class='warnings'>{warn}</ul>" if warn else "<p>No diagnostics raised.</p>")
            + "</div>"
        )
