"""Calibration of scalinglab's 90% intervals on the two public benchmarks.

For every held-out target of the Hitchhiker's Guide track A (bench/hitchhiker.py, default
policy) this computes four 90% intervals from the default fit — delta method and run
bootstrap (200 resamples), each for the mean law (``kind="mean"``) and for a new run
(``kind="new"``) — and reports the share of held-out checkpoints inside each, per group
and pooled.  The Revisiting figure (delta, new run) is read from
bench/results/scores-revisiting.json when present (run bench/revisiting.py first).

A calibrated 90% interval contains about 90% of the targets.

Run:  python bench/calibration.py      (about 2-4 minutes)
Writes bench/results/calibration.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hitchhiker import GROUPS, OUT, group_of, load_runs, machine
from scalinglab.errors import ScalingLabError
from scalinglab.evaluate import backtest
from scalinglab.fit._uncertainty import prediction_interval

VARIANTS = [
    ("delta", "mean"),
    ("delta", "new"),
    ("bootstrap", "mean"),
    ("bootstrap", "new"),
    ("calibrated", "mean"),
    ("calibrated", "new"),
]


def main() -> None:
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    bt = backtest(load_runs(), "chinchilla", interval=None)
    rows = []
    for (fam, law), f in bt.fits.items():
        p = bt.predictions[(bt.predictions["family"] == fam) & (bt.predictions["law"] == law)]
        X = f._inputs(p, {})
        y = p["y"].to_numpy()
        for method, kind in VARIANTS:
            try:
                iv = prediction_interval(f, X, level=0.9, kind=kind, method=method, n_resamples=200)
                inside = (y >= iv["lower"].to_numpy()) & (y <= iv["upper"].to_numpy())
                width = float(np.median(np.log(iv["upper"] / iv["lower"])))
                err = None
            except ScalingLabError as exc:
                inside, width, err = np.full(y.shape, np.nan), np.nan, str(exc).splitlines()[0]
            rows.append(
                {
                    "family": fam,
                    "group": group_of(fam),
                    "method": method,
                    "kind": kind,
                    "fit_runs": int(f.data["run"].nunique()),
                    "targets": len(y),
                    "inside": float(np.nanmean(inside)) if err is None else np.nan,
                    "n_inside": float(np.nansum(inside)),
                    "median_log_width": width,
                    "error": err,
                }
            )
    res = pd.DataFrame(rows)
    by_group = res.groupby(["group", "method", "kind"])["inside"].mean().unstack(["method", "kind"]).reindex(GROUPS)
    pooled = res.groupby(["method", "kind"]).apply(
        lambda g: g["n_inside"].sum() / g.loc[g["inside"].notna(), "targets"].sum(), include_groups=False
    )
    rev_path = OUT / "scores-revisiting.json"
    rev = json.loads(rev_path.read_text())["calibration"] if rev_path.exists() else None
    rev_dom = None
    if rev_path.exists():
        per_domain = json.loads(rev_path.read_text())["per_domain"]
        rev_dom = {  # per domain: select_law's delta interval, the chosen default's, and it calibrated
            r["domain"]: {
                "select": r["coverage90_select"],
                "default": r["coverage90"],
                "calibrated": r["coverage90_cal"],
            }
            for r in per_domain
        }
    result = {
        "hitchhiker_per_set": res.to_dict(orient="records"),
        "hitchhiker_pooled": {f"{m}-{k}": float(v) for (m, k), v in pooled.items()},
        "hitchhiker_group_mean": {f"{m}-{k}": float(by_group[(m, k)].mean()) for m, k in VARIANTS},
        "revisiting": rev,
        "revisiting_per_domain": rev_dom,
        "seconds": time.perf_counter() - t0,
        "machine": machine(),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "calibration.json").write_text(json.dumps(result, indent=2, default=str))

    heads = [f"{m} / {k}" for m, k in VARIANTS]
    lines = [
        "# Calibration: share of held-out targets inside the 90% interval",
        "",
        "Hitchhiker's Guide track A (default policy; chinchilla law; 'mean' = interval of the mean law, "
        "'new' = interval for a new run):",
        "",
        "| group | " + " | ".join(heads) + " |",
        "|---|" + "---:|" * len(heads),
    ]
    for g, r in by_group.iterrows():
        lines.append(f"| {g} | " + " | ".join("-" if pd.isna(r[v]) else f"{100 * r[v]:.1f}%" for v in VARIANTS) + " |")
    lines.append("| **mean of groups** | " + " | ".join(f"{100 * by_group[v].mean():.1f}%" for v in VARIANTS) + " |")
    lines.append("| **pooled targets** | " + " | ".join(f"{100 * pooled[v]:.1f}%" for v in VARIANTS) + " |")
    if rev:
        lines += [
            "",
            "Revisiting Neural Scaling Laws (90% new-run intervals; per domain, mean over its curves):",
            "",
            f"- `select_law`'s law per curve, delta method: {100 * rev['pooled_share_inside']:.1f}% of "
            f"{rev['n_points']} held-out points inside, {100 * rev['curve_mean_share']:.1f}% averaged over "
            "curves; " + ", ".join(f"{d} {100 * v['select']:.1f}%" for d, v in rev_dom.items()) + ";",
            f"- the chosen default ({rev['chosen_default']}), uncalibrated: "
            f"{100 * rev['chosen_curve_mean_share']:.1f}% averaged over curves; "
            + ", ".join(f"{d} {100 * v['default']:.1f}%" for d, v in rev_dom.items())
            + ";",
            f"- the chosen default calibrated: {100 * rev['chosen_calibrated_curve_mean_share']:.1f}%; "
            + ", ".join(f"{d} {100 * v['calibrated']:.1f}%" for d, v in rev_dom.items())
            + ".",
        ]
    lines += [
        "",
        "Command: `python bench/calibration.py` (after `python bench/revisiting.py`)",
        "",
        f"Machine: {machine()}",
    ]
    (OUT / "calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
