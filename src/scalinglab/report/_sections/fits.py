"""Section "Fits": each fit's law, data, objective and quality, parameters with intervals, diagnostics."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalinglab.fit import Summary
from scalinglab.render import Section, escape, kv_html, register_section, table_html

__all__ = ["section_fits"]


def section_fits(fits: Sequence, *, interval: float, method: str) -> Section:
    """Each fit: law, data, objective and quality, parameters with intervals, diagnostics."""
    e = escape
    parts = []
    for f in fits:
        s = Summary.from_fit(f, interval=interval, method=method)  # the core's summary: one bootstrap, cached
        rows = {r["param"]: r for r in s.table}
        table = pd.DataFrame(
            {
                "param": list(f.law.params),
                "value": [f.params[p] for p in f.law.params],
                "stderr": [rows[p]["stderr"] for p in f.law.params],
                f"lower {interval:.0%}": [
                    np.nan if rows[p]["lower"] is None else rows[p]["lower"] for p in f.law.params
                ],
                f"upper {interval:.0%}": [
                    np.nan if rows[p]["upper"] is None else rows[p]["upper"] for p in f.law.params
                ],
                "note": [rows[p]["note"] for p in f.law.params],
            }
        )
        how = s.title[s.title.find("(") + 1 : s.title.rfind(")")] if "(" in s.title else method
        keys = {(i, "value"): f"param:{f.law.name}:{p}" for i, p in enumerate(f.law.params)}
        keys.update({(i, f"lower {interval:.0%}"): f"param-lower:{f.law.name}:{p}" for i, p in enumerate(f.law.params)})
        keys.update({(i, f"upper {interval:.0%}"): f"param-upper:{f.law.name}:{p}" for i, p in enumerate(f.law.params)})
        quality = pd.DataFrame(
            [
                {
                    "points": f.n_points,
                    "free params": f.n_params,
                    "RMSE(log)": f.rmse_log,
                    "R²": f.r2,
                    "residual scale": f.residual_scale,
                    "converged": f.converged,
                }
            ]
        )
        qkeys = {
            (0, "RMSE(log)"): f"rmse_log:{f.law.name}",
            (0, "R²"): f"r2:{f.law.name}",
            (0, "points"): f"n_points:{f.law.name}",
        }
        diags = "".join(f"<li>{e(w)}</li>" for w in s.warnings)
        parts.append(
            f"<h3 id='fit-{e(f.law.name)}'>{e(f.law.name)}: <code>{e(f.law.formula)}</code></h3>"
            + kv_html([(k, v) for k, v in s.header if k not in ("law",)])
            + table_html(quality, keys=qkeys)
            + table_html(table, keys=keys, caption=f"Parameters with {how}")
            + (
                f"<ul class='diag callout warning'>{diags}</ul>"
                if diags
                else "<p class='muted'>Diagnostics: no problems found (no parameter at a bound, curvature well "
                "conditioned).</p>"
            )
        )
    return Section("fits", "Fits", "".join(parts))


@register_section("fits", title="Fits", order=20, weight=lambda ctx: len(ctx.laws))
def _provide(ctx) -> Section:
    return section_fits(ctx.fits, interval=ctx.interval, method=ctx.method)
