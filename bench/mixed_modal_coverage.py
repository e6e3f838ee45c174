"""Coverage of the mixed-modal intervals (both stages) on simulated ladders with known truth.

``simulate_mixed_modal`` (Aghajanyan et al. 2023's forms): two Chinchilla unimodal laws and the
bimodal interaction law with C = 0.12, A = 6, alpha = 0.35, B = 5, beta = 0.3; 6 sizes (2e4-2e6)
x 5 unimodal budgets per modality and 6 sizes x 5 joint budgets on a 50/50 mixture (90 runs),
0.3% log-normal noise on every loss.  ``mixed_modal`` with a run bootstrap through both stages.
Counts the share of data sets whose 90% intervals hold the truth (target 80-97%) for the five
interaction parameters, the unimodal exponents, and the competition barrier N*(D) at three totals.

    python bench/mixed_modal_coverage.py [--sets 200] [--resamples 100]

Writes bench/results/mixed_modal_coverage.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import numpy as np  # noqa: E402

from scalinglab.analyze.mixed_modal import mixed_modal, simulate_mixed_modal  # noqa: E402
from scalinglab.laws._multimodal import competition_barrier  # noqa: E402

JOINT = {"C": 0.12, "A": 6.0, "alpha": 0.35, "B": 5.0, "beta": 0.3}
UNI = {
    "code": {"E": 0.6, "A": 30.0, "alpha": 0.35, "B": 60.0, "beta": 0.3},
    "text": {"E": 0.9, "A": 20.0, "alpha": 0.3, "B": 40.0, "beta": 0.28},
}
D_BARRIER = (1.3e6, 3.2e6, 8e6)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=200)
    ap.add_argument("--resamples", type=int, default=100)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "mixed_modal_coverage"))
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    true_barrier = competition_barrier(np.array(D_BARRIER), **JOINT)
    keys = list(JOINT) + [f"{m}.{p}" for m in UNI for p in ("alpha", "beta")]
    truth = dict(JOINT) | {f"{m}.{p}": UNI[m][p] for m in UNI for p in ("alpha", "beta")}
    hits = {k: 0 for k in keys}
    bhits = np.zeros(len(D_BARRIER))
    est = {k: [] for k in JOINT}
    width = {k: [] for k in JOINT}
    failed_draws = []
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(a.sets):
        df = simulate_mixed_modal(unimodal=UNI, joint=JOINT, seed=20_000 + s)
        r = mixed_modal(df, ("code", "text"), n_resamples=a.resamples, seed=s)
        for k in keys:
            lo, hi = r.intervals[k]
            hits[k] += int(lo <= truth[k] <= hi)
        for k in JOINT:
            est[k].append(r.joint[k])
            width[k].append(r.intervals[k][1] - r.intervals[k][0])
        b = r.barrier(np.array(D_BARRIER))
        bhits += ((b["lower"] <= true_barrier) & (true_barrier <= b["upper"])).to_numpy()
        failed_draws.append(r.n_failed / (r.n_failed + r.n_draws))
        if (s + 1) % 20 == 0 or s + 1 == a.sets:
            print(f"{s + 1} sets, {time.process_time() - c0:.0f} CPU-s", file=sys.stderr, flush=True)
            lines = report(a, s + 1, keys, truth, hits, bhits, est, width, failed_draws, true_barrier, t0, c0)
    print("\n".join(lines))


def report(a, n_sets, keys, truth, hits, bhits, est, width, failed_draws, true_barrier, t0, c0) -> list[str]:
    """Write the results so far (the benchmark rewrites them every 20 sets) and return the markdown lines."""
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    cov = {k: hits[k] / n_sets for k in keys}
    bcov = {f"{d:.3g}": float(h / n_sets) for d, h in zip(D_BARRIER, bhits)}
    res = {
        "sets": n_sets,
        "sets_requested": a.sets,
        "resamples": a.resamples,
        "truth_joint": JOINT,
        "truth_unimodal": UNI,
        "coverage": cov,
        "barrier_truth": {f"{d:.3g}": float(n) for d, n in zip(D_BARRIER, true_barrier)},
        "barrier_coverage": bcov,
        "median_estimate": {k: float(np.median(v)) for k, v in est.items()},
        "median_interval_width": {k: float(np.median(v)) for k, v in width.items()},
        "mean_failed_draw_share": float(np.mean(failed_draws)),
        "cpu_s": round(cpu, 1),
        "wall_s": round(wall, 1),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores",
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out + ".json").write_text(json.dumps(res, indent=2))
    inside = [k for k in keys if 0.80 <= cov[k] <= 0.97] + [d for d, c in bcov.items() if 0.80 <= c <= 0.97]
    outside = [k for k in keys if not 0.80 <= cov[k] <= 0.97] + [
        f"barrier at D={d}" for d, c in bcov.items() if not 0.80 <= c <= 0.97
    ]
    lines = [
        "# Mixed-modal interval coverage (nominal 90%, target 80-97%)",
        "",
        f"`python bench/mixed_modal_coverage.py --sets {a.sets} --resamples {a.resamples}`"
        + ("" if n_sets == a.sets else f" (partial: {n_sets} of {a.sets} sets done)"),
        "",
        f"{n_sets} simulated ladders (6 sizes x 5 budgets per modality and 6 sizes x 5 joint budgets, 0.3% noise), "
        f"{a.resamples} bootstrap draws through both stages each.",
        "",
        "| quantity | truth | median estimate | median 90% width | coverage |",
        "|---|---:|---:|---:|---:|",
    ]
    for k in keys:
        med = f"{np.median(est[k]):.4g}" if k in est else ""
        wid = f"{np.median(width[k]):.3g}" if k in width else ""
        lines.append(f"| {k} | {truth[k]:g} | {med} | {wid} | {cov[k]:.1%} |")
    for (d, c), n in zip(bcov.items(), true_barrier):
        lines.append(f"| barrier N*(D = {d}) | {n:.4g} | | | {c:.1%} |")
    lines += [
        "",
        f"Inside the target: {len(inside)} of {len(keys) + len(bcov)}"
        + (f"; outside: {', '.join(outside)}" if outside else "")
        + f". Failed bootstrap refits: {np.mean(failed_draws):.1%} of draws on average (dropped).",
        f"{cpu:.0f} CPU-s, {wall:.0f} s wall; {res['machine']}.",
    ]
    Path(a.out + ".md").write_text("\n".join(lines) + "\n")
    return lines


if __name__ == "__main__":
    main()
