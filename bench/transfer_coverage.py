"""Coverage of the transfer and infogain intervals on simulated data with known truth.

Transfer: ``simulate_transfer`` (a Chinchilla from-scratch law, 4 sizes x 6 scratch budgets and
4 sizes x 6 fine-tuning budgets, D_T = k D_F^alpha N^beta, 1% log-normal noise on every loss);
``transfer(..., law="chinchilla")`` with 200 scratch-law bootstrap draws each paired with a
resample of the fine-tuned runs.  Infogain and mutual information: ``simulate_information``
(9 models, 1e6-1e10 parameters, infogain or I exactly lambda ln(N/N_c), 0.2% noise on both
losses); ``mutual_information`` t intervals.  Counts the share of data sets whose 90% intervals
hold the truth (target 80-97%).

    python bench/transfer_coverage.py [--sets 200] [--resamples 200]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from scalinglab.analyze.information import mutual_information, simulate_information
from scalinglab.analyze.transfer import simulate_transfer, transfer

TRUTH = {"k": 50.0, "alpha": 0.5, "beta": 0.3}
INFO = {"lam": 0.02, "Nc": 3e5}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=200)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "transfer_coverage"))
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    t0, c0 = time.perf_counter(), time.process_time()
    hits = {k: 0 for k in TRUTH}
    done = 0
    est = {k: [] for k in TRUTH}
    for s in range(a.sets):
        df = simulate_transfer(**TRUTH, seed=1000 + s)
        r = transfer(df, law="chinchilla", n_resamples=a.resamples, seed=s)
        if r.params is None:
            continue
        done += 1
        for k, v in TRUTH.items():
            lo, hi = r.intervals[k]
            hits[k] += int(lo <= v <= hi)
            est[k].append(r.params[k])
    t_transfer = time.process_time() - c0
    info = {}
    for exact, col in (("infogain", "infogain_fit"), ("mi", "mi_fit")):
        h_l = h_n = 0
        for s in range(a.sets):
            r = mutual_information(simulate_information(lam=INFO["lam"], Nc=INFO["Nc"], exact=exact, seed=5000 + s))
            f = getattr(r, col)
            h_l += int(f.lam_interval[0] <= INFO["lam"] <= f.lam_interval[1])
            h_n += int(f.Nc_interval[0] <= INFO["Nc"] <= f.Nc_interval[1])
        info[exact] = {"lambda": h_l / a.sets, "N_c": h_n / a.sets}
    res = {
        "sets": a.sets,
        "resamples": a.resamples,
        "transfer_fitted": done,
        "transfer_coverage": {k: hits[k] / max(done, 1) for k in TRUTH},
        "transfer_median_estimate": {k: float(np.median(v)) for k, v in est.items()},
        "truth": TRUTH,
        "information_truth": INFO,
        "information_coverage": info,
        "cpu_s_transfer": round(t_transfer, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out + ".json").write_text(json.dumps(res, indent=2))
    lines = [
        "# Transfer and infogain interval coverage (nominal 90%, target 80-97%)",
        "",
        f"`python bench/transfer_coverage.py --sets {a.sets} --resamples {a.resamples}`",
        "",
        "| quantity | truth | coverage |",
        "|---|---:|---:|",
    ]
    for k, v in TRUTH.items():
        lines.append(f"| transfer {k} | {v:g} | {res['transfer_coverage'][k]:.1%} |")
    for exact, c in info.items():
        lines.append(f"| {exact} lambda | {INFO['lam']:g} | {c['lambda']:.1%} |")
        lines.append(f"| {exact} N_c | {INFO['Nc']:g} | {c['N_c']:.1%} |")
    lines += [
        "",
        f"{done} of {a.sets} transfer data sets fitted; {res['cpu_s_transfer']} CPU-s for the transfer "
        f"part, {res['wall_s']} s wall in all ({res['machine']}, shared machine).",
    ]
    Path(a.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
