"""Many independent fits: the 280 Hitchhiker subsets through ``fit_many`` vs a loop of fits vs a scipy loop.

Subsets (28 scaled sets x 10 training fractions): every scaled set of the Hitchhiker data
(``loss_curves_unified.csv``, column ``loss_colpret``, repeated evaluations averaged), and for
p in {0.1, ..., 1.0} its checkpoints after the first 10B tokens (the protocol's cut) with
tokens <= p x the set's largest token count, every model kept.  Each subset is one Chinchilla fit with the defaults (Huber 1e-3 on log-loss).
Sizes range from a handful of points to several thousand; a subset with too few points is
a recorded failure in every method.

Compared, CPU time (``time.process_time``, one BLAS/OpenMP thread via the environment),
medians of interleaved repeats:

* ``fit_many(jobs)`` on the serial backend (vectorised: one stacked refinement), each subset a
  DataFrame (so each is read and checked by ``read_runs``, as a new table);
* ``fit_many`` on subsets of one validated table per scaled set: ``read_runs`` once per set
  (timed), then ``RunsTable.subset`` per fraction (rows of a checked table are not checked again);
* a Python loop of ``fit()`` (what a batch cost before);
* scipy: per subset, L-BFGS-B with the analytic gradient from 60 random points of the
  4,500-point grid (``bench/_baselines.py``), best kept;
* optionally the loop of ``fit()`` of an older checkout (``--before-src path/to/src``), in a
  subprocess, for "today's fits per second".

Optima: for every subset both solvers' summed Huber objectives are compared; a subset counts
as worse when ours exceeds scipy's by more than 1e-9 relative while scipy's optimum is inside
our bounds (alpha, beta <= 3).

Run:  python bench/batch_speed.py [--repeats 5] [--before-src DIR]
Writes bench/results/batch_speed.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, before numpy loads
    os.environ[_var] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import _baselines as B  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", ROOT.parent / "shared"))
DATA = SHARED / "data" / "hitchhiker" / "derived" / "loss_curves_unified.csv"
OUT = ROOT / "bench" / "results"
FRACTIONS = [round(0.1 * k, 1) for k in range(1, 11)]


def scaled_sets() -> list[tuple[str, pd.DataFrame]]:
    """Each scaled set's checkpoints after the first 10B tokens (repeated evaluations averaged)."""
    d = pd.read_csv(DATA)
    d = d.rename(columns={"model_name": "run", "num_params": "params", "tokens_seen": "tokens", "loss_colpret": "loss"})
    d = d.groupby(["scaled_set", "run", "params", "tokens"], as_index=False)["loss"].mean()
    d = d[d["tokens"] > 1e10]
    return [
        (name, g[["run", "params", "tokens", "loss"]].reset_index(drop=True)) for name, g in d.groupby("scaled_set")
    ]


def subsets() -> list[tuple[str, pd.DataFrame]]:
    out = []
    for name, g in scaled_sets():
        T = g["tokens"].max()
        for p in FRACTIONS:
            out.append((f"{name}@{p:.1f}", g[g["tokens"] <= p * T].reset_index(drop=True)))
    return out


def validated_jobs(sets: list[tuple[str, pd.DataFrame]]) -> list:
    """The same subsets (order of :func:`subsets`) as rows of one validated table per scaled set."""
    import scalinglab as sl

    jobs = []
    for _, g in sets:
        runs = sl.read_runs(g)
        tokens = runs.frame["tokens"].to_numpy()
        jobs += [(runs.subset(tokens <= p * tokens.max()), "chinchilla") for p in FRACTIONS]
    return jobs


def _loop(frames):
    import scalinglab as sl

    res = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in frames:
            try:
                res.append(sl.fit(f, "chinchilla").objective)
            except Exception:
                res.append(np.nan)
    return res


def before_rate(src: str, repeats: int) -> dict:
    """Fits per CPU second of an older checkout's loop of fit(), measured in a subprocess."""
    code = (
        (
            "import sys, time, numpy as np; sys.path.insert(0, %r); import batch_speed as b; "
            "fr = [f for _, f in b.subsets()]; b._loop(fr[:3]); ts = []\n"
            "for _ in range(%d):\n t = time.process_time(); b._loop(fr); ts.append(time.process_time() - t)\n"
            "print(float(np.median(ts)))"
        )
        .replace("%r", repr(str(Path(__file__).resolve().parent)))
        .replace("%d", str(repeats))
    )
    env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return {"seconds": float(out.stdout.strip().splitlines()[-1]), "src": src}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--before-src", default=None, help="src/ of an older checkout, timed in a subprocess")
    args = ap.parse_args()
    import scalinglab as sl
    from scalinglab.fit import fit_many

    subs = subsets()
    frames = [f for _, f in subs]
    jobs = [(f, "chinchilla") for f in frames]
    grid = B.hoffmann_grid()
    starts = grid[np.random.default_rng(0).choice(len(grid), 60, replace=False)]
    logs = [
        (np.log(f["params"].to_numpy()), np.log(f["tokens"].to_numpy()), np.log(f["loss"].to_numpy())) for f in frames
    ]

    def scipy_loop():
        res = []
        for f, (lN, lD, lL) in zip(frames, logs):
            if len(f) < 6:
                res.append((np.nan, None))
                continue
            best, x, _ = B.scipy_fit(starts, lN, lD, lL)
            res.append((best, x))
        return res

    def ours_many():
        return fit_many(jobs)

    sets = scaled_sets()

    def ours_validated():
        return fit_many(validated_jobs(sets))

    fit_many(jobs[:5])  # warm-up
    times, last = B.cpu_median(
        {
            "fit_many": ours_many,
            "fit_many, one validated table per set": ours_validated,
            "loop of fit()": lambda: _loop(frames),
            "scipy loop (60 starts)": scipy_loop,
        },
        args.repeats,
    )
    outcomes = last["fit_many"]
    loop_obj = np.array(last["loop of fit()"])
    ours = np.array([o.value.objective if o.ok else np.nan for o in outcomes])
    sc = last["scipy loop (60 starts)"]
    sc_obj = np.array([s[0] for s in sc])
    inside = np.array([s[1] is not None and 0 <= s[1][3] <= 3 and 0 <= s[1][4] <= 3 for s in sc])
    both = np.isfinite(ours) & np.isfinite(sc_obj)
    rel = np.where(both, (ours - sc_obj) / np.where(both, sc_obj, 1.0), np.nan)
    worse = both & inside & (rel > 1e-9)
    better = both & (rel < -1e-9)
    same_as_loop = np.nanmax(np.abs(ours - loop_obj) / loop_obj)
    validated = np.array([o.value.objective if o.ok else np.nan for o in last["fit_many, one validated table per set"]])
    same_as_validated = np.nanmax(np.abs(ours - validated) / ours)
    n_ok = int(np.isfinite(ours).sum())
    before = before_rate(args.before_src, max(1, min(args.repeats, 3))) if args.before_src else None
    result = {
        "subsets": len(subs),
        "fitted": n_ok,
        "failed": len(subs) - n_ok,
        "points": {
            "min": int(min(len(f) for f in frames)),
            "median": int(np.median([len(f) for f in frames])),
            "max": int(max(len(f) for f in frames)),
        },
        "cpu_seconds_median": times,
        "repeats": args.repeats,
        "fits_per_second": {k: len(subs) / v for k, v in times.items()},
        "before": before,
        "ratio_fit_many_vs_loop": times["loop of fit()"] / times["fit_many"],
        "ratio_fit_many_vs_scipy": times["scipy loop (60 starts)"] / times["fit_many"],
        "ratio_validated_vs_scipy": times["scipy loop (60 starts)"] / times["fit_many, one validated table per set"],
        "max_rel_diff_validated_vs_fit_many": float(same_as_validated),
        "ratio_fit_many_vs_before": (before["seconds"] / times["fit_many"]) if before else None,
        "max_rel_diff_fit_many_vs_loop": float(same_as_loop),
        "subsets_worse_than_scipy": int(worse.sum()),
        "subsets_better_than_scipy": int(better.sum()),
        "scipy_optimum_outside_bounds": int((both & ~inside).sum()),
        "worse_list": [subs[i][0] for i in np.flatnonzero(worse)],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "threads": "OMP/OPENBLAS/MKL_NUM_THREADS=1 (environment)",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "batch_speed.json").write_text(json.dumps(result, indent=1))
    lines = [
        "# Batches of independent fits: 280 Hitchhiker subsets",
        "",
        f"{len(subs)} subsets ({n_ok} fitted, {len(subs) - n_ok} failed alike: too few points), "
        f"{result['points']['min']}-{result['points']['max']} points (median {result['points']['median']}); "
        f"CPU seconds, median of {args.repeats} interleaved repeats, one thread.",
        "",
        "| method | CPU s | fits / s |",
        "|---|---:|---:|",
    ]
    for k, v in times.items():
        lines.append(f"| {k} | {v:.2f} | {len(subs) / v:.1f} |")
    if before:
        lines.append(
            f"| loop of fit(), before (`{before['src']}`) | {before['seconds']:.2f} | "
            f"{len(subs) / before['seconds']:.1f} |"
        )
    lines += [
        "",
        f"fit_many vs loop of fit(): {result['ratio_fit_many_vs_loop']:.1f}x; vs scipy loop: "
        f"{result['ratio_fit_many_vs_scipy']:.1f}x; on one validated table per set: "
        f"{result['ratio_validated_vs_scipy']:.1f}x the scipy loop"
        + (f"; vs before: {result['ratio_fit_many_vs_before']:.1f}x" if before else "")
        + ".",
        f"The validated-table subsets end at the same optima as the DataFrame subsets to {same_as_validated:.1e}.",
        f"Optima: fit_many equals the loop of fit() to {same_as_loop:.1e} relative; worse than scipy on "
        f"{int(worse.sum())} subsets, better on {int(better.sum())} (scipy's optimum outside our bounds on "
        f"{int((both & ~inside).sum())}).",
        "",
        f"Command: `python bench/batch_speed.py --repeats {args.repeats}"
        + (" --before-src <older checkout>/src" if before else "")
        + "`",
    ]
    (OUT / "batch_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("scalinglab", sl.__file__)


if __name__ == "__main__":
    main()
