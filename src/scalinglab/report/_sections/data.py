"""Section "Data": runs, ranges and every selection applied (what the fits saw and what was held out)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from scalinglab.render import Section, Target, escape, final_rows, fmt, kv_html, register_section, table_html

__all__ = ["section_data"]


def section_data(
    all_runs: pd.DataFrame,
    fitted: pd.DataFrame,
    *,
    source: str,
    notes: Sequence[str],
    target: Target | None,
    max_rows: int = 60,
) -> Section:
    """Runs, ranges and every selection applied (what the fits saw and what was held out)."""
    fit_ids = set(fitted["run"].astype(str))
    target_ids = set(target.runs) if target is not None else set()
    last = final_rows(all_runs)
    counts = all_runs.groupby("run")["run"].size()
    rows = pd.DataFrame({"run": last["run"].astype(str).to_numpy()})
    for col in ("family", "params", "tokens", "flops", "loss"):
        if col in last:
            rows[col if col != "tokens" else "final tokens"] = last[col].to_numpy()
    rows["checkpoints"] = [int(counts.loc[r]) for r in last["run"]]
    rows["used for"] = [
        "target (held out)" if r in target_ids else ("fit" if r in fit_ids else "not used") for r in rows["run"]
    ]
    if "params" in rows:
        rows = rows.sort_values(["params", "run"], kind="stable")
    ranges = []
    for col in ("params", "tokens", "flops", "loss"):
        if col in all_runs:
            ranges.append(
                (
                    col,
                    f"{fmt(float(all_runs[col].min()))} – {fmt(float(all_runs[col].max()))} "
                    f"({all_runs[col].nunique()} distinct)",
                )
            )
    pairs = [
        ("source", source),
        ("rows", len(all_runs)),
        ("runs", all_runs["run"].nunique()),
        ("rows fitted", len(fitted)),
        ("runs fitted", len(fit_ids)),
    ] + ranges
    notes_html = "".join(f"<li>{escape(n)}</li>" for n in notes) or "<li>none (every row used)</li>"
    body = (
        kv_html(pairs)
        + f"<h3>Selection applied</h3><ul>{notes_html}</ul>"
        + "<h3>Runs</h3>"
        + table_html(rows.reset_index(drop=True), max_rows=max_rows, keys={(0, "run"): "first-run"})
    )
    return Section("data", "Data", body, data={"n_rows": len(all_runs), "n_fitted": len(fitted)})


@register_section("data", title="Data", order=10)
def _provide(ctx) -> Section:
    ctx.step("data summary")
    return section_data(ctx.frame, ctx.fit_table.frame, source=ctx.runs.source, notes=ctx.notes, target=ctx.target)
