"""Section "Predictions": each law's prediction at the target, its interval and (when known) the actual value."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scalinglab.errors import ScalingLabError
from scalinglab.render import Section, Target, fmt, kv_html, note_html, register_section, table_html

__all__ = ["section_predictions"]


def section_predictions(
    fits: Sequence, target: Target | None, *, interval: float, method: str, kind: str = "new"
) -> Section:
    """Each law's prediction at the target, its interval and (when known) the actual value and error."""
    if target is None:
        return Section(
            "predictions",
            "Predictions",
            note_html(
                "No target given: pass --target RUN, --target largest or --target params=...,tokens=... to "
                "extrapolate (the largest runs are then held out from the fits)."
            ),
            status="missing",
            note="Left out: no extrapolation target was given.",
        )
    point = pd.DataFrame({c: [v] for c, v in target.point.items()})
    rows, keys = [], {}
    for f in fits:
        if any(c not in point for c in f.columns.values()):
            continue
        try:
            p = f.predict(point, interval=interval, kind=kind, method=method, warn=False)
            how = method
        except ScalingLabError:
            p, how = f.predict(point, interval=interval, kind=kind, method="delta", warn=False), "delta"
        est, lo, hi = float(p["estimate"][0]), float(p["lower"][0]), float(p["upper"][0])
        ext = max(f.extrapolation({s: np.array([target.point[c]]) for s, c in f.columns.items()}).values())
        row = {
            "law": f.law.name,
            "estimate": est,
            f"lower {interval:.0%}": lo,
            f"upper {interval:.0%}": hi,
            "interval": how,
            "decades beyond data": ext,
        }
        if target.actual is not None:
            row["actual"] = target.actual
            row["error %"] = 100 * (est - target.actual) / target.actual
            row["inside interval"] = bool(lo <= target.actual <= hi)
        r = len(rows)
        keys.update(
            {
                (r, "estimate"): f"pred:{f.law.name}:estimate",
                (r, f"lower {interval:.0%}"): f"pred:{f.law.name}:lower",
                (r, f"upper {interval:.0%}"): f"pred:{f.law.name}:upper",
            }
        )
        if target.actual is not None:
            keys[(r, "actual")] = "actual"
        rows.append(row)
    point_txt = ", ".join(f"{c} = {fmt(v)}" for c, v in target.point.items())
    body = kv_html(
        [
            ("target", target.label.removeprefix("target: ")),  # the key already says "target"
            ("inputs", point_txt),
            ("interval", f"{interval:.0%} for {'a new run' if kind == 'new' else 'the mean law'}"),
        ]
    ) + table_html(pd.DataFrame(rows), keys=keys)
    return Section("predictions", "Predictions", body)


@register_section("predictions", title="Predictions", order=30)
def _provide(ctx) -> Section:
    ctx.step("predictions")
    return section_predictions(ctx.fits, ctx.target, interval=ctx.interval, method=ctx.method)
