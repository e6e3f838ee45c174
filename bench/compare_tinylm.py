"""``scalinglab.compare`` on the two bundled ladders: tinylm (depth 2-4) vs tinylm-shallow (depth 1).

Final checkpoints of both ladders, the Chinchilla law fitted per arm (Huber on log loss), compared
along each arm's compute-optimal frontier C = 6ND: exponent tests (alpha, beta), the crossover in
compute, and the compute multiplier of the shallow arm over tinylm (how much more compute the
one-block models need to reach tinylm's loss), with 90% intervals from 1,000 run-bootstrap
resamples per arm, in the compute range the two ladders span.  Also a fixed-budget view: power_law in N on
the runs trained to 1M tokens (every width of both ladders), where compute is proportional to N.

Run::

    python bench/compare_tinylm.py                       # the bundled datasets
    python bench/compare_tinylm.py sweeps/tinylm-shallow # a sweep output in progress
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

import scalinglab as sl  # noqa: E402
from scalinglab.render import save_figure  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--resamples=")]
    B = int(next((a.split("=")[1] for a in sys.argv[1:] if a.startswith("--resamples=")), 1000))
    if args:
        shallow = pd.read_csv(Path(args[0]) / "runs.csv")
    else:
        shallow = sl.datasets.load("tinylm-shallow")
    shallow = shallow[shallow["final"].astype(bool)]
    tiny = sl.datasets.load("tinylm").query("final")
    both = pd.concat([tiny.assign(arm="tinylm"), shallow.assign(arm="shallow")], ignore_index=True)
    cols = ["run", "arm", "params", "tokens", "loss"]
    c0 = time.process_time()
    lo = float((6 * both["params"] * both["tokens"]).min())
    hi = float((6 * both["params"] * both["tokens"]).max())
    r = sl.compare(both[cols], "arm", "chinchilla", resamples=B, scale_range=(lo, hi), reference="tinylm")
    print(r.summary())
    RESULTS.mkdir(exist_ok=True)
    save_figure(r.figure(), RESULTS / "compare_tinylm.png")
    # fixed token budget: loss vs N at 1M tokens (both ladders trained every width to 1M); at fixed D the
    # compute C = 6ND is proportional to N, so the parameter multiplier is the compute multiplier
    at1m = both[both["token_budget"] == 999424]
    r2 = sl.compare(at1m[cols], "arm", "power_law", x="params", resamples=B, reference="tinylm")
    print("\nAt a fixed budget of 1M tokens, loss vs N (power_law):\n" + r2.summary())
    save_figure(r2.figure(), RESULTS / "compare_tinylm_1M.png")
    cpu = time.process_time() - c0
    out = {
        "runs": {"tinylm": int(tiny["run"].nunique()), "shallow": int(shallow["run"].nunique())},
        "frontier": r.to_dict(),
        "fixed_1M": r2.to_dict(),
        "cpu_seconds": cpu,
    }
    (RESULTS / "compare_tinylm.json").write_text(json.dumps(out, allow_nan=False) + "\n")
    md = [
        "# tinylm vs tinylm-shallow (`python bench/compare_tinylm.py`)",
        "",
        "```",
        r.summary(),
        "```",
        "",
        "Fixed budget (1M tokens), loss vs N (at fixed D, compute is proportional to N):",
        "",
        "```",
        r2.summary(),
        "```",
        "",
        f"CPU {cpu:.1f} s",
    ]
    (RESULTS / "compare_tinylm.md").write_text("\n".join(md) + "\n")
    print(f"\nCPU {cpu:.1f} s; wrote {RESULTS / 'compare_tinylm.json'}")


if __name__ == "__main__":
    main()
