"""``scalinglab.compare`` on synthetic arms with known exponents: false positives, power, crossover coverage.

Each simulated data set has two arms of ``--runs`` runs each (one final checkpoint per run, data
D log-spaced over 1e6..1e9), losses from ``L = E + (x0 / D)^alpha`` with multiplicative log-normal
noise (``--noise``, default 1%: the seed-to-seed spread of the bundled tinylm ladder is 1.3%).
The statistic is exactly :func:`scalinglab.compare`'s: each arm fitted with ``power_floor`` (Huber
on log loss), its runs bootstrapped (``--resamples`` per arm, refitted from the optimum with the
solver's batched Levenberg-Marquardt, 2,000 iterations at most, failed resamples dropped), then
:func:`scalinglab.analyze.compare.difference_test` (bootstrap se, Student t with
``(runs - 3) * 2`` df) and :func:`~scalinglab.analyze.compare.find_crossover`.  The only
difference from calling ``compare`` per data set is speed: the fits go through ``fit_many`` and
the resamples of many data sets are stacked into one solver call.

Measured:

1. false-positive rate at alpha = 0.05 on ``--null`` data sets with equal exponents (0.3) but
   different floors and scales (the null of the test is "same exponent", not "same curve");
2. power for exponent gaps 0.05, 0.1, 0.2 (``--power`` sets each);
3. coverage of the 90% crossover interval of the true crossover, for a crossover inside the data
   range (1e8) and one extrapolated past it (3e9, range up to 1e10) (``--coverage`` sets each).

Run (about 20-40 CPU-minutes at the defaults, nice'd and single-threaded)::

    OMP_NUM_THREADS=1 nice -n 15 python bench/compare_null.py
    python bench/compare_null.py --quick          # small version (seconds)
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import brentq  # noqa: E402
from scipy.stats import t as student_t  # noqa: E402

from scalinglab.analyze.compare import difference_test, find_crossover  # noqa: E402
from scalinglab.fit import FitJob, fit_many  # noqa: E402
from scalinglab.fit._solver import refine, stack_problems  # noqa: E402
from scalinglab.fit._uncertainty import resample_weights  # noqa: E402
from scalinglab.laws import get_law  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LAW = get_law("power_floor")
D_LO, D_HI = 1e6, 1e9


def curve(D, E, x0, alpha):
    return E + (x0 / D) ** alpha


def make_sets(n, rng, arm_a, arm_b, runs, noise):
    """``n`` data sets of two arms; each arm (E, x0, alpha)."""
    D = np.geomspace(D_LO, D_HI, runs)
    out = []
    for _ in range(n):
        frames = []
        for name, (E, x0, al) in (("a", arm_a), ("b", arm_b)):
            y = curve(D, E, x0, al) * np.exp(rng.normal(0, noise, runs))
            frames.append(pd.DataFrame({"run": [f"{name}{i}" for i in range(runs)], "tokens": D, "loss": y}))
        out.append(frames)
    return out


def batched_draws(fits, B, seed, max_iter=2000, chunk=200):
    """Bootstrap draws (B, P) per fit, NaN rows for failed resamples: :func:`scalinglab.fit.bootstrap`'s
    algorithm (resample runs, refit from the optimum), many fits stacked into one solver call."""
    out = []
    rng = np.random.default_rng(seed)
    for s in range(0, len(fits), chunk):
        part = fits[s : s + chunk]
        problems = [f.problem() for f in part]
        stack = stack_problems(problems, [B] * len(part))
        u0, W = [], np.zeros_like(stack.weights)
        for k, (f, pr) in enumerate(zip(part, problems)):
            theta = np.array([f.params[p] for p in pr.names])
            u0.append(np.repeat(pr.to_u(theta[None, :]), B, axis=0))
            W[k * B : (k + 1) * B, : pr.n] = resample_weights(f.data["run"].to_numpy(), B, rng)
        res = refine(stack, np.concatenate(u0), weights=stack.weights * W, max_iter=max_iter)
        ok = np.isfinite(res.objective) & res.converged & np.all(np.isfinite(res.u), axis=1)
        theta = stack.to_theta(res.u)
        theta[~ok] = np.nan
        for k in range(len(part)):
            out.append(pd.DataFrame(theta[k * B : (k + 1) * B], columns=problems[k].names))
    return out


def analyse(sets, B, seed, xs=None, x_true=None):
    """Fit both arms of every set, bootstrap, test alpha, find the crossover."""
    jobs = [
        FitJob(fr, "power_floor", {"x": "tokens"}, label=f"{i}{arm}")
        for i, s in enumerate(sets)
        for arm, fr in zip("ab", s)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = fit_many(jobs)
    fits = [o.value if o.ok else None for o in outs]
    ok_idx = [i for i in range(len(sets)) if fits[2 * i] is not None and fits[2 * i + 1] is not None]
    flat = [fits[2 * i + k] for i in ok_idx for k in (0, 1)]
    draws = batched_draws(flat, B, seed)
    rows = []
    for j, i in enumerate(ok_idx):
        fa, fb = flat[2 * j], flat[2 * j + 1]
        da, db = draws[2 * j], draws[2 * j + 1]
        good = da.notna().all(axis=1).to_numpy() & db.notna().all(axis=1).to_numpy()
        runs = fa.data["run"].nunique()
        t = difference_test(
            fa.params["alpha"] - fb.params["alpha"],
            da["alpha"].to_numpy()[good] - db["alpha"].to_numpy()[good],
            df=2 * (runs - 3),
        )
        p_std = float(2 * student_t.sf(abs(t["difference"]) / t["se_std"], t["df"]))
        row = {
            "set": i,
            "alpha_a": fa.params["alpha"],
            "alpha_b": fb.params["alpha"],
            "p": t["p_value"],
            "p_std": p_std,
            "d_hat": t["difference"],
            "se": t["se"],
            "se_std": t["se_std"],
            "lower": t["lower"],
            "upper": t["upper"],
            "resamples_ok": int(good.sum()),
        }
        if xs is not None:
            est = {"a": LAW.evaluate({"x": xs}, fa.params), "b": LAW.evaluate({"x": xs}, fb.params)}
            drw = {
                k: LAW.evaluate({"x": xs[None, :]}, {p: d[p].to_numpy()[good, None] for p in d.columns})
                for k, d in (("a", da), ("b", db))
            }
            c = find_crossover("a", "b", est, drw, xs, 0.9)
            lo = -np.inf if c["lower"] is None else c["lower"]
            hi = np.inf if c["upper"] is None else c["upper"]
            row.update(
                crosses=c["crosses"],
                x_hat=c["scale"],
                x_lower=c["lower"],
                x_upper=c["upper"],
                share=c["share_crossing"],
                covered=bool(lo <= x_true <= hi),
            )
        rows.append(row)
    return pd.DataFrame(rows), len(sets) - len(ok_idx)


def wilson(k, n, z=1.96):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return [float(c - h), float(c + h)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--null", type=int, default=1000)
    ap.add_argument("--power", type=int, default=200)
    ap.add_argument("--coverage", type=int, default=300)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="40 null, 20 power, 30 coverage sets, 100 resamples")
    ap.add_argument("--parts", default="null,power,coverage", help="which parts to run (comma-separated)")
    ap.add_argument("--merge", nargs="+", help="combine result files of separate runs (null counts add up)")
    ap.add_argument("--out", default=str(RESULTS / "compare_null.json"))
    args = ap.parse_args()
    if args.merge:
        merge(args.merge, args.out)
        return
    if args.quick:
        args.null, args.power, args.coverage, args.resamples = 40, 20, 30, 100
        args.out = str(Path(args.out).with_name("compare_null_quick.json"))
    rng = np.random.default_rng(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    report = {
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "law": "power_floor",
        "data": f"{args.runs} runs per arm, D log-spaced {D_LO:g}..{D_HI:g}, noise {args.noise:.0%} log-normal",
    }

    parts = set(args.parts.split(","))
    a = (1.5, 1e6, 0.3)
    if "null" in parts:
        run_null(report, args, rng, a)
    if "power" in parts:
        run_power(report, args, rng, a)
    if "coverage" in parts:
        run_coverage(report, args, rng)
    finish(report, args, t0, c0)


def run_null(report, args, rng, a):
    """Same exponent, different floor and scale."""
    b = (1.2, 3e6, 0.3)
    res, nfail = analyse(make_sets(args.null, rng, a, b, args.runs, args.noise), args.resamples, args.seed)
    k = int((res["p"] < 0.05).sum())
    report["null"] = {
        "arm_a": a,
        "arm_b": b,
        "sets": len(res),
        "sets_not_fitted": nfail,
        "rejections": k,
        "false_positive_rate": k / len(res),
        "wilson95": wilson(k, len(res)),
        "rate_at_0.10": float((res["p"] < 0.10).mean()),
        "median_resamples_ok": float(res["resamples_ok"].median()),
        "interval_covers_0": float(((res["lower"] <= 0) & (res["upper"] >= 0)).mean()),
        "rejections_with_std_se": int((res["p_std"] < 0.05).sum()),
        "sd_of_estimates": float(res["d_hat"].std(ddof=1)),
        "median_se_iqr": float(res["se"].median()),
        "median_se_std": float(res["se_std"].median()),
    }
    print(
        f"null: {k}/{len(res)} rejections at 0.05 = {k / len(res):.1%} "
        f"(std se: {report['null']['rejections_with_std_se']}) "
        f"(95% Wilson {report['null']['wilson95'][0]:.1%}-{report['null']['wilson95'][1]:.1%}); "
        f"at 0.10: {report['null']['rate_at_0.10']:.1%}",
        flush=True,
    )


def run_power(report, args, rng, a):
    report["power"] = []
    for gap in (0.05, 0.1, 0.2):
        bb = (1.2, 3e6, 0.3 + gap)
        res, nfail = analyse(make_sets(args.power, rng, a, bb, args.runs, args.noise), args.resamples, args.seed + 1)
        pw = float((res["p"] < 0.05).mean())
        pw_std = float((res["p_std"] < 0.05).mean())
        cover = float(((res["lower"] <= -gap) & (res["upper"] >= -gap)).mean())
        report["power"].append(
            {
                "gap": gap,
                "sets": len(res),
                "power": pw,
                "power_with_std_se": pw_std,
                "interval_covers_gap": cover,
                "sets_not_fitted": nfail,
            }
        )
        print(
            f"power: gap {gap}: {pw:.1%} of {len(res)} sets reject at 0.05 (std se: {pw_std:.1%}); "
            "90% interval covers the gap in "
            f"{cover:.1%}",
            flush=True,
        )


def run_coverage(report, args, rng):
    report["coverage"] = []
    al_b, E_b = 0.2, 1.2  # arm b: flatter exponent and lower floor; x0 solved so the curves cross at x_true
    for x_true, hi in ((1e8, 1e10), (3e9, 1e10)):
        ca = (1.5, 1e6, 0.3)
        x0_b = brentq(lambda lx, xt=x_true, a_=ca: curve(xt, E_b, 10**lx, al_b) - curve(xt, *a_), 0, 12)
        cb = (E_b, 10**x0_b, al_b)
        xs = np.geomspace(D_LO, hi, 96)
        res, nfail = analyse(
            make_sets(args.coverage, rng, ca, cb, args.runs, args.noise),
            args.resamples,
            args.seed + 2,
            xs=xs,
            x_true=x_true,
        )
        cov = float(res["covered"].mean())
        found = float(res["crosses"].mean())
        width = np.log10(res["x_upper"].astype(float) / res["x_lower"].astype(float))
        report["coverage"].append(
            {
                "x_true": x_true,
                "range": [D_LO, hi],
                "arm_a": ca,
                "arm_b": cb,
                "sets": len(res),
                "coverage": cov,
                "wilson95": wilson(int(res["covered"].sum()), len(res)),
                "estimate_crosses": found,
                "open_intervals": float(res["x_upper"].isna().mean() + res["x_lower"].isna().mean()),
                "median_width_decades": float(np.nanmedian(width)),
                "median_x_hat": float(np.nanmedian(res["x_hat"].astype(float))),
                "sets_not_fitted": nfail,
            }
        )
        print(
            f"crossover at {x_true:g} (range {D_LO:g}..{hi:g}): 90% interval covers it in {cov:.1%} of "
            f"{len(res)} sets; estimate crosses in {found:.1%}; median width "
            f"{report['coverage'][-1]['median_width_decades']:.2f} decades",
            flush=True,
        )


def merge(files, out):
    """One report from runs of separate parts (or seeds): null sets and rejections add up."""
    parts = [json.loads(Path(f).read_text()) for f in files]
    merged = {
        "merged_from": [str(f) for f in files],
        "settings": [p["settings"] for p in parts],
        "law": parts[0]["law"],
        "data": parts[0]["data"],
        "power": [],
        "coverage": [],
        "cpu_seconds": sum(p["cpu_seconds"] for p in parts),
    }
    nulls = [p["null"] for p in parts if "null" in p]
    if nulls:
        k, n = sum(x["rejections"] for x in nulls), sum(x["sets"] for x in nulls)
        merged["null"] = {
            "arm_a": nulls[0]["arm_a"],
            "arm_b": nulls[0]["arm_b"],
            "sets": n,
            "rejections": k,
            "false_positive_rate": k / n,
            "wilson95": wilson(k, n),
            "rate_at_0.10": sum(x["rate_at_0.10"] * x["sets"] for x in nulls) / n,
            "interval_covers_0": sum(x["interval_covers_0"] * x["sets"] for x in nulls) / n,
            "sets_not_fitted": sum(x["sets_not_fitted"] for x in nulls),
            "rejections_with_std_se": sum(x.get("rejections_with_std_se", 0) for x in nulls),
            "sd_of_estimates": [x.get("sd_of_estimates") for x in nulls],
            "median_se_iqr": [x.get("median_se_iqr") for x in nulls],
            "median_se_std": [x.get("median_se_std") for x in nulls],
        }
        print(
            f"null: {k}/{n} rejections at 0.05 = {k / n:.1%} (95% Wilson {merged['null']['wilson95'][0]:.1%}-"
            f"{merged['null']['wilson95'][1]:.1%})"
        )
    for p in parts:
        merged["power"] += p.get("power", [])
        merged["coverage"] += p.get("coverage", [])
    Path(out).write_text(json.dumps(merged, indent=1) + "\n")
    print(f"wrote {out}")


def finish(report, args, t0, c0):
    report["cpu_seconds"] = time.process_time() - c0
    report["wall_seconds"] = time.perf_counter() - t0
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"CPU {report['cpu_seconds']:.0f} s, wall {report['wall_seconds']:.0f} s")
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
