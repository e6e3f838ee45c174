"""``scalinglab.compare`` on "Revisiting Neural Scaling Laws" (Alabdulmohsin et al. 2022): data-scaling
exponents per architecture, their differences and crossovers.

Data: ``$SCALINGLAB_SHARED/data/revisiting-nsl`` (PROVENANCE.md there): NMT log-perplexity of five
encoder/decoder layouts (the curves of Bansal et al. 2022, "Data Scaling Laws in NMT"), and
image-classification few-shot error of six backbones (ViT, BiT, MiX) on 12 tasks (IC: the benchmark's
fitting points, ``Training == 1``; NMT: every point).  x is seen
examples (data), so the arms are compared in data: exponents, crossovers in data and the data
multiplier.  The law is M3, ``L = beta (1/x + gamma)^c`` (the estimator the paper attributes to
Bansal et al.; exponent c), fitted per arm with the default Huber objective on log loss.

Caveat printed with the results: each arm is ONE training run evaluated at many checkpoints (no
``run`` column), so the bootstrap resamples points, not runs: the intervals include the scatter
of the checkpoints around the law but not run-to-run (seed) variation, and checkpoints of one run
are correlated.  They are lower bounds on the uncertainty of the exponents.

Run::

    OMP_NUM_THREADS=1 nice -n 15 python bench/compare_revisiting.py            # a few CPU-minutes
    python bench/compare_revisiting.py --quick                                   # NMT only, 200 resamples
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from scalinglab.analyze.compare import compare  # noqa: E402
from scalinglab.render import save_figure  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHARED = Path(os.environ.get("SCALINGLAB_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATA = SHARED / "data" / "revisiting-nsl"
BANSAL = (
    "Bansal et al. (2022) report that the architectures they compare scale with data at similar exponents: "
    "architecture changes mostly the offset, not the data-scaling exponent."
)


def load(domain: str) -> pd.DataFrame:
    f = DATA / ("benchmark.lang.csv" if domain == "NMT" else "benchmark.vision.csv")
    df = pd.read_csv(f).drop_duplicates()
    df = df[df["Domain"] == domain]
    return pd.DataFrame(
        {
            "task": df["Task"].astype(str),
            "arm": df["Model"].astype(str),
            "examples": df["Seen Examples"].astype(float),
            "loss": df["Loss"].astype(float),
            "held_out": df["Training"] == 0,
        }
    ).reset_index(drop=True)


def run(frame: pd.DataFrame, resamples: int, seed: int) -> dict:
    lo, hi = float(frame["examples"].min()), float(frame["examples"].max())
    r = compare(
        frame[["arm", "examples", "loss"]],
        "arm",
        "M3",
        x="examples",
        resamples=resamples,
        seed=seed,
        scale_range=(lo, hi),
    )
    return r


def without_data(result: dict) -> dict:
    """The analysis without the data points it was fitted to: the public data stays in
    $SCALINGLAB_SHARED and is not copied into this repository's results."""
    slim = {k: v for k, v in result.items() if k != "points"}
    slim["fits"] = {arm: {k: v for k, v in fit.items() if k != "data"} for arm, fit in result.get("fits", {}).items()}
    return slim


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--ic-resamples", type=int, default=200)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tasks", nargs="*", help="IC tasks to compare (default: all 12)")
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    out = {"law": "M3", "exponent": "c", "bootstrap": "points (one run per arm)", "bansal": BANSAL}

    # ---- NMT: five layouts, one task ---------------------------------------------------------
    nmt = load("NMT")
    r = run(nmt, 200 if args.quick else args.resamples, 0)
    print(r.summary())
    print()
    out["nmt"] = {
        "per_arm": [
            {
                "arm": a["arm"],
                "points": a["points"],
                "c": a["params"]["c"],
                "c_interval": a["intervals"]["c"],
                "rmse_log": a["rmse_log"],
            }
            for a in r.per_arm
        ],
        "tests": r.tests,
        "crossovers": r.crossovers,
        "multipliers_at": {},
        "result": without_data(r.to_dict()),
    }
    xs = np.geomspace(nmt["examples"].min(), nmt["examples"].max(), 3)
    for arm in r.multipliers["arms"]:
        out["nmt"]["multipliers_at"][arm] = {
            f"{x:.3g}": (float(m) if np.isfinite(m) else None) for x, m in zip(xs, r.multiplier(arm, xs))
        }
    RESULTS.mkdir(exist_ok=True)
    save_figure(r.figure(), RESULTS / "compare_revisiting_nmt.png")
    cs = [a["params"]["c"] for a in r.per_arm]
    n_sig = sum(t["p_holm"] is not None and t["p_holm"] < 0.05 for t in r.tests)
    print(
        f"NMT: exponent c from {min(cs):.3f} to {max(cs):.3f} (spread {max(cs) - min(cs):.3f}); "
        f"{n_sig} of {len(r.tests)} pairs differ at Holm-adjusted 0.05"
    )
    print(BANSAL, flush=True)

    name = "compare_revisiting_quick.json" if args.quick else "compare_revisiting.json"

    def write():
        out["cpu_seconds"] = time.process_time() - c0
        out["wall_seconds"] = time.perf_counter() - t0
        (RESULTS / name).write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")

    write()
    # ---- image classification: six backbones per task --------------------------------------------
    out["ic"] = []
    if not args.quick:
        ic = load("IC")
        ic = ic[~ic["held_out"]]  # the benchmark's fitting points (the held-out plateau is dense and noisy)
        if args.tasks:
            ic = ic[ic["task"].isin(args.tasks)]
        for task, g in ic.groupby("task", sort=True):
            try:
                r = run(g, args.ic_resamples, 0)
            except Exception as err:
                out["ic"].append({"task": task, "error": str(err)})
                print(f"IC {task}: not compared ({err})")
                continue
            cs = {a["arm"]: a["params"]["c"] for a in r.per_arm}
            sig = [t for t in r.tests if t["p_holm"] is not None and t["p_holm"] < 0.05]
            cross = [c for c in r.crossovers if c["crosses"]]
            out["ic"].append(
                {
                    "task": task,
                    "c": cs,
                    "c_interval": {a["arm"]: a["intervals"]["c"] for a in r.per_arm},
                    "rmse_log": {a["arm"]: a["rmse_log"] for a in r.per_arm},
                    "pairs": len(r.tests),
                    "pairs_differ_holm05": len(sig),
                    "crossovers": [c["statement"] for c in cross],
                    "failed": r.failed,
                }
            )
            print(
                f"IC {task}: c = "
                + ", ".join(f"{k} {v:.3g}" for k, v in cs.items())
                + f"; {len(sig)}/{len(r.tests)} pairs differ (Holm 0.05); {len(cross)} crossovers in data range",
                flush=True,
            )
            write()  # after every task: a stopped run keeps what it finished
    write()
    print(f"CPU {out['cpu_seconds']:.0f} s; wrote {RESULTS / name}")


if __name__ == "__main__":
    main()
