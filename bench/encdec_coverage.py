"""Encoder/decoder analysis on simulated data with known truth: interval coverage and the stall check.

No public encoder/decoder grid or BLEU table exists, so every data set is drawn from the law
itself: ``simulate_encdec`` (6 encoder-scaling runs at a 1.6e8-parameter decoder and 6
decoder-scaling runs at a 1.6e8 encoder, 2e7-6.4e8 parameters, Gaussian loss noise 0.003 as in
Ghorbani et al. 2021; truth L_inf 0.8, A 7.5e4, pe 0.25, pd 0.35) with a BLEU column from the
exponential link (100 (1 - eps + k exp(-gamma L)), eps 1, k 2, gamma 1.2, 0.3 BLEU noise).
``encdec(..., params=1e9, metric="bleu")`` with run-bootstrap draws; counts the share of data
sets whose 90% intervals hold the truth (target 80-97%) for pe, pd, the split pe/pd, the
exponent pe + pd, the loss at the best split of 1e9 parameters and the BLEU there.  The stall
check is run on 200 links without a stall (false alarms) and 200 stalled at loss 1.75.

    python bench/encdec_coverage.py [--sets 200] [--resamples 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np

from scalinglab.analyze.encdec import BLEU_TRUTH, TRUTH, encdec, simulate_encdec, stall_check
from scalinglab.laws import get_law

B = 1e9


def truth_values() -> dict:
    lw = get_law("nmt_encdec")
    share = TRUTH["pe"] / (TRUTH["pe"] + TRUTH["pd"])
    L = float(lw(Ne=share * B, Nd=(1 - share) * B, **TRUTH))
    b = BLEU_TRUTH
    return {
        "pe": TRUTH["pe"],
        "pd": TRUTH["pd"],
        "optimal_split": TRUTH["pe"] / TRUTH["pd"],
        "proportional_exponent": TRUTH["pe"] + TRUTH["pd"],
        "loss_at_best_split_1e9": L,
        "bleu_at_best_split_1e9": 100 * (1 - b["eps"] + b["k"] * np.exp(-b["gamma"] * L)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", type=int, default=200)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "encdec_coverage"))
    ap.add_argument("--stall-only", action="store_true", help="only the stall check's rates (results *_stall.json)")
    a = ap.parse_args()
    if a.stall_only:
        fa, pw = stall_rates(a.sets)
        out = {
            "sets": a.sets,
            "stall_false_alarm_rate": fa,
            "stall_detection_rate_at_1.75": pw,
            "command": f"python bench/encdec_coverage.py --stall-only --sets {a.sets}",
        }
        print(json.dumps(out, indent=1))
        Path(a.out + "_stall.json").write_text(json.dumps(out, indent=1))
        return
    warnings.simplefilter("ignore")
    truth = truth_values()
    hits = {k: 0 for k in truth}
    width = {k: [] for k in truth}
    c0, t0 = time.process_time(), time.perf_counter()
    done = 0
    for s in range(a.sets):
        d = simulate_encdec(seed=1000 + s, bleu=BLEU_TRUTH)
        r = encdec(d, params=[B], metric="bleu", n_resamples=a.resamples, seed=s)
        est = r.estimates.set_index("quantity")
        row = r.split.iloc[0]
        pred = r.bleu["predictions"][0]
        iv = {
            k: (est.loc[k, "lower"], est.loc[k, "upper"])
            for k in ("pe", "pd", "optimal_split", "proportional_exponent")
        }
        iv["loss_at_best_split_1e9"] = (row["loss_lower"], row["loss_upper"])
        iv["bleu_at_best_split_1e9"] = (pred["score_lower"], pred["score_upper"])
        for k, (lo, hi) in iv.items():
            hits[k] += int(lo <= truth[k] <= hi)
            width[k].append(hi - lo)
        done += 1
        if done % 10 == 0 and done < a.sets:  # partial results survive an interrupted run
            write(a, truth, hits, width, done, time.process_time() - c0, t0, None)
    c_cov = time.process_time() - c0
    write(a, truth, hits, width, done, c_cov, t0, stall_rates(a.sets))


def stall_rates(sets: int) -> tuple[float, float]:
    """Share of links flagged as stalled: without a stall (false alarms) and stalled below loss 1.75."""
    false_alarm = power = 0
    for s in range(sets):
        ok = simulate_encdec(seed=5000 + s, bleu=BLEU_TRUTH)
        st = simulate_encdec(seed=5000 + s, bleu=BLEU_TRUTH, stall_loss=1.75)
        false_alarm += int(bool(stall_check(ok["loss"], ok["bleu"], seed=s)["stalled"]))
        power += int(bool(stall_check(st["loss"], st["bleu"], seed=s)["stalled"]))
    return false_alarm / sets, power / sets


def write(a, truth, hits, width, done, c_cov, t0, stall) -> None:
    out = {
        "sets": done,
        "sets_planned": a.sets,
        "resamples": a.resamples,
        "truth": truth,
        "coverage_90": {k: hits[k] / done for k in truth},
        "median_width": {k: float(np.median(width[k])) for k in truth},
        "stall_false_alarm_rate": None if stall is None else stall[0],
        "stall_detection_rate_at_1.75": None if stall is None else stall[1],
        "cpu_s_coverage": round(c_cov, 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": f"python bench/encdec_coverage.py --sets {a.sets} --resamples {a.resamples}",
    }
    if stall is not None:
        print(json.dumps(out, indent=1))
    Path(a.out + ".json").write_text(json.dumps(out, indent=1))
    lines = [
        "# Encoder/decoder NMT: interval coverage on simulated data (known truth)",
        "",
        f"`{out['command']}`; {out['machine']}; {out['cpu_s_coverage']} s CPU for the coverage part; "
        f"{done} of {a.sets} data sets done.",
        "Data drawn from the law (no public encoder/decoder grid or BLEU table exists).",
        "",
        "| quantity | truth | 90% coverage | median interval width |",
        "|---|---|---|---|",
    ]
    lines += [f"| {k} | {truth[k]:.4g} | {out['coverage_90'][k]:.1%} | {out['median_width'][k]:.3g} |" for k in truth]
    if stall is not None:
        lines += [
            "",
            f"Stall check: false alarms {stall[0]:.1%} on {a.sets} links without a stall; "
            f"detected {stall[1]:.1%} of {a.sets} links stalled below loss 1.75.",
        ]
    Path(a.out + ".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
