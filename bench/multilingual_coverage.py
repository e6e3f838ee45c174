"""Multilingual mixtures on simulated data with known truth: interval coverage and the exponent test.

No public multilingual table exists, so every data set is drawn from the law itself:
``simulate_multilingual`` (3 language pairs, 5 mixtures -- uniform, one pair at 0.6, and a
bilingual model of the first pair -- each trained at 5 sizes 1e7-1e9; f(w) = w^gamma;
truth alpha 0.28 for every pair, gamma 0.7 / 0.5 / 0.85, Gaussian loss noise 0.003).

``--part coverage``: ``multilingual(..., test=False)`` with run-bootstrap draws; share of the
90% intervals holding the truth (target 80-97%) for alpha, gamma, the effective fraction
f(0.2) and the loss at (w = 0.5, N = 3e9), over every pair.

``--part test``: the exponent test (shared exponent vs an exponent per weight, Huber-objective
drop calibrated by ``--null`` parametric-bootstrap data sets): its rejection rate at 0.05 on
``--sets`` data sets drawn under the paper's finding (the false-positive rate), and on
``--power-sets`` data sets whose exponent moves with the weight (alpha + shift (w - 1/3)).

    python bench/multilingual_coverage.py --part coverage [--sets 200] [--resamples 200]
    python bench/multilingual_coverage.py --part test [--sets 200] [--null 19] [--power-sets 50]
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

from scalinglab.analyze.multilingual import TRUTH, exponent_test, multilingual, simulate_multilingual

HERE = Path(__file__).parent / "results"
MACHINE = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def coverage(a) -> dict:
    hits = {q: 0 for q in ("alpha", "gamma", "fraction_0.2", "loss_w0.5_N3e9")}
    per_pair = {p: dict.fromkeys(hits, 0) for p in TRUTH}
    n = 0
    c0 = time.process_time()
    for s in range(a.sets):
        d = simulate_multilingual(seed=1000 + s)
        r = multilingual(d, test=False, weights=[0.2], n_resamples=a.resamples, seed=s)
        est = r.estimates
        for pair, t in TRUTH.items():
            e = est[est["pair"] == pair].set_index("quantity")
            eff = r.effective[r.effective["pair"] == pair].iloc[0]
            pr = r.predict(pair, 0.5, 3e9).iloc[0]
            true_L = t["L_inf"] + t["beta"] * (0.5 ** t["g"] * 3e9) ** (-t["alpha"])
            checks = {
                "alpha": (e.loc["alpha", "lower"], e.loc["alpha", "upper"], t["alpha"]),
                "gamma": (e.loc["gamma", "lower"], e.loc["gamma", "upper"], t["g"]),
                "fraction_0.2": (eff["lower"], eff["upper"], 0.2 ** t["g"]),
                "loss_w0.5_N3e9": (pr["lower"], pr["upper"], true_L),
            }
            for q, (lo, hi, v) in checks.items():
                ok = int(lo <= v <= hi)
                hits[q] += ok
                per_pair[pair][q] += ok
        n += 1
        if n % 10 == 0 and n < a.sets:  # partial results survive an interrupted run
            save(a, _cov_out(a, hits, per_pair, n, c0))
    return _cov_out(a, hits, per_pair, n, c0)


def _cov_out(a, hits, per_pair, n, c0) -> dict:
    return {
        "part": "coverage",
        "sets": n,
        "sets_planned": a.sets,
        "resamples": a.resamples,
        "coverage_90": {q: h / (n * len(TRUTH)) for q, h in hits.items()},
        "coverage_90_per_pair": {p: {q: h / n for q, h in d.items()} for p, d in per_pair.items()},
        "cpu_s": round(time.process_time() - c0, 1),
        "machine": MACHINE,
        "command": f"python bench/multilingual_coverage.py --part coverage --sets {a.sets} --resamples {a.resamples}",
    }


def test(a) -> dict:
    c0 = time.process_time()
    null_p = []
    for s in range(a.sets):
        null_p.append(exponent_test(simulate_multilingual(seed=3000 + s), n_null=a.null, seed=s)["p_value"])
        if len(null_p) % 10 == 0:
            save(a, _test_out(a, np.asarray(null_p), {}, c0))
    power = {}
    for shift in (0.1, 0.2):
        ps = [
            exponent_test(simulate_multilingual(seed=7000 + s, exponent_shift=shift), n_null=a.null, seed=s)["p_value"]
            for s in range(a.power_sets)
        ]
        power[str(shift)] = float(np.mean(np.asarray(ps) <= 0.05))
    return _test_out(a, np.asarray(null_p), power, c0)


def _test_out(a, null_p, power, c0) -> dict:
    k = int(np.sum(null_p <= 0.05))
    # 95% Wilson interval of the false-positive rate
    z, n = 1.96, max(null_p.size, 1)  # --sets 0: power only
    ph = k / n
    c = (ph + z * z / (2 * n)) / (1 + z * z / n)
    h = z * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {
        "part": "test",
        "null_sets": int(null_p.size),
        "null_sets_planned": a.sets,
        "n_null": a.null,
        "false_positive_rate_at_0.05": ph,
        "false_positive_rate_95ci": [float(c - h), float(c + h)],
        "rejection_rate_at_0.10": float(np.mean(null_p <= 0.10)) if null_p.size else None,
        "power_sets": a.power_sets,
        "power_at_0.05_by_shift": power,
        "cpu_s": round(time.process_time() - c0, 1),
        "machine": MACHINE,
        "command": f"python bench/multilingual_coverage.py --part test --sets {a.sets} --null {a.null} "
        f"--power-sets {a.power_sets}",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("coverage", "test"), required=True)
    ap.add_argument("--sets", type=int, default=200)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--null", type=int, default=19)
    ap.add_argument("--power-sets", type=int, default=50)
    ap.add_argument("--out", default=str(HERE / "multilingual_coverage"))
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    out = coverage(a) if a.part == "coverage" else test(a)
    print(json.dumps(out, indent=1))
    save(a, out)


def save(a, out: dict) -> None:
    path = Path(f"{a.out}_{a.part}")
    path.with_suffix(".json").write_text(json.dumps(out, indent=1))
    if a.part == "coverage":
        lines = [
            "# Multilingual mixtures: 90% interval coverage on simulated data (known truth)",
            "",
            f"`{out['command']}`; {out['machine']}; {out['cpu_s']} s CPU; {out['sets']} of {a.sets} data sets done.",
            "Data drawn from the law (no public multilingual table exists); f(w) = w^gamma in truth and fit.",
            "",
            "| quantity | coverage (all pairs) | " + " | ".join(TRUTH) + " |",
            "|---|---|" + "---|" * len(TRUTH),
        ]
        for q, v in out["coverage_90"].items():
            lines.append(
                f"| {q} | {v:.1%} | " + " | ".join(f"{out['coverage_90_per_pair'][p][q]:.1%}" for p in TRUTH) + " |"
            )
    else:
        lo, hi = out["false_positive_rate_95ci"]
        lines = [
            "# Multilingual exponent test: false-positive rate and power (simulated data)",
            "",
            f"`{out['command']}`; {out['machine']}; {out['cpu_s']} s CPU.",
            "",
            f"- false-positive rate at 0.05: {out['false_positive_rate_at_0.05']:.1%} of {out['null_sets']} null "
            f"data sets (95% interval {lo:.1%}..{hi:.1%}); at 0.10: {out['rejection_rate_at_0.10'] or 0:.1%}",
        ]
        if not out["null_sets"] or out["rejection_rate_at_0.10"] is None:
            lines = lines[:-1]
        lines += [
            f"- power at 0.05 with alpha + {s} (w - 1/3): {p:.1%} of {out['power_sets']} data sets"
            for s, p in out["power_at_0.05_by_shift"].items()
        ]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
